"""The chaos schedule: cases in flight while each target is killed in turn."""

import asyncio
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from chaos.cases import CaseDriver, ChaosCase, Deadline
from chaos.checks import Findings, check_run
from chaos.targets import Target
from common.settings import PlatformSettings
from common.temporal import connect_temporal
from demo.client import LOCAL_OFFICER, PlatformClient, ServiceUrls

# Seconds between the openings of the cases that share one kill's slot.
OPENING_STAGGER_SECONDS = 0.3


@dataclass(frozen=True)
class ChaosOptions:
    cases: int = 50
    seed: int = 1
    pause_seconds: float = 5.0
    gap_seconds: float = 4.0
    rounds: int = 1
    drain_seconds: float = 300.0


class Progress:
    """Prints timestamped progress lines to standard error."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"==> [{elapsed:6.1f} s] {text}", file=sys.stderr, flush=True)


def kill_order(
    targets: Sequence[Target], rounds: int, rng: random.Random
) -> list[Target]:
    """Return every target once a round, each round in a new random order."""
    order: list[Target] = []
    for _ in range(rounds):
        order += rng.sample(list(targets), len(targets))
    return order


def opening_slots(cases: int, kills: int) -> list[int]:
    """Spread the case openings evenly over the kills: case j opens at kill slot[j].

    Every case is then in flight while some target is down, however fast the
    machine is.
    """
    return [index * kills // cases for index in range(cases)]


class ChaosRun:
    """One run: the cases, the kills in turn, the restarts and what went wrong."""

    def __init__(
        self,
        driver: CaseDriver,
        targets: Sequence[Target],
        options: ChaosOptions,
        progress: Progress,
    ) -> None:
        self.driver = driver
        self.targets = targets
        self.options = options
        self.progress = progress
        self.rng = random.Random(options.seed)
        self.cases = [ChaosCase(index) for index in range(1, options.cases + 1)]
        self.tasks: list[asyncio.Task[None]] = []
        self.recoveries: dict[str, asyncio.Task[None]] = {}
        self.unplanned: list[str] = []
        self.not_recovered: list[str] = []

    def finished(self) -> str:
        done = sum(1 for case in self.cases if case.finished)
        return f"{done}/{len(self.cases)} cases finished, {len(self.tasks)} opened"

    async def kill_in_turn(self) -> None:
        """Kill every target in a seeded random order, opening cases between."""
        order = kill_order(self.targets, self.options.rounds, self.rng)
        slots = opening_slots(len(self.cases), len(order))
        for slot, target in enumerate(order):
            cases = zip(self.cases, slots, strict=True)
            openings = [case for case, at in cases if at == slot]
            for position, case in enumerate(openings):
                delay = position * OPENING_STAGGER_SECONDS
                self.tasks.append(asyncio.create_task(self._open_later(case, delay)))
            await asyncio.sleep(self.rng.uniform(0, 2 * self.options.gap_seconds))
            # A target is killed again only once it served since its last restart.
            if target.name in self.recoveries:
                await self.recoveries.pop(target.name)
            pid = await asyncio.to_thread(target.kill)
            killed_at = time.monotonic()
            self.progress(
                f"killed {target.name} (pid {pid}) with SIGKILL, "
                f"{slot + 1}/{len(order)}; {self.finished()}"
            )
            await asyncio.sleep(self.options.pause_seconds)
            await asyncio.to_thread(target.start)
            self.progress(f"started {target.name} again")
            # The next kill does not wait for this target to be ready, so a
            # process may start while an engine is still down.
            self.recoveries[target.name] = asyncio.create_task(
                self._recover(target, killed_at)
            )
        await asyncio.gather(*self.recoveries.values())
        for target in self.targets:
            code = target.exit_code()
            if code is not None:
                self.unplanned.append(f"{target.name} exited with {code}")

    async def _recover(self, target: Target, killed_at: float) -> None:
        while True:
            try:
                await target.wait_ready()
                break
            except TimeoutError as error:
                self.not_recovered.append(f"{target.name}: {error}")
                self.progress(f"{target.name} did not recover: {error}")
                return
            except RuntimeError as error:
                # As supervisord would: a process that ends while it starts, say
                # because an engine is down, is started again.
                code = target.exit_code()
                if code is None:
                    raise
                note = f"{target.name} exited with {code} while starting"
                self.unplanned.append(note)
                self.progress(f"{note}: {error}; starting it again")
                await asyncio.to_thread(target.start)
        self.progress(
            f"{target.name} ready again {time.monotonic() - killed_at:.1f} s "
            f"after the kill; {self.finished()}"
        )

    async def drain(self) -> None:
        """Give the cases until the drain deadline, reporting every 15 s."""
        self.driver.deadline.at = time.monotonic() + self.options.drain_seconds
        self.progress(
            f"every kill done; draining for up to {self.options.drain_seconds:g} s"
        )
        waiting = asyncio.gather(*self.tasks)
        while not waiting.done():
            await asyncio.wait([waiting], timeout=15)
            self.progress(self.finished())

    async def _open_later(self, case: ChaosCase, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.driver.drive(case)


async def run_chaos(  # noqa: PLR0917
    settings: PlatformSettings,
    urls: ServiceUrls,
    targets: Sequence[Target],
    video: Path,
    options: ChaosOptions,
    progress: Progress,
) -> Findings:
    """Drive the cases while killing the targets, drain, and check the records."""
    temporal = await connect_temporal(settings)
    async with httpx.AsyncClient(timeout=30) as http:
        client = PlatformClient(urls, http)
        await client.sign_in(*LOCAL_OFFICER)
        await client.sign_in_scene_and_support()
        driver = CaseDriver(client, temporal, settings.database_url, video, Deadline())
        run = ChaosRun(driver, targets, options, progress)
        await run.kill_in_turn()
        await run.drain()
    progress("checking the records")
    findings = await check_run(settings, temporal, run.cases)
    findings.unplanned_exits = run.unplanned
    findings.not_recovered = run.not_recovered
    return findings
