"""``python -m bench``: see bench.run for what it measures."""

from bench.run import main

main()
