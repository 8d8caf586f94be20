"""The targets of a chaos run: the platform's processes and the stack's engines.

Every target dies by SIGKILL, as in a crash, stays down for the pause, and is then
started again by this run, never by supervisord's own restart, so the pause is real.
"""

import asyncio
import logging
import os
import signal
import time
import xmlrpc.client
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from supervisor.xmlrpc import SupervisorTransport  # type: ignore[import-untyped]

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from common.temporal import connect_temporal
from tests.support.platform import ROOT, PlatformProcesses

# The platform's processes as PlatformProcesses names them, with their modules.
SERVICES = ("intake", "liability", "insurance", "notify")
WORKERS = {
    "worker": ("workflows.case", "case worker started"),
    "evidence": ("workflows.evidence", "evidence worker started"),
    "simulator": ("simulators.insurer", "insurer simulator started"),
}
# The stack's engines, as supervisord's group "engines" names them.
ENGINES = ("kafka", "temporal", "postgres", "seaweedfs")
# Seven Python processes importing at once on a 2-core machine under a load
# average of 30 have taken over 3 minutes to serve again.
READY_SECONDS = 600.0


class Target(Protocol):
    name: str

    def kill(self) -> int:
        """Kill the target with SIGKILL and return the process id killed."""
        ...

    def start(self) -> None: ...

    def exit_code(self) -> int | None:
        """Return the exit code if the target ended by itself, else None."""
        ...

    async def wait_ready(self, seconds: float = READY_SECONDS) -> None: ...


@dataclass
class PlatformProcess:
    """One process of the platform copy that this run started as its child."""

    processes: PlatformProcesses
    name: str
    module: str
    ready_line: str | None = None
    _log_offset: int = 0

    def kill(self) -> int:
        pid = self.processes.processes[self.name].pid
        self.processes.kill(self.name)
        return pid

    def start(self) -> None:
        exists = self.processes.log(self.name).exists()
        self._log_offset = len(self.processes.log_text(self.name)) if exists else 0
        self.processes.start(self.name, self.module)

    def exit_code(self) -> int | None:
        process = self.processes.processes.get(self.name)
        return None if process is None else process.poll()

    async def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        if self.ready_line is None:
            await asyncio.to_thread(self.processes.wait_healthy, self.name, seconds)
        else:
            await asyncio.to_thread(
                self.processes.wait_for_log,
                self.name,
                self.ready_line,
                seconds,
                self._log_offset,
            )


def platform_targets(processes: PlatformProcesses) -> list[PlatformProcess]:
    targets = [
        PlatformProcess(processes, name, f"services.{name}") for name in SERVICES
    ]
    for name, (module, ready_line) in WORKERS.items():
        targets.append(PlatformProcess(processes, name, module, ready_line))
    return targets


def supervisor_rpc() -> Any:
    """Return an XML-RPC proxy of the stack's supervisord, by its socket."""
    socket_file = ROOT / ".stack" / "supervisor.sock"
    transport = SupervisorTransport(None, None, f"unix://{socket_file}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


@dataclass
class StackEngine:
    """One engine of the stack, run by the stack's supervisord.

    ``kill`` freezes the engine's process group with SIGSTOP, calls supervisord's
    ``stopProcess`` for the program, and then sends SIGKILL to the group. The
    frozen engine never runs its stop signal's handler, so it dies as in a crash,
    and supervisord does not restart a program after a stop request.
    ``start`` calls supervisord's ``startProcess`` after the pause.
    """

    name: str
    settings: PlatformSettings

    @property
    def program(self) -> str:
        return f"engines:{self.name}"

    def kill(self) -> int:
        rpc = supervisor_rpc()
        info = rpc.supervisor.getProcessInfo(self.program)
        if info["statename"] != "RUNNING":
            raise RuntimeError(
                f"{self.program} is {info['statename']}, not RUNNING: "
                "run make stack-up before the chaos run"
            )
        pid = int(info["pid"])
        # supervisord makes each program the leader of its own process group.
        group = os.getpgid(pid)
        os.killpg(group, signal.SIGSTOP)
        try:
            rpc.supervisor.stopProcess(self.program, False)
        finally:
            os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while rpc.supervisor.getProcessInfo(self.program)["statename"] != "STOPPED":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.program} did not stop after SIGKILL")
            time.sleep(0.1)
        return pid

    def start(self) -> None:
        supervisor_rpc().supervisor.startProcess(self.program, False)

    def exit_code(self) -> int | None:
        # supervisord starts an engine that crashed by itself again.
        return None

    async def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                await asyncio.wait_for(self._check(), timeout=10)
                return
            except Exception as error:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{self.name} not ready {seconds:.0f} s after its restart: "
                        f"{error!r}; see .stack/logs/{self.name}.log"
                    ) from error
                await asyncio.sleep(0.5)

    async def _check(self) -> None:
        """Make one request with the application's own client."""
        if self.name == "postgres":
            connection = await asyncpg.connect(self.settings.database_url)
            try:
                await connection.fetchval("SELECT 1")
            finally:
                await connection.close()
        elif self.name == "kafka":
            # The client logs every refused connection at ERROR; the probe's
            # failures are expected while the broker restarts.
            logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
            admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
            await admin.start()
            try:
                await admin.list_topics()
            finally:
                await admin.close()
        elif self.name == "temporal":
            client = await connect_temporal(self.settings, wait_seconds=0)
            await client.service_client.check_health()
        else:
            # Listing fails while the store is down or the bucket is missing.
            await EvidenceStore(self.settings).list_keys("readiness-probe/")


def engine_targets(settings: PlatformSettings) -> list[StackEngine]:
    return [StackEngine(name, settings) for name in ENGINES]
