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
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg

from bench import report
from bench.engines import EngineSizes, measure_engines
from bench.resources import ResourceSampler
from common.migrate import migrate
from common.settings import PlatformSettings
from common.temporal import connect_temporal, exit_now
from evidence.sample_video import write_walkaround_video
from tests.support.platform import ROOT, PlatformProcesses, SessionDatabase, new_run_id

FULL_RATES = [5.0, 10.0, 20.0, 50.0]
SMOKE_SIZES = EngineSizes(
    workflows=30,
    kafka_records=500,
    kafka_pings=20,
    rows=200,
    objects=50,
    concurrency=16,
)
SUSTAINED_SHARE = 0.9  # a rate is sustained when this share of it completes
SATURATED_SHARE = 0.5  # higher rates are skipped after one settling less than this
TARGET_QUEUED_P99_MS = 1000
TARGET_NOTIFIED_P99_MS = 500
TARGET_AT_RATE = 50.0


STARTED = time.monotonic()


def progress(text: str) -> None:
    print(
        f"==> [{time.monotonic() - STARTED:5.1f} s] {text}", file=sys.stderr, flush=True
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=FULL_RATES)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="how long each rate is held"
    )
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="small sizes and one low rate, to check the harness",
    )
    args = parser.parse_args()
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


def run_load(  # noqa: PLR0917
    processes: PlatformProcesses,
    rate: float,
    seconds: float,
    drain: float,
    video: Path,
    out: Path,
) -> dict[str, Any]:
    """Run one rate in a load process while sampling the platform's processes."""
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
    ]
    with ResourceSampler(pids) as sampler:
        subprocess.run(command, cwd=ROOT, env=processes.env, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    result["resources"] = {name: asdict(u) for name, u in sampler.usage.items()}
    return result


def saturated(load: dict[str, Any]) -> bool:
    """Return whether a rate left so many cases unsettled that a higher one is moot."""
    settled: int = load["settled"]
    offered: int = load["offered"]
    return settled < SATURATED_SHARE * offered


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    temporal = next(e for e in results["engines"] if e["engine"] == "Temporal")
    temporal_rate = temporal["count"] / temporal["seconds"]
    sustained = [
        load["completed_per_second"]
        for load in results["platform"]
        if not load["errors"]
        and load["settled"] == load["offered"]
        and load["completed_per_second"] >= SUSTAINED_SHARE * load["rate"]
    ]
    best = max(sustained, default=0.0)
    at_target = next(
        (load for load in results["platform"] if load["rate"] == TARGET_AT_RATE), None
    )
    summary: dict[str, Any] = {
        "temporal_empty_workflows_per_second": temporal_rate,
        "best_sustained_cases_per_second": best,
        "ratio_to_temporal": best / temporal_rate if temporal_rate else 0.0,
        "target_half_of_temporal_met": best >= temporal_rate / 2,
    }
    if at_target:
        queued = at_target["spans_ms"]["submit_to_queued"]["p99"]
        notified = at_target["spans_ms"]["ruling_to_insurers_notified"]["p99"]
        summary["target_queued_p99_met"] = (
            queued is not None and queued < TARGET_QUEUED_P99_MS
        )
        summary["target_notified_p99_met"] = (
            notified is not None and notified < TARGET_NOTIFIED_P99_MS
        )
    return summary


def met(flag: bool) -> str:
    return "met" if flag else "missed"


def render(results: dict[str, Any]) -> str:
    machine = results["machine"]
    summary = results["summary"]
    lines = [
        f"Machine: {machine['cores']} cores, {machine['platform']}",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
        "",
        "Engines (one client process each, same machine, same run)",
        report.engines_table(results["engines"]),
        "",
        "Platform (cases through the real APIs; a case counts when it settles)",
        report.platform_table(results["platform"]),
        "",
        "Platform processes at each rate",
        report.resources_table(results["platform"]),
        "",
        f"Best sustained case rate: {summary['best_sustained_cases_per_second']:.1f}/s;"
        f" Temporal empty workflows: "
        f"{summary['temporal_empty_workflows_per_second']:.1f}/s;"
        f" ratio {summary['ratio_to_temporal']:.3f}"
        f" (target ≥ 0.5: {met(summary['target_half_of_temporal_met'])})",
    ]
    if "target_queued_p99_met" in summary:
        lines.append(
            f"At {TARGET_AT_RATE:g}/s: submit→queued p99 < {TARGET_QUEUED_P99_MS} ms "
            f"{'met' if summary['target_queued_p99_met'] else 'missed'}; "
            f"ruling→insurers p99 < {TARGET_NOTIFIED_P99_MS} ms "
            f"{'met' if summary['target_notified_p99_met'] else 'missed'}"
        )
    if results["skipped_rates"]:
        skipped = ", ".join(f"{rate:g}" for rate in results["skipped_rates"])
        lines.append(f"Skipped rates (cases/s): {skipped}, after a saturated rate")
    errors = report.errors_lines(results["platform"])
    if errors:
        lines += ["", "Errors:", *errors]
    return "\n".join(lines)


async def engine_part(
    sizes: EngineSizes, settings: PlatformSettings, database_url: str, run_id: str
) -> dict[str, Any]:
    """Measure the engines and start the results with the machine and versions."""
    temporal = await connect_temporal(settings)
    engines = await measure_engines(
        settings, temporal, database_url, run_id, sizes, progress
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


def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = PlatformSettings()
    run_id = new_run_id()
    database = SessionDatabase(settings.database_url, f"dingze_bench_{run_id}")
    database.create()
    processes: PlatformProcesses | None = None
    try:
        migrate(database.url)
        log_dir = ROOT / ".stack" / "bench-logs" / run_id
        processes = PlatformProcesses.create(log_dir, run_id, database.url)
        processes.env["DINGZE_KAFKA_TOPIC_PREFIX"] = f"bench-{run_id}."
        processes.env["DINGZE_TEMPORAL_TASK_QUEUE"] = f"cases-bench-{run_id}"
        progress(f"starting an isolated platform (logs in {log_dir})")
        processes.start_all()
        sizes = SMOKE_SIZES if args.smoke else EngineSizes()
        results = asyncio.run(engine_part(sizes, settings, database.url, run_id))
        with tempfile.TemporaryDirectory() as folder:
            video = write_walkaround_video(Path(folder) / "scene.mp4", seconds=6)
            size_kib = video.stat().st_size // 1024
            progress(f"warming up the platform ({size_kib} KiB video)")
            warm_up_seconds = 1.0 if args.smoke else 10.0
            run_load(
                processes, 2.0, warm_up_seconds, 60.0, video, Path(folder) / "warm.json"
            )
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
                    )
                )
        return results
    finally:
        if processes is not None:
            processes.stop_all()
        database.drop()


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
