from workflows.case.worker import main

main()
