"""The load generator: cases at a steady rate through the real APIs, in its own process.

A phone opens, uploads and submits each case on a fixed schedule, whether or not
earlier cases have finished. A scripted officer rules as soon as the case reaches the
queue, and a scripted party confirms each assessed claim as soon as its settlement
SMS is requested, after which the insurer simulator settles. Kafka events mark when
each case was queued, when each insurer was notified and when the case settled. A
case counts as completed only when its settled event is seen.

Run as ``python -m bench.load --rate 10 --seconds 30 --video scene.mp4 --out r.json``
with the platform's environment; ``python -m bench`` does this for each rate.
"""

import argparse
import asyncio
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer

from bench.party import ScriptedParties
from bench.stats import percentile
from common.settings import PlatformSettings
from contracts.events import CaseClosed, CaseQueued, SmsRequested
from demo.client import (
    LOCAL_OFFICER,
    PlatformClient,
    ServiceUrls,
    sample_case,
    sample_ruling,
)
from demo.party import PartyPhone

SPANS = {
    "submit_to_queued": ("submitted", "queued"),
    "ruling_to_insurers_notified": ("ruled", "notified"),
    "ruling_to_sms_sent": ("ruled", "ruling_sms_sent"),
    "submit_to_settled": ("submitted", "settled"),
}


@dataclass
class CaseTimes:
    """Wall-clock times (seconds since the epoch) of one case's steps."""

    submitted: float | None = None
    queued: float | None = None
    ruled: float | None = None
    notified: float | None = None
    ruling_sms_sent: float | None = None
    settled: float | None = None
    insurers_notified: set[str] = field(default_factory=set)
    officer_called: bool = False
    error: str | None = None


@dataclass
class LoadResult:
    rate: float
    seconds: float
    offered: int
    settled: int
    errors: dict[str, int]
    completed_per_second: float
    spans_ms: dict[str, dict[str, float | None]]


class LoadRun:
    def __init__(
        self, client: PlatformClient, settings: PlatformSettings, video: Path
    ) -> None:
        self.client = client
        self.settings = settings
        self.video = video
        self.cases: dict[UUID, CaseTimes] = {}
        self.failed_openings: Counter[str] = Counter()
        self.insurers_of: dict[UUID, int] = {}
        self.settled = asyncio.Event()
        self.officer_tasks: set[asyncio.Task[None]] = set()
        self.parties = ScriptedParties(
            PartyPhone(client.http, client.urls.intake), self.fail
        )

    def fail(self, case_id: UUID, error: str) -> None:
        self.cases[case_id].error = error

    async def open_submit(self) -> None:
        case = _fresh_case()
        try:
            case_id = await self.client.open_case(case)
        except httpx.HTTPError as error:
            self.failed_openings[_describe(error)] += 1
            return
        times = self.cases[case_id] = CaseTimes()
        self.insurers_of[case_id] = len(
            {party["insurer_code"] for party in case["parties"]}
        )
        try:
            (await self.client.upload_video(case_id, self.video)).raise_for_status()
            times.submitted = time.time()
            (await self.client.submit(case_id)).raise_for_status()
        except httpx.HTTPError as error:
            times.error = _describe(error)

    async def rule(self, case_id: UUID) -> None:
        """Rule as an officer would: once the case shows in the liability queue."""
        times = self.cases[case_id]
        try:
            await self.client.wait_until_queued(case_id, wait_seconds=60, poll=0.02)
            times.queued = time.time()
            times.ruled = time.time()
            (await self.client.claim(case_id)).raise_for_status()
            (await self.client.rule(case_id, sample_ruling())).raise_for_status()
        except (httpx.HTTPError, TimeoutError) as error:
            times.error = _describe(error)

    def seen(self, topic: str, record: dict[str, Any], at: float) -> None:
        case_id = UUID(record["case_id"])
        times = self.cases.get(case_id)
        if times is None:
            return
        if topic == CaseQueued.topic:
            if not times.officer_called:
                times.officer_called = True
                task = asyncio.create_task(self.rule(case_id))
                self.officer_tasks.add(task)
                task.add_done_callback(self.officer_tasks.discard)
        elif topic == SmsRequested.topic:
            self.parties.seen(case_id, record)
        elif topic == CaseClosed.topic:
            if record.get("outcome") == "settled" and times.settled is None:
                times.settled = at
            elif record.get("outcome") != "settled":
                times.error = f"closed as {record.get('outcome')}"
        else:
            times.insurers_notified.add(record["insurer_code"])
            if len(times.insurers_notified) == self.insurers_of[case_id]:
                times.notified = at

    def unfinished(self) -> int:
        return sum(
            1 for t in self.cases.values() if t.settled is None and t.error is None
        )

    async def fetch_sms_times(self) -> None:
        gate = asyncio.Semaphore(16)

        async def one(case_id: UUID, times: CaseTimes) -> None:
            async with gate:
                messages = await self.client.messages(case_id)
            sent = [
                datetime.fromisoformat(m["sent_at"]).timestamp()
                for m in messages
                if m["template"] == "ruling_issued" and m["sent_at"]
            ]
            if sent:
                times.ruling_sms_sent = max(sent)

        await asyncio.gather(
            *(one(c, t) for c, t in self.cases.items() if t.settled is not None)
        )


