"""Measure the engines' limits and the platform's case rate in one run.

Starts an isolated copy of the platform (its own database, topic prefix and task
queue) on the running stack, measures each engine, then drives cases at each rate
from a separate load process while sampling the platform's processes. Prints the
tables and writes JSON, text and a PNG chart to ``bench-results/``.

    python -m bench                      # the full run, up to about fifteen minutes
    python -m bench --rates 5 10 --seconds 20
    python -m bench --smoke              # a short run that checks the harness
"""

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

from bench import report
from bench.engines import EngineSizes, measure_engines
from bench.resources import ResourceSampler, engine_pids
from bench.summary import render, saturated, summarise
from common.migrate import migrate
from common.settings import PlatformSettings
from common.temporal import connect_temporal, exit_now
from evidence.sample_video import write_walkaround_video
from tests.support.platform import ROOT, PlatformProcesses, SessionDatabase, new_run_id

FULL_RATES = [1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0]
LOAD_GENERATOR = "load generator"
SMOKE_SIZES = EngineSizes(
    workflows=30,
    kafka_records=500,
    kafka_pings=20,
    rows=200,
    objects=50,
    concurrency=16,
)


STARTED = time.monotonic()


def progress(text: str) -> None:
    print(
        f"==> [{time.monotonic() - STARTED:5.1f} s] {text}", file=sys.stderr, flush=True
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=FULL_RATES,
        help="offered rates in cases a second, run from the lowest up",
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="how long each rate is held"
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=120.0,
        help="how long a rate's cases may take to settle after the last submission",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--case-workers",
        type=int,
        default=1,
        help="case worker processes (workflows, starter, outbox relay) to run",
    )
    parser.add_argument(
        "--evidence-workers",
        type=int,
        default=1,
        help="evidence worker processes (hashing, decoding, thumbnails) to run",
    )
    parser.add_argument(
        "--no-engines",
        action="store_true",
        help="skip the engines' own limits and measure only the platform",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="small sizes and one low rate, to check the harness",
    )
    args = parser.parse_args()
    if args.case_workers < 1 or args.evidence_workers < 1:
        parser.error("--case-workers and --evidence-workers must be 1 or more")
    if args.smoke:
        args.rates = [2.0]
        args.seconds = 3.0
        args.drain_seconds = 60.0
    return args


def engine_versions(database_version: str) -> dict[str, str]:
    def output(*command: str) -> str:
        try:
            text = subprocess.run(
                command, capture_output=True, text=True, check=False, timeout=30
            ).stdout
        except OSError as error:
            return f"unknown ({error})"
        return text.strip().splitlines()[0] if text.strip() else "unknown"

    bin_dir = Path(sys.executable).parent
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    kafka = pom.split("<kafka.version>", 1)[1].split("<", 1)[0]
    return {
        "kafka": f"Apache Kafka {kafka} (KRaft)",
        "temporal": output(str(bin_dir / "temporal"), "--version"),
        "postgresql": database_version,
        "seaweedfs": output(str(bin_dir / "weed"), "version"),
        "temporalio": metadata.version("temporalio"),
        "aiokafka": metadata.version("aiokafka"),
        "faststream": metadata.version("faststream"),
        "python": platform.python_version(),
    }


