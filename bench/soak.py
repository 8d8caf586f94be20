"""Hold a steady case rate for minutes and check that memory stays bounded.

Starts an isolated copy of the platform on the running stack, as ``python -m
bench`` does. The same load process drives cases through the whole path at one
rate for ``--minutes``: the scripted officer rules, and the scripted parties
confirm their settlements. Every ``--sample-seconds`` it samples the memory of
each platform process and each local engine. Prints
progress once a minute, then the tables, and writes them with the samples to
``bench-results/soak-<time>.{txt,json}``. Exits 1 when there were errors or a
process's memory grows by the rule in ``bench.growth``.

    python -m bench.soak                        # ten minutes at 1 case/s
    python -m bench.soak --minutes 0.5 --rate 0.5 --warm-up-minutes 0.1
"""

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import soak_report
from bench.run import (
    SamplingOptions,
    engine_processes,
    isolated_platform,
    progress,
    run_load,
)
from bench.summary import cpu_per_case
from common.settings import PlatformSettings
from common.temporal import exit_now
from evidence.sample_video import write_walkaround_video
from tests.support.platform import ROOT

# bench/README.md measured 1 case/s as the rate two cores sustain with every step
# of the case, the settlement included; faster rates build queues there.
DEFAULT_RATE = 1.0
DEFAULT_MINUTES = 10.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=DEFAULT_MINUTES,
        help="how long cases are offered, in minutes",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="offered rate, cases a second",
    )
    parser.add_argument(
        "--warm-up-minutes",
        type=float,
        help="first part of the run left out of the memory verdict, in minutes "
        "(a fifth of --minutes by default)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=120.0,
        help="how long the cases may take to settle after the last offer, in seconds",
    )
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=10.0,
        help="interval between memory samples, in seconds",
    )
    parser.add_argument(
        "--progress-seconds",
        type=float,
        default=60.0,
        help="interval between progress lines, in seconds",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0:
        parser.error("--minutes and --rate must be greater than 0")
    if args.sample_seconds <= 0 or args.progress_seconds <= 0:
        parser.error("--sample-seconds and --progress-seconds must be greater than 0")
    if args.warm_up_minutes is None:
        args.warm_up_minutes = args.minutes / 5
    if not 0 <= args.warm_up_minutes < args.minutes:
        parser.error("--warm-up-minutes must be at least 0 and less than --minutes")
    return args


def print_memory(latest: dict[str, float]) -> None:
    figures = ", ".join(f"{name} {mib:.0f}" for name, mib in sorted(latest.items()))
    progress(f"resident MiB: {figures}")


def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run the soak and return its results, the analysis included."""
    settings = PlatformSettings()
    with (
        isolated_platform("soak") as copy,
        tempfile.TemporaryDirectory() as folder,
    ):
        engines = engine_processes(settings)
        missing = {"Kafka", "PostgreSQL", "S3 (SeaweedFS)", "Temporal"} - set(engines)
        if missing:
            progress(f"not sampling {', '.join(sorted(missing))}: no local process")
        video = write_walkaround_video(Path(folder) / "scene.mp4", seconds=6)
        progress(
            f"offering {args.rate:g} cases/s for {args.minutes:g} min, sampling "
            f"memory every {args.sample_seconds:g} s"
        )
        options = SamplingOptions(
            interval=args.sample_seconds,
            keep_series=True,
            load_args=(
                "--progress-seconds",
                str(args.progress_seconds),
                "--case-times",
            ),
            report=print_memory,
            report_every=args.progress_seconds,
        )
        load = run_load(
            copy.processes,
            args.rate,
            args.minutes * 60,
            args.drain_seconds,
            video,
            Path(folder) / "soak.json",
            engines,
            options,
        )
    cores = os.cpu_count() or 1
    cpu = cpu_per_case(load, cores, {}) or {}
    machine = load["machine"]
    # NOTE: the load average covers every process on the machine, including
    # other work, so it describes the conditions rather than the soak's own cost.
    busy = 100 * machine["busy_cpu_seconds"] / (machine["seconds"] * cores)
    return {
        "run": {
            "rate": args.rate,
            "minutes": args.minutes,
            "warm_up_minutes": args.warm_up_minutes,
            "drain_seconds": args.drain_seconds,
            "sample_seconds": args.sample_seconds,
            "started_at": datetime.fromtimestamp(
                load["first_offered_at"], UTC
            ).isoformat(timespec="seconds"),
        },
        "machine": {
            "cores": cores,
            "load_average": (
                f"{machine['load_average_start']:.1f} at start, "
                f"{machine['load_average_peak']:.1f} peak, "
                f"{machine['load_average_end']:.1f} at end"
            ),
            "busy_percent": busy,
            "other_work_percent": cpu.get("other_work_percent"),
        },
        "load": load,
        "analysis": soak_report.analyse(load, args.warm_up_minutes * 60),
    }


def write(results: dict[str, Any], folder: Path) -> Path:
    """Print the tables and write them and the results as text and JSON."""
    text = soak_report.render(results)
    print(text)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"soak-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2))
    stem.with_suffix(".txt").write_text(text + "\n")
    return stem


def exit_status(results: dict[str, Any]) -> int:
    """Return 0 when the soak passed, 1 on errors or growing memory."""
    return 0 if results["analysis"]["passed"] else 1


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    results = soak(args)
    stem = write(results, args.out)
    progress(f"results in {stem}.{{txt,json}} after {time.monotonic() - started:.0f} s")
    sys.stdout.flush()
    exit_now(exit_status(results))


if __name__ == "__main__":
    main()
