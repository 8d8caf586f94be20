"""Messages no handler can use must not stop the cases behind them.

Every topic that a service or the case worker subscribes to is found in the source
(each ``subscribe(broker, settings, group, Model.topic)`` call), so a new
subscriber is covered without a change here. Each of its partitions gets the four
kinds of poison: bytes that are not JSON, JSON of the wrong shape, a valid event of
an unknown schema version, and a message over ``DINGZE_KAFKA_MAX_MESSAGE_BYTES``.
A case then runs to settlement through the same partitions, every consumer group
commits past the poison, and the dead-letter topic contains each message once per
group with its reason.
"""

import ast
import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from hypothesis import HealthCheck, Phase, find
from hypothesis import settings as hypothesis_settings
from temporalio.client import Client

import contracts.events
from common.settings import PlatformSettings
from contracts.events import ClaimOpened, Event
from contracts.versions import current_version
from demo.client import PlatformClient, sample_ruling
from tests.support.cases import case_outcome, claimed_case
from tests.support.events import events
from tests.support.platform import ROOT, PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

# Where the platform's consumers live; the insurer simulator replaces the
# insurers' own systems and is left out.
CONSUMER_SOURCES = ["services", "workflows"]
POISON_REASONS = ("not_json", "schema_invalid", "version_unknown", "too_large")
DEAD_LETTER_WAIT_SECONDS = 240


@dataclass(frozen=True)
class Subscription:
    group: str
    topic: str
    model: type[Event]


def subscriptions() -> list[Subscription]:
    """Find every ``subscribe(broker, settings, group, Model.topic…)`` call."""
    found: list[Subscription] = []
    for folder in CONSUMER_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            found += _subscriptions_in(path)
    return found


def _subscriptions_in(path: Path) -> list[Subscription]:
    found: list[Subscription] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "subscribe"
        ):
            continue
        group = node.args[2]
        assert isinstance(group, ast.Constant), f"{path}: group is not a literal"
        for argument in node.args[3:]:
            assert isinstance(argument, ast.Attribute), f"{path}: topic not Model.x"
            assert isinstance(argument.value, ast.Name)
            model = getattr(contracts.events, argument.value.id)
            topic = getattr(model, argument.attr)
            found.append(Subscription(str(group.value), topic, model))
    return found