async def database_version(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        version: str = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return f"PostgreSQL {version}"


@dataclass(frozen=True)
class SamplingOptions:
    """Sampling settings of a load run, and extra arguments for the load process."""

    interval: float = 0.5
    # Keep every resident-memory sample of each process as ``memory_series``.
    keep_series: bool = False
    load_args: tuple[str, ...] = ()
    # Called about every ``report_every`` seconds while the load runs, with the
    # latest resident MiB of each process.
    report: Callable[[dict[str, float]], None] | None = None
    report_every: float = 60.0


def run_load(  # noqa: PLR0917
    processes: PlatformProcesses,
    rate: float,
    seconds: float,
    drain: float,
    video: Path,
    out: Path,
    engines: dict[str, int] | None = None,
    options: SamplingOptions | None = None,
) -> dict[str, Any]:
    """Run one rate in a load process while sampling the platform's processes.

    ``engines`` names the engines' process ids to sample as well.
    """
    options = options or SamplingOptions()
    pids = {name: process.pid for name, process in processes.processes.items()}
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--rate",
        str(rate),
        "--seconds",
        str(seconds),
        "--drain-seconds",
        str(drain),
        "--video",
        str(video),
        "--out",
        str(out),
        *options.load_args,
    ]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    samplers = [
        ResourceSampler(pids, options.interval, options.keep_series),
        ResourceSampler(engines or {}, options.interval, options.keep_series),
    ]
    with (
        samplers[0] as platform_sampler,
        samplers[1] as engine_sampler,
        subprocess.Popen(command, cwd=ROOT, env=processes.env) as load,
    ):
        platform_sampler.add(LOAD_GENERATOR, load.pid)
        _wait_reporting(load, samplers, options)
        if load.returncode != 0:
            raise subprocess.CalledProcessError(load.returncode, command)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = json.loads(out.read_text())
    usage = platform_sampler.usage
    generator = usage.pop(LOAD_GENERATOR)
    # The sampler cannot read an ended process; the kernel's account of the
    # waited-for load process is exact.
    generator.cpu_seconds = sum(
        getattr(children_after, field) - getattr(children_before, field)
        for field in ("ru_utime", "ru_stime")
    )
    result["resources"] = {name: asdict(u) for name, u in usage.items()}
    result["engine_resources"] = {
        name: asdict(u) for name, u in engine_sampler.usage.items()
    }
    result["load_generator"] = asdict(generator)
    result["machine"] = asdict(platform_sampler.machine)
    if options.keep_series:
        result["memory_series"] = platform_sampler.series | engine_sampler.series
        result["pss_series"] = platform_sampler.pss_series | engine_sampler.pss_series
        result["engine_names"] = sorted(engine_sampler.series)
        result["sampling_started_at"] = platform_sampler.started_at
    return result


def _wait_reporting(
    load: subprocess.Popen[bytes],
    samplers: list[ResourceSampler],
    options: SamplingOptions,
) -> None:
    if options.report is None:
        load.wait()
        return
    next_report = time.monotonic() + options.report_every
    while load.poll() is None:
        time.sleep(0.5)
        if time.monotonic() >= next_report:
            next_report += options.report_every
            latest = {
                name: series[-1][1]
                for sampler in samplers
                for name, series in sampler.series.items()
                if series
            }
            options.report(latest)


def measure_idle(
    processes: PlatformProcesses, engines: dict[str, int], seconds: float
) -> dict[str, float]:
    """Return the CPU seconds a second that each process uses with no load."""
    pids = {name: process.pid for name, process in processes.processes.items()}
    with ResourceSampler({**pids, **engines}) as sampler:
        time.sleep(seconds)
    return {
        name: usage.cpu_seconds / sampler.machine.seconds
        for name, usage in sampler.usage.items()
    }


def engine_processes(settings: PlatformSettings) -> dict[str, int]:
    """Find the local processes of the engines the platform uses, by their ports."""
    return engine_pids(
        {
            "Kafka": settings.kafka_bootstrap.split(",")[0],
            "PostgreSQL": settings.database_url,
            "S3 (SeaweedFS)": settings.s3_endpoint,
            "Temporal": settings.temporal_address,
        }
    )


async def engine_part(
    sizes: EngineSizes,
    settings: PlatformSettings,
    database_url: str,
    run_id: str,
    *,
    measure_limits: bool = True,
    temporal_pid: int | None = None,
) -> dict[str, Any]:
    """Measure the engines and start the results with the machine and versions."""
    engines = []
    if measure_limits:
        temporal = await connect_temporal(settings)
        engines = await measure_engines(
            settings, temporal, database_url, run_id, sizes, progress, temporal_pid
        )
    return {
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "versions": engine_versions(await database_version(database_url)),
        "engines": [asdict(e) for e in engines],
        "platform": [],
        "skipped_rates": [],
    }


@dataclass(frozen=True)
class IsolatedPlatform:
    processes: PlatformProcesses
    database_url: str
    run_id: str


