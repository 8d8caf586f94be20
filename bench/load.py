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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer

from bench.party import SETTLEMENT_TEMPLATE, ScriptedParties
from bench.stats import percentile
from common.kafka_retry import DEAD_LETTER_TOPIC
from common.settings import PlatformSettings
from contracts.events import CaseClosed, CaseQueued, ClaimAssessed, SmsRequested
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
    "claim_to_settlement_sms": ("assessed", "settlement_sms"),
    "confirmation_to_settled": ("confirmed", "settled"),
    "submit_to_settled": ("submitted", "settled"),
}
# The start of the error of a case that had not settled when the drain time ended.
NOT_SETTLED = "not settled"
# The spans of a case whose insurers settle at once, with no assessment, so no
# settlement link and no confirmation.
SETTLEMENT_STEP_SPANS = ("claim_to_settlement_sms", "confirmation_to_settled")


@dataclass
class CaseTimes:
    """Wall-clock times (seconds since the epoch) of one case's steps.

    With several assessed claims, ``assessed``, ``settlement_sms`` and
    ``confirmed`` keep the last one, so the spans end with the case's last claim.
    """

    started: float | None = None
    submitted: float | None = None
    queued: float | None = None
    ruled: float | None = None
    notified: float | None = None
    ruling_sms_sent: float | None = None
    assessed: float | None = None
    settlement_sms: float | None = None
    confirmed: float | None = None
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
    # Records moved to the run's dead-letter topic, by their original topic.
    dead_letters: dict[str, int] = field(default_factory=dict)
    # Each case's step times, kept when the caller asks for them (``--case-times``).
    cases: list[dict[str, Any]] | None = None
    # Opening attempts that failed before a case existed, as (time, error).
    failed_openings: list[tuple[float, str]] = field(default_factory=list)
    # Wall-clock times of the first and the last case offered.
    first_offered_at: float | None = None
    last_offered_at: float | None = None


class LoadRun:
    def __init__(
        self, client: PlatformClient, settings: PlatformSettings, video: Path
    ) -> None:
        self.client = client
        self.settings = settings
        self.video = video
        self.cases: dict[UUID, CaseTimes] = {}
        self.failed_openings: list[tuple[float, str]] = []
        self.dead_letters: Counter[str] = Counter()
        self.insurers_of: dict[UUID, int] = {}
        self.officer_tasks: set[asyncio.Task[None]] = set()
        self.parties = ScriptedParties(
            PartyPhone(client.http, client.urls.intake), self.fail, self.confirmed
        )

    def fail(self, case_id: UUID, error: Exception) -> None:
        self.cases[case_id].error = f"settlement confirmation: {_describe(error)}"

    def confirmed(self, case_id: UUID) -> None:
        self.cases[case_id].confirmed = time.time()

    async def open_submit(self) -> None:
        case = _fresh_case()
        started = time.time()
        try:
            case_id = await self.client.open_case(case)
        except httpx.HTTPError as error:
            self.failed_openings.append((started, _describe(error)))
            return
        times = self.cases[case_id] = CaseTimes(started=started)
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
        if topic == ClaimAssessed.topic:
            times.assessed = at
            return
        if topic == CaseQueued.topic:
            if not times.officer_called:
                times.officer_called = True
                task = asyncio.create_task(self.rule(case_id))
                self.officer_tasks.add(task)
                task.add_done_callback(self.officer_tasks.discard)
        elif topic == SmsRequested.topic:
            if record.get("template") == SETTLEMENT_TEMPLATE:
                times.settlement_sms = at
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
    """Name an error so that the same failure of many cases counts as one kind.

    Every HTTP failure, a status or a transport error, starts with ``HTTP``.
    """
    if isinstance(error, httpx.HTTPStatusError):
        path = _UUID.sub("{id}", error.request.url.path)
        return f"HTTP {error.response.status_code} from {path}"
    if isinstance(error, httpx.HTTPError):
        return f"HTTP {type(error).__name__}"
    return type(error).__name__


def _original_topic(headers: Sequence[tuple[str, bytes]]) -> str:
    """Return the topic a dead letter came from, as its ``original-topic`` header."""
    for name, value in headers:
        if name == "original-topic":
            return value.decode(errors="replace")
    return "unknown topic"


