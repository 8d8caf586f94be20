from workflows.evidence.worker import main

# The decoding processes start with spawn, which imports this module again under
# another name: only the process started with -m runs the worker.
if __name__ == "__main__":
    main()
