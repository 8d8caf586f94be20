"""Run the four services, the workers and the insurer simulator as real processes.

Each test session gets its own database, topic prefix, consumer groups and task queue,
so it shares the stack's engines with a running demo without taking its messages or
adding cases to its officer queue.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import httpx

from demo.client import ServiceUrls
from identity.tokens import create_signing_key
from tests.support.webhook_receiver import write_self_signed_cert

ROOT = Path(__file__).resolve().parents[2]
# Six processes importing at once on a busy 2-core machine have taken over 60 s.
START_TIMEOUT_SECONDS = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def numbered(name: str, count: int) -> list[str]:
    """Name ``count`` copies of a process: ``name``, then ``name-2``, ``name-3``…"""
    return [name if index == 1 else f"{name}-{index}" for index in range(1, count + 1)]


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class SessionDatabase:
    """A database that one test session creates and drops, beside ``server_url``'s.

    The role in ``server_url`` needs CREATEDB, and it owns the new database.
    """

    server_url: str
    name: str

    @property
    def url(self) -> str:
        parts = urlsplit(self.server_url)
        return urlunsplit(parts._replace(path=f"/{self.name}"))

    def create(self) -> None:
        asyncio.run(self._execute(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        """Drop the database, closing the connections a killed process left open."""
        sql = f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'
        asyncio.run(self._execute(sql))

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.server_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


@dataclass
class PlatformProcesses:
    """The processes of one isolated copy of the platform."""

    log_dir: Path
    env: dict[str, str]
    urls: ServiceUrls
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        log_dir: Path,
        run_id: str,
        database_url: str,
        signing_key: Path | None = None,
    ) -> "PlatformProcesses":
        """Describe the processes; a token signing key is made when none is given."""
        if signing_key is None:
            signing_key = log_dir / "token-signing-key.pem"
            create_signing_key(signing_key)
        ports = {
            name: free_port() for name in ("intake", "liability", "insurance", "notify")
        }
        # Insurance trusts this certificate, which the tests' webhook receivers use.
        webhook_cert, _ = write_self_signed_cert(log_dir)
        env = {
            **os.environ,
            # Each service derives its own role's URL from this one, in common.db.
            "DINGZE_DATABASE_URL": database_url,
            "DINGZE_KAFKA_TOPIC_PREFIX": f"test-{run_id}.",
            "DINGZE_TEMPORAL_TASK_QUEUE": f"cases-test-{run_id}",
            "DINGZE_SIMULATED_SETTLE_DELAY_SECONDS": "0",
            "DINGZE_IDENTITY_PROVIDER": "local",
            "DINGZE_IDENTITY_SIGNING_KEY_FILE": str(signing_key),
            "DINGZE_INSURANCE_WEBHOOK_CA_FILE": str(webhook_cert),
            "DINGZE_INSURANCE_WEBHOOK_FIRST_DELAY_SECONDS": "0.2",
            "DINGZE_INSURANCE_WEBHOOK_MAX_ATTEMPTS": "4",
            "DINGZE_INSURANCE_WEBHOOK_POLL_SECONDS": "0.2",
            # Every sample case uses the same two phone numbers.
            "DINGZE_NOTIFY_RATE_PER_NUMBER": "10000",
            # Every test's phone requests its codes from 127.0.0.1; the limit
            # tests send addresses of their own.
            "DINGZE_PARTY_CODE_REQUESTS_PER_CLIENT": "1000",
            # The smallest part S3 takes, so a test video of a few MiB has parts.
            "DINGZE_INTAKE_PART_SIZE_BYTES": str(5 * 1024 * 1024),
            **{
                f"DINGZE_{name.upper()}_PORT": str(port) for name, port in ports.items()
            },
        }
        urls = ServiceUrls(
            intake=f"http://127.0.0.1:{ports['intake']}",
            liability=f"http://127.0.0.1:{ports['liability']}",
            notify=f"http://127.0.0.1:{ports['notify']}",
        )
        log_dir.mkdir(parents=True, exist_ok=True)
        return cls(log_dir=log_dir, env=env, urls=urls)

    def start(self, name: str, module: str, env: dict[str, str] | None = None) -> None:
        """Start a process; ``env`` overrides some of the session's settings."""
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_all(self, case_workers: int = 1, evidence_workers: int = 1) -> None:
        """Start the services, the workers and the insurer simulator.

        The first case worker is named ``worker`` and the first evidence worker
        ``evidence``; more of either get ``-2``, ``-3``… after the name.
        """
        for name in ("intake", "liability", "insurance", "notify"):
            self.start(name, f"services.{name}")
        workers = {
            **dict.fromkeys(numbered("worker", case_workers), "workflows.case"),
            **dict.fromkeys(
                numbered("evidence", evidence_workers), "workflows.evidence"
            ),
        }
        for name, module in workers.items():
            self.start(name, module)
        self.start("simulator", "simulators.insurer")
        for name in ("intake", "liability", "insurance", "notify"):
            self.wait_healthy(name)
        for name, module in workers.items():
            kind = "case" if module == "workflows.case" else "evidence"
            self.wait_for_log(name, f"{kind} worker started")
        self.wait_for_log("simulator", "insurer simulator started")

    def wait_healthy(self, name: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
        port = self.env[f"DINGZE_{name.upper()}_PORT"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                    == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(
            f"{name} did not become healthy in {timeout} s; see {self.log(name)}"
        )

    def wait_for_log(
        self,
        name: str,
        text: str,
        timeout: float = START_TIMEOUT_SECONDS,
        offset: int = 0,
    ) -> None:
        """Wait until the log contains ``text`` past its first ``offset`` characters."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            if text in self.log_text(name)[offset:]:
                return
            time.sleep(0.2)
        raise TimeoutError(
            f"{name} did not log {text!r} in {timeout} s; see {self.log(name)}"
        )

    def kill(self, name: str) -> None:
        """Kill a process with SIGKILL, as a crash would."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def log_names(self) -> list[str]:
        return sorted(path.stem for path in self.log_dir.glob("*.log"))

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def log_text(self, name: str) -> str:
        return self.log(name).read_text(encoding="utf-8", errors="replace")

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {process.returncode}; last lines:\n"
                + "\n".join(self.log_text(name).splitlines()[-20:])
            )


async def sms_deliveries(database_url: str, case_id: UUID) -> Counter[str]:
    """Count the local SMS provider's deliveries of each message of a case.

    Reads the provider's own table, one row per send, so a message sent twice counts
    two whatever the logs show.
    """
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT message_id, count(*) AS sends FROM notify.local_deliveries"
            " WHERE message_id LIKE $1 GROUP BY message_id",
            f"{case_id}:%",
        )
    finally:
        await connection.close()
    return Counter({row["message_id"]: row["sends"] for row in rows})


async def sms_deliveries_when(
    database_url: str, case_id: UUID, messages: int, wait_seconds: float = 30.0
) -> Counter[str]:
    """Count a case's deliveries once ``messages`` distinct messages were sent.

    A case's workflow can finish before the notify service sends its last message,
    so a count taken at once may miss it. Returns what was sent by the deadline.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        sends = await sms_deliveries(database_url, case_id)
        if len(sends) >= messages or time.monotonic() > deadline:
            return sends
        await asyncio.sleep(0.2)