@contextmanager
def isolated_platform(
    name: str, case_workers: int = 1, evidence_workers: int = 1
) -> Iterator[IsolatedPlatform]:
    """Start a copy of the platform on the running stack, and stop it afterwards.

    The copy has a database, topic prefix and task queue of its own, named after
    ``name`` and a fresh run id. The database is dropped at the end.
    """
    settings = PlatformSettings()
    run_id = new_run_id()
    database = SessionDatabase(settings.database_url, f"dingze_{name}_{run_id}")
    database.create()
    processes: PlatformProcesses | None = None
    try:
        migrate(database.url)
        log_dir = ROOT / ".stack" / f"{name}-logs" / run_id
        processes = PlatformProcesses.create(log_dir, run_id, database.url)
        processes.env["DINGZE_KAFKA_TOPIC_PREFIX"] = f"{name}-{run_id}."
        processes.env["DINGZE_TEMPORAL_TASK_QUEUE"] = f"cases-{name}-{run_id}"
        progress(f"starting an isolated platform (logs in {log_dir})")
        processes.start_all(case_workers, evidence_workers)
        yield IsolatedPlatform(processes, database.url, run_id)
    finally:
        if processes is not None:
            processes.stop_all()
        database.drop()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = PlatformSettings()
    with isolated_platform("bench", args.case_workers, args.evidence_workers) as copy:
        processes = copy.processes
        sizes = SMOKE_SIZES if args.smoke else EngineSizes()
        layout = {
            "case workers": args.case_workers,
            "evidence workers": args.evidence_workers,
            "decoding processes per evidence worker": (
                settings.evidence_decode_processes or os.cpu_count()
            ),
        }
        engines = engine_processes(settings)
        if engines:
            progress(f"sampling the engines' processes: {', '.join(sorted(engines))}")
        limits = not args.no_engines
        results = asyncio.run(
            engine_part(
                sizes,
                settings,
                copy.database_url,
                copy.run_id,
                measure_limits=limits,
                temporal_pid=engines.get("Temporal"),
            )
        )
        results["layout"] = layout
        with tempfile.TemporaryDirectory() as folder:
            video = write_walkaround_video(Path(folder) / "scene.mp4", seconds=6)
            size_kib = video.stat().st_size // 1024
            progress(f"warming up the platform ({size_kib} KiB video)")
            warm_up_seconds = 1.0 if args.smoke else 10.0
            run_load(
                processes, 2.0, warm_up_seconds, 60.0, video, Path(folder) / "warm.json"
            )
            idle_seconds = 2.0 if args.smoke else 10.0
            progress(f"measuring the idle platform's CPU for {idle_seconds:g} s")
            results["idle_cpu"] = measure_idle(processes, engines, idle_seconds)
            for rate in sorted(args.rates):
                if results["platform"] and saturated(results["platform"][-1]):
                    progress(f"skipping {rate:g} cases/s: the last rate saturated")
                    results["skipped_rates"].append(rate)
                    continue
                progress(f"platform at {rate:g} cases/s for {args.seconds:g} s")
                results["platform"].append(
                    run_load(
                        processes,
                        rate,
                        args.seconds,
                        args.drain_seconds,
                        video,
                        Path(folder) / f"rate-{rate:g}.json",
                        engines,
                    )
                )
        return results


def main() -> None:
    """Run the benchmark the command line requests and write its results."""
    args = parse_args()
    started = time.monotonic()
    results = measure(args)
    name = "bench-smoke" if args.smoke else "bench"
    written = finish(results, args.out, name)
    progress(
        f"results in {written}.{{txt,json,png}} "
        f"after {time.monotonic() - started:.0f} s"
    )
    exit_now(0)


def finish(results: dict[str, Any], folder: Path, name: str) -> Path:
    """Add the summary, print the tables and write the three result files."""
    results["summary"] = summarise(results)
    text = render(results)
    print(text)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2))
    stem.with_suffix(".txt").write_text(text + "\n")
    report.write_chart(results, str(stem.with_suffix(".png")))
    return stem
