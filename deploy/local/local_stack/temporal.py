"""Temporal development server with a SQLite file, and its web UI."""

import subprocess
from pathlib import Path

from .config import HOST, venv_tool
from .engine import Engine, Program, port_accepts

NAMESPACE = "default"


class Temporal(Engine):
    name = "temporal"
    port_names = (
        "DINGZE_TEMPORAL_PORT",
        "DINGZE_TEMPORAL_UI_PORT",
        "DINGZE_TEMPORAL_HTTP_PORT",
        "DINGZE_TEMPORAL_METRICS_PORT",
    )
    start_timeout = 60.0

    @property
    def home(self) -> Path:
        return self.config.stack_dir / "temporal"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.config.port('DINGZE_TEMPORAL_PORT')}"

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)

    def program(self) -> Program:
        port = self.config.port
        command = [
            venv_tool("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.home / "temporal.db"),
            # A write-ahead log, synced at checkpoints: about five times the
            # workflow rate of the default rollback journal on this machine's disk.
            # A killed server loses nothing; a power cut may lose the last writes.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--ip",
            HOST,
            "--port",
            str(port("DINGZE_TEMPORAL_PORT")),
            "--ui-ip",
            HOST,
            "--ui-port",
            str(port("DINGZE_TEMPORAL_UI_PORT")),
            # Both default to a random free port, so clients could not find them.
            "--http-port",
            str(port("DINGZE_TEMPORAL_HTTP_PORT")),
            "--metrics-port",
            str(port("DINGZE_TEMPORAL_METRICS_PORT")),
            # The UI would otherwise fetch a newsfeed from an outside host.
            "--ui-disable-news-fetch",
        ]
        return Program(self.name, command, priority=30, directory=self.home)

    def responds(self) -> bool:
        command = [
            venv_tool("temporal"),
            "operator",
            "namespace",
            "describe",
            "--namespace",
            NAMESPACE,
            "--address",
            self.address,
            "--command-timeout",
            "3s",
            "--output",
            "none",
        ]
        try:
            result = subprocess.run(
                command, capture_output=True, timeout=10, check=False
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0 and port_accepts(
            self.config.port("DINGZE_TEMPORAL_UI_PORT")
        )