async def observe(run: LoadRun, ready: asyncio.Event) -> None:
    prefix = run.settings.kafka_topic_prefix
    pattern = (
        f"^{re.escape(prefix)}"
        r"(case\.queued|case\.closed|sms\.requested|claim\.assessed"
        r"|insurer\.[a-z0-9]+\.notifications"
        f"|{re.escape(DEAD_LETTER_TOPIC)})$"
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
                    if topic == DEAD_LETTER_TOPIC:
                        run.dead_letters[_original_topic(record.headers)] += 1
                    elif record.value is not None:
                        run.seen(topic, json.loads(record.value), at)
    finally:
        await consumer.stop()


async def drive(  # noqa: PLR0917
    rate: float,
    seconds: float,
    drain_seconds: float,
    video: Path,
    progress_seconds: float | None = None,
    keep_cases: bool = False,
) -> LoadResult:
    """Offer ``rate`` cases a second for ``seconds``, then wait for them to settle.

    With ``progress_seconds``, prints the counts so far to stderr at that interval.
    """
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
        reporter = None
        if progress_seconds:
            reporter = asyncio.create_task(report_progress(run, progress_seconds))

        phones: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        count = int(rate * seconds)
        first_offered_at = last_offered_at = None
        for index in range(count):
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            last_offered_at = time.time()
            first_offered_at = first_offered_at or last_offered_at
            task = asyncio.create_task(run.open_submit())
            phones.add(task)
            task.add_done_callback(phones.discard)
        await asyncio.gather(*phones)
        deadline = time.monotonic() + drain_seconds
        while run.unfinished() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.25)
        if reporter is not None:
            reporter.cancel()
        observer.cancel()
        await asyncio.gather(observer, return_exceptions=True)
        await asyncio.gather(*run.officer_tasks)
        await asyncio.gather(*run.parties.tasks)
        await run.fetch_sms_times()
    result = summarise(run, rate, seconds)
    result.first_offered_at = first_offered_at
    result.last_offered_at = last_offered_at
    if keep_cases:
        result.cases = [
            {"case_id": str(case_id), **asdict(times)}
            for case_id, times in run.cases.items()
        ]
        for case in result.cases:
            case["insurers_notified"] = sorted(case["insurers_notified"])
    return result


async def report_progress(run: LoadRun, interval: float) -> None:
    """Print the cases started, settled, failed and waiting every ``interval`` s."""
    began = time.monotonic()
    while True:
        await asyncio.sleep(interval)
        settled = sum(1 for t in run.cases.values() if t.settled is not None)
        failed = sum(1 for t in run.cases.values() if t.error is not None)
        print(
            f"==> [{time.monotonic() - began:5.0f} s] load: "
            f"{len(run.cases) + len(run.failed_openings)} cases started, "
            f"{settled} settled, {failed + len(run.failed_openings)} failed, "
            f"{run.unfinished()} in progress, "
            f"{run.dead_letters.total()} dead letters",
            file=sys.stderr,
            flush=True,
        )


def _stuck_step(times: CaseTimes) -> str:
    """Name the first step an unsettled case has not reached."""
    for name in ("queued", "ruled", "notified"):
        if getattr(times, name) is None:
            return name
    if times.assessed is not None and times.confirmed is None:
        return "confirmed"
    return "settled"


def summarise(run: LoadRun, rate: float, seconds: float) -> LoadResult:
    errors = Counter(error for _, error in run.failed_openings)
    for times in run.cases.values():
        if times.error:
            errors[times.error] += 1
        elif times.settled is None:
            errors[f"{NOT_SETTLED}: stuck before {_stuck_step(times)}"] += 1
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
            "max": max(values, default=None),
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
        offered=len(run.cases) + len(run.failed_openings),
        settled=len(settled),
        errors=dict(errors),
        completed_per_second=completed,
        spans_ms=spans,
        dead_letters=dict(run.dead_letters),
        failed_openings=list(run.failed_openings),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, required=True, help="cases a second")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--progress-seconds",
        type=float,
        help="print the counts so far to stderr at this interval, in seconds",
    )
    parser.add_argument(
        "--case-times",
        action="store_true",
        help="write each case's step times into the result as well",
    )
    args = parser.parse_args()
    result = asyncio.run(
        drive(
            args.rate,
            args.seconds,
            args.drain_seconds,
            args.video,
            args.progress_seconds,
            args.case_times,
        )
    )
    args.out.write_text(json.dumps(asdict(result), indent=2))
    sys.exit(0)


if __name__ == "__main__":
    main()
