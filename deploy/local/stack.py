"""Start, stop and inspect the local development stack.

Run it with the project's virtual environment, as the Makefile's stack-* targets
do: `.venv/bin/python deploy/local/stack.py up`.
"""

import argparse
import sys

from local_stack import commands
from local_stack.config import ConfigError, load_config
from local_stack.output import StackError, print_error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        choices=["up", "down", "status", "env"],
        help="up installs what is missing, starts and waits until ready. "
        "down stops every program and supervisord. "
        "status prints each program's state and exits 1 unless all engines are ready. "
        "env prints the client settings as shell export lines.",
    )
    args = parser.parse_args()

    try:
        config = load_config()
        if args.command == "up":
            commands.up(config)
        elif args.command == "down":
            commands.down(config)
        elif args.command == "status":
            return 0 if commands.status(config) else 1
        else:
            commands.print_env(config)
    except (ConfigError, StackError) as error:
        print_error(str(error))
        return 1
    except KeyboardInterrupt:
        print_error("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
