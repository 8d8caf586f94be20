"""Crash every process and engine while cases run, then check nothing was lost.

Starts an isolated copy of the platform (its own database, topic prefix and task
queue) on the running stack and drives cases through the whole path, from the
scene video to the settled claims. Meanwhile it kills, one after another in a
seeded random order, each service, worker, the insurer simulator and each
engine with SIGKILL, and starts each again after a pause. After a bounded drain
it prints the table of finished, stuck, doubled, lost and changed, and exits 1
unless every case finished and every other figure is zero.

    python -m chaos                        # 50 cases, every target killed once
    python -m chaos --cases 10 --pause 2 --seed 7
"""

import argparse
import asyncio
import tempfile
from pathlib import Path

from chaos.run import ChaosOptions, Progress, run_chaos
from chaos.targets import (
    ENGINES,
    SERVICES,
    WORKERS,
    Target,
    engine_targets,
    platform_targets,
)
from common.migrate import migrate
from common.settings import PlatformSettings
from common.temporal import exit_now
from evidence.sample_video import write_walkaround_video
from tests.support.platform import ROOT, PlatformProcesses, SessionDatabase, new_run_id

TARGET_NAMES = [*SERVICES, *WORKERS, *ENGINES]


def parse_args() -> tuple[ChaosOptions, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50, help="cases to drive")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the kill order and moments"
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=5.0,
        help="seconds each killed target stays down before it is started again",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=4.0,
        help="mean seconds from a target's recovery to the next kill "
        "(drawn evenly from 0 to twice this)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="times every target is killed"
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=300.0,
        help="seconds the cases may take to finish after the last kill",
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        choices=TARGET_NAMES,
        default=TARGET_NAMES,
        help="what to kill (all by default)",
    )
    args = parser.parse_args()
    if args.cases < 1 or args.rounds < 1:
        parser.error("--cases and --rounds must be 1 or more")
    if args.pause < 0 or args.gap < 0 or args.drain_seconds <= 0:
        parser.error("--pause and --gap must be 0 or more, --drain-seconds above 0")
    options = ChaosOptions(
        cases=args.cases,
        seed=args.seed,
        pause_seconds=args.pause,
        gap_seconds=args.gap,
        rounds=args.rounds,
        drain_seconds=args.drain_seconds,
    )
    return options, args.targets


def main() -> None:
    """Run the chaos test the command line requests and print its table."""
    options, names = parse_args()
    progress = Progress()
    stack_settings = PlatformSettings()
    run_id = new_run_id()
    database = SessionDatabase(stack_settings.database_url, f"dingze_chaos_{run_id}")
    database.create()
    processes: PlatformProcesses | None = None
    try:
        migrate(database.url)
        settings = stack_settings.model_copy(
            update={
                "database_url": database.url,
                "kafka_topic_prefix": f"chaos-{run_id}.",
            }
        )
        log_dir = ROOT / ".stack" / "chaos-logs" / run_id
        processes = PlatformProcesses.create(log_dir, run_id, database.url)
        processes.env["DINGZE_KAFKA_TOPIC_PREFIX"] = settings.kafka_topic_prefix
        processes.env["DINGZE_TEMPORAL_TASK_QUEUE"] = f"cases-chaos-{run_id}"
        progress(f"starting an isolated platform (logs in {log_dir})")
        processes.start_all()
        candidates: list[Target] = [
            *platform_targets(processes),
            *engine_targets(settings),
        ]
        targets = [target for target in candidates if target.name in names]
        with tempfile.TemporaryDirectory() as folder:
            video = write_walkaround_video(Path(folder) / "scene.mp4", seconds=8)
            findings = asyncio.run(
                run_chaos(settings, processes.urls, targets, video, options, progress)
            )
        print(findings.render(), flush=True)
    finally:
        if processes is not None:
            processes.stop_all()
        database.drop()
    exit_now(0 if findings.clean else 1)


if __name__ == "__main__":
    main()
