"""The interface each engine of the stack implements."""

import socket
from dataclasses import dataclass
from pathlib import Path

from .config import HOST, StackConfig


@dataclass(frozen=True)
class Program:
    """A supervisord program: how to run one engine and how to stop it."""

    name: str
    command: list[str]
    priority: int
    directory: Path | None = None
    user: str | None = None
    stop_signal: str = "TERM"
    stop_wait_seconds: int = 30


class Engine:
    """One engine: install and initialise it, run it, and check that it serves."""

    name = ""
    # Keys of StackConfig.ports for every port the engine listens on.
    port_names: tuple[str, ...] = ()
    # Maximum seconds between the start of the process and a passing readiness check.
    start_timeout = 60.0

    def __init__(self, config: StackConfig) -> None:
        self.config = config

    def prepare(self) -> None:
        """Install what is missing and initialise data, before the process starts."""

    def program(self) -> Program:
        raise NotImplementedError

    def responds(self) -> bool:
        """Return whether the server responds to a request."""
        raise NotImplementedError

    def is_ready(self) -> bool:
        """Return whether the engine serves clients, including what finish() creates."""
        return self.responds()

    def finish(self) -> None:
        """Create what clients expect (users, databases, buckets) once ready.

        Runs on every start, so it must be idempotent.
        """


def port_accepts(port: int, timeout: float = 1.0) -> bool:
    """Return whether a TCP connection to 127.0.0.1:port succeeds."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int) -> bool:
    """Return whether this process could bind 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True
