"""Peak memory and CPU of the processes that serve a load, and of the machine.

Each named process is sampled with its child processes (PostgreSQL's backends, the
evidence worker's decoding processes), so its CPU seconds cover the whole tree.
"""

import os
import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class Usage:
    peak_rss_mb: float = 0.0
    peak_cpu_percent: float = 0.0
    cpu_seconds: float = 0.0
    samples: int = 0


@dataclass
class MachineUsage:
    """CPU of the whole machine while a load ran, used by any process.

    ``busy_cpu_seconds`` adds up every core's non-idle time, so the share of it that
    the sampled processes do not explain is other work on the machine.
    """

    seconds: float = 0.0
    busy_cpu_seconds: float = 0.0
    load_average_start: float = 0.0
    load_average_end: float = 0.0
    load_average_peak: float = 0.0


def tree_cpu_seconds(process: psutil.Process) -> tuple[float, float]:
    """Return the CPU seconds and resident MiB of a process and its descendants.

    The CPU of children that ended and were reaped counts through the parent's
    ``children_user`` and ``children_system``.
    """
    times = process.cpu_times()
    cpu = times.user + times.system + times.children_user + times.children_system
    rss = process.memory_info().rss / 2**20
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
            cpu += child_times.user + child_times.system
            rss += child.memory_info().rss / 2**20
        except psutil.Error:
            continue
    return cpu, rss


def tree_memory(process: psutil.Process) -> tuple[float, float]:
    """Return the resident and the proportional set size, in MiB, of a process and
    its descendants.

    RSS counts a page shared by several processes in each of them, so the RSS of
    PostgreSQL's backends adds up its shared buffers once per backend that touched
    them. PSS divides each shared page among the processes that map it, so a tree's
    PSS counts its memory once. Reading PSS needs ``/proc/<pid>/smaps_rollup``,
    which other users' processes allow to root only.
    """
    rss = pss = 0.0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return rss, pss
    for member in members:
        try:
            info = member.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss / 2**20
        pss += info.pss / 2**20
    return rss, pss


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


@dataclass
class ResourceSampler:
    """Sample each named process tree every ``interval`` seconds on a background
    thread, and the machine's CPU and load average over the same time.

    CPU percent is of one core, as ``top`` shows it: a process busy on both cores of a
    2-core machine reads 200. With ``keep_series``, ``series`` and ``pss_series``
    keep every sample of each tree's resident and proportional MiB (see
    ``tree_memory``) as (seconds since the sampler started, MiB), the first one
    taken when the tree is added.
    """

    pids: dict[str, int]
    interval: float = 0.5
    keep_series: bool = False
    usage: dict[str, Usage] = field(default_factory=dict)
    machine: MachineUsage = field(default_factory=MachineUsage)
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    pss_series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # Wall-clock time (seconds since the epoch) at which sampling started.
    started_at: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _processes: dict[str, psutil.Process] = field(default_factory=dict)
    _start_cpu: dict[str, float] = field(default_factory=dict)
    _last_cpu: dict[str, float] = field(default_factory=dict)
    _started: float = 0.0
    _start_busy: float = 0.0

    def add(self, name: str, pid: int) -> None:
        """Sample one more process tree from now on, such as a process just started."""
        process = psutil.Process(pid)
        cpu, _ = tree_cpu_seconds(process)
        self.usage[name] = Usage()
        self._start_cpu[name] = self._last_cpu[name] = cpu
        self._processes[name] = process
        if self.keep_series:
            self.series[name] = []
            self.pss_series[name] = []
            self._record_memory(name, process, self._elapsed())

    def _record_memory(self, name: str, process: psutil.Process, at: float) -> None:
        rss, pss = tree_memory(process)
        if rss:
            self.series[name].append((at, rss))
            self.pss_series[name].append((at, pss))

    def _elapsed(self) -> float:
        return time.monotonic() - self._started if self._started else 0.0

    def __enter__(self) -> "ResourceSampler":
        self._started = time.monotonic()
        self.started_at = time.time()
        for name, pid in self.pids.items():
            self.add(name, pid)
        self._start_busy = _busy_seconds()
        load = os.getloadavg()[0]
        self.machine.load_average_start = self.machine.load_average_peak = load
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        for name, process in self._processes.items():
            try:
                cpu = tree_cpu_seconds(process)[0]
            except psutil.Error:
                # An ended process keeps the CPU of its last sample.
                cpu = self._last_cpu[name]
            self.usage[name].cpu_seconds = cpu - self._start_cpu[name]
        self.machine.seconds = time.monotonic() - self._started
        self.machine.busy_cpu_seconds = _busy_seconds() - self._start_busy
        self.machine.load_average_end = os.getloadavg()[0]

    def _run(self) -> None:
        last = time.monotonic()
        # Samples keep to a fixed schedule, so the time one takes on a busy
        # machine does not stretch the interval. A late sample is taken at once.
        next_sample = last + self.interval
        while not self._stop.wait(max(next_sample - time.monotonic(), 0.0)):
            now = time.monotonic()
            next_sample = max(next_sample + self.interval, now)
            elapsed = max(now - last, 1e-6)
            last = now
            self.machine.load_average_peak = max(
                self.machine.load_average_peak, os.getloadavg()[0]
            )
            for name, process in list(self._processes.items()):
                try:
                    cpu, rss = tree_cpu_seconds(process)
                except psutil.Error:
                    continue
                usage = self.usage[name]
                percent = (cpu - self._last_cpu[name]) / elapsed * 100
                self._last_cpu[name] = cpu
                usage.peak_rss_mb = max(usage.peak_rss_mb, rss)
                usage.peak_cpu_percent = max(usage.peak_cpu_percent, percent)
                usage.samples += 1
                if self.keep_series:
                    self._record_memory(name, process, now - self._started)


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _split_address(address: str) -> tuple[str, int] | None:
    """Return the host and port of ``host:port``, ``http://host:port`` or a URL."""
    rest = address.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    if not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def engine_pids(addresses: dict[str, str]) -> dict[str, int]:
    """Find the process listening at each engine's loopback address.

    Engines on other hosts, and addresses no local process listens on, are left
    out. Listing other users' sockets needs root, so without it the result may be
    empty.
    """
    wanted: dict[int, str] = {}
    for name, address in addresses.items():
        split = _split_address(address)
        if split is not None and split[0] in LOOPBACK_HOSTS:
            wanted[split[1]] = name
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return {}
    found: dict[str, int] = {}
    for connection in connections:
        port = connection.laddr.port if connection.laddr else None
        if (
            connection.status == psutil.CONN_LISTEN
            and port in wanted
            and connection.pid is not None
        ):
            found[wanted[port]] = connection.pid
    return found
