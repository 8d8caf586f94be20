"""Progress and error messages of the stack commands."""

import sys
import time
from typing import NoReturn

_started = time.monotonic()


def step(message: str) -> None:
    """Print a progress line with the seconds since the command started."""
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", flush=True)


class StackError(Exception):
    """Failure of a stack command, with a message that names the fix."""


def fail(message: str) -> NoReturn:
    raise StackError(message)


def print_error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
