"""Peak memory and CPU of the platform's processes while a load runs."""

import threading
from dataclasses import dataclass, field

import psutil


@dataclass
class Usage:
    peak_rss_mb: float = 0.0
    peak_cpu_percent: float = 0.0
    cpu_seconds: float = 0.0
    samples: int = 0


@dataclass
class ResourceSampler:
    """Sample each named process every ``interval`` seconds on a background thread.

    CPU percent is of one core, as ``top`` shows it: a process busy on both cores of a
    2-core machine reads 200.
    """

    pids: dict[str, int]
    interval: float = 0.5
    usage: dict[str, Usage] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _start_cpu: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> "ResourceSampler":
        self._processes = {name: psutil.Process(pid) for name, pid in self.pids.items()}
        for name, process in self._processes.items():
            self.usage[name] = Usage()
            process.cpu_percent(None)
            times = process.cpu_times()
            self._start_cpu[name] = times.user + times.system
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        for name, process in self._processes.items():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self.usage[name].cpu_seconds = (
                times.user + times.system - self._start_cpu[name]
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, process in self._processes.items():
                try:
                    rss = process.memory_info().rss / 2**20
                    cpu = process.cpu_percent(None)
                except psutil.Error:
                    continue
                usage = self.usage[name]
                usage.peak_rss_mb = max(usage.peak_rss_mb, rss)
                usage.peak_cpu_percent = max(usage.peak_cpu_percent, cpu)
                usage.samples += 1