def _poison(model: type[Event], max_bytes: int) -> dict[str, bytes]:
    """Build one message of each poison kind for a model's topic."""
    # The first valid event drawn, not shrunk: shrinking a large event to the
    # simplest one takes minutes on a loaded machine.
    sample = find(
        events(model.__name__),
        lambda _: True,
        settings=hypothesis_settings(
            phases=[Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    document = sample.model_dump(mode="json")
    newer = {**document, "schema_version": current_version(model) + 1}
    oversized = {**document, "trace_id": "x" * max_bytes}
    return {
        "not_json": b"not json {",
        "schema_invalid": json.dumps({"unexpected": True}).encode(),
        "version_unknown": json.dumps(newer).encode(),
        "too_large": json.dumps(oversized).encode(),
    }


async def _poison_every_partition(
    settings: PlatformSettings,
    prefix: str,
    poison: dict[str, dict[str, bytes]],
) -> dict[TopicPartition, int]:
    """Send each topic's poison to every partition of it.

    Returns the end offset of each partition after the poison.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        max_request_size=4 * settings.kafka_max_message_bytes,
    )
    await producer.start()
    ends: dict[TopicPartition, int] = {}
    try:
        for topic, messages in poison.items():
            partitions = await producer.partitions_for(f"{prefix}{topic}")
            for partition in sorted(partitions):
                for body in messages.values():
                    sent = await producer.send_and_wait(
                        f"{prefix}{topic}", body, partition=partition
                    )
                ends[TopicPartition(f"{prefix}{topic}", partition)] = sent.offset + 1
        return ends
    finally:
        await producer.stop()


async def _send_stray_claims(
    settings: PlatformSettings, prefix: str, partitions: int
) -> list[uuid.UUID]:
    """Send, on every partition, a claim for a case whose ruling was never sent."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        stray_cases: list[uuid.UUID] = []
        for partition in range(partitions):
            stray_claim = ClaimOpened(
                case_id=uuid.uuid4(), insurer_code="PICC", claim_number="PICC-STRAY"
            )
            await producer.send_and_wait(
                f"{prefix}{ClaimOpened.topic}",
                stray_claim.model_dump_json().encode(),
                partition=partition,
            )
            stray_cases.append(stray_claim.case_id)
        return stray_cases
    finally:
        await producer.stop()


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    value: bytes
    reason: str
    error: str


async def _dead_letters(
    settings: PlatformSettings, prefix: str, expected: int
) -> list[DeadLetter]:
    """Read the dead-letter topic until it has ``expected`` letters or time is up."""
    consumer = AIOKafkaConsumer(
        f"{prefix}dead-letter",
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + DEAD_LETTER_WAIT_SECONDS
    try:
        while len(letters) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    headers = {name: value.decode() for name, value in record.headers}
                    letters.append(
                        DeadLetter(
                            headers["original-topic"],
                            record.value,
                            headers.get("reason", ""),
                            headers["error"],
                        )
                    )
        return letters
    finally:
        await consumer.stop()


async def _lagging_groups(
    settings: PlatformSettings,
    prefix: str,
    found: list[Subscription],
    ends: dict[TopicPartition, int],
) -> list[str]:
    """List each group and partition whose committed offset is behind the poison."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        lagging = []
        for subscription in found:
            group = f"{prefix}{subscription.group}"
            committed = await admin.list_consumer_group_offsets(group)
            for partition, end in ends.items():
                if partition.topic != f"{prefix}{subscription.topic}":
                    continue
                offset = committed.get(partition)
                if offset is None or offset.offset < end:
                    lagging.append(f"{group} on {partition}: {offset} < {end}")
        return lagging
    finally:
        await admin.close()


async def _wait_for_commits(
    settings: PlatformSettings,
    prefix: str,
    found: list[Subscription],
    ends: dict[TopicPartition, int],
) -> list[str]:
    deadline = time.monotonic() + DEAD_LETTER_WAIT_SECONDS
    while True:
        lagging = await _lagging_groups(settings, prefix, found, ends)
        if not lagging or time.monotonic() > deadline:
            return lagging
        await asyncio.sleep(1)


def test_subscriptions_found_in_source() -> None:
    found = subscriptions()
    pairs = {(item.group, item.topic) for item in found}

    assert ("notify", "sms.requested") in pairs
    assert ("case-starter", "case.submitted") in pairs
    assert ("insurance", "claim.settled") in pairs
    assert ("liability", "case.queued") in pairs
    assert ("intake", "evidence.custody") in pairs


async def test_cases_settle_past_poison_messages(
    client: PlatformClient,
    temporal: Client,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    found = subscriptions()
    poison = {
        item.topic: _poison(item.model, settings.kafka_max_message_bytes)
        for item in found
    }
    groups_per_topic = Counter(item.topic for item in found)
    ends = await _poison_every_partition(settings, prefix, poison)
    partitions = {
        topic: sum(1 for key in ends if key.topic == f"{prefix}{topic}")
        for topic in poison
    }
    stray_cases = await _send_stray_claims(
        settings, prefix, partitions[ClaimOpened.topic]
    )

    case_id = await claimed_case(client, video)
    await client.rule(case_id, sample_ruling())
    outcome = await case_outcome(temporal, case_id)
    lagging = await _wait_for_commits(settings, prefix, found, ends)
    poison_count = sum(
        partitions[topic] * groups * len(POISON_REASONS)
        for topic, groups in groups_per_topic.items()
    )
    dead = await _dead_letters(
        settings,
        prefix,
        poison_count + len(stray_cases) * groups_per_topic[ClaimOpened.topic],
    )

    assert outcome.outcome == "settled"
    assert lagging == []
    for topic, groups in groups_per_topic.items():
        for kind, body in poison[topic].items():
            letters = [
                letter
                for letter in dead
                if letter.topic == f"{prefix}{topic}" and letter.value == body
            ]
            reasons = Counter(letter.reason for letter in letters)
            assert reasons == {kind: partitions[topic] * groups}, (topic, kind)
    # Other tests send claims for unknown cases too, so only these cases count.
    stray_claims = [
        letter
        for letter in dead
        if letter.topic == f"{prefix}{ClaimOpened.topic}"
        and any(str(case).encode() in letter.value for case in stray_cases)
        and letter.reason == "rejected"
    ]
    assert len(stray_claims) == len(stray_cases)
    assert all("ruling_not_delivered" in letter.error for letter in stray_claims)