def _fresh_case() -> dict[str, Any]:
    """Return the demo's case with new phone numbers: each case has its own parties."""
    case = sample_case()
    for party in case["parties"]:
        party["phone"] = f"1{random.choice('3589')}{random.randrange(10**9):09d}"
    return case


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _describe(error: Exception) -> str:
    """Name an error so that the same failure of many cases counts as one kind."""
    if isinstance(error, httpx.HTTPStatusError):
        path = _UUID.sub("{id}", error.request.url.path)
        return f"HTTP {error.response.status_code} from {path}"
    return type(error).__name__


async def observe(run: LoadRun, ready: asyncio.Event) -> None:
    prefix = run.settings.kafka_topic_prefix
    pattern = (
        f"^{re.escape(prefix)}"
        r"(case\.queued|case\.closed|sms\.requested"
        r"|insurer\.[a-z0-9]+\.notifications)$"
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=run.settings.kafka_bootstrap,
        group_id=f"{prefix}bench-observer-{time.time_ns()}",
        auto_offset_reset="latest",
        metadata_max_age_ms=5000,
    )
    await consumer.start()
    try:
        consumer.subscribe(pattern=pattern)
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        # Read the end of every partition now, so "latest" starts here.
        for partition in consumer.assignment():
            await consumer.position(partition)
        ready.set()
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            at = time.time()
            for partition, records in batches.items():
                topic = partition.topic.removeprefix(prefix)
                for record in records:
                    if record.value is not None:
                        run.seen(topic, json.loads(record.value), at)
    finally:
        await consumer.stop()


async def drive(
    rate: float, seconds: float, drain_seconds: float, video: Path
) -> LoadResult:
    settings = PlatformSettings()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        client = PlatformClient(ServiceUrls.from_environment(), http)
        await client.sign_in(*LOCAL_OFFICER)
        await client.sign_in_scene_and_support()
        run = LoadRun(client, settings, video)
        ready = asyncio.Event()
        observer = asyncio.create_task(observe(run, ready))
        await asyncio.wait_for(ready.wait(), timeout=60)

        phones: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        count = int(rate * seconds)
        for index in range(count):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(run.open_submit())
            phones.add(task)
            task.add_done_callback(phones.discard)
        await asyncio.gather(*phones)
        deadline = time.monotonic() + drain_seconds
        while run.unfinished() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.25)
        observer.cancel()
        await asyncio.gather(observer, return_exceptions=True)
        await asyncio.gather(*run.officer_tasks)
        await asyncio.gather(*run.parties.tasks)
        await run.fetch_sms_times()
    return summarise(run, rate, seconds)


def summarise(run: LoadRun, rate: float, seconds: float) -> LoadResult:
    errors = Counter(run.failed_openings)
    for times in run.cases.values():
        if times.error:
            errors[times.error] += 1
        elif times.settled is None:
            step = next(
                (
                    name
                    for name in ("queued", "ruled", "notified")
                    if getattr(times, name) is None
                ),
                "settled",
            )
            errors[f"not settled: stuck before {step}"] += 1
    settled = [t for t in run.cases.values() if t.settled is not None]
    spans: dict[str, dict[str, float | None]] = {}
    for name, (start, end) in SPANS.items():
        values = [
            (getattr(t, end) - getattr(t, start)) * 1000
            for t in settled
            if getattr(t, start) is not None and getattr(t, end) is not None
        ]
        spans[name] = {
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
        }
    # Throughput as the settled events arrive: cases settled between the first and
    # the last settlement, over that time.
    settle_times = sorted(t.settled for t in settled if t.settled is not None)
    completed = 0.0
    if len(settle_times) > 1 and settle_times[-1] > settle_times[0]:
        completed = (len(settle_times) - 1) / (settle_times[-1] - settle_times[0])
    return LoadResult(
        rate=rate,
        seconds=seconds,
        offered=len(run.cases) + run.failed_openings.total(),
        settled=len(settled),
        errors=dict(errors),
        completed_per_second=completed,
        spans_ms=spans,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, required=True, help="cases a second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = asyncio.run(drive(args.rate, args.seconds, args.drain_seconds, args.video))
    args.out.write_text(json.dumps(asdict(result), indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
