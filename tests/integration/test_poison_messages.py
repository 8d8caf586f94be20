"""Messages no handler can use must not stop the cases behind them."""

import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from temporalio.client import Client

from common.settings import PlatformSettings
from contracts.events import ClaimOpened, SmsRequested
from demo.client import PlatformClient, sample_ruling
from tests.support.cases import case_outcome, claimed_case
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


async def _poison_every_partition(
    settings: PlatformSettings, prefix: str
) -> list[uuid.UUID]:
    """Send, on every partition, a non-JSON SMS request and a claim for no ruling.

    Returns the ids of the cases that the stray claims name.
    """
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        partitions = await producer.partitions_for(f"{prefix}{SmsRequested.topic}")
        stray_cases: list[uuid.UUID] = []
        for partition in sorted(partitions):
            await producer.send_and_wait(
                f"{prefix}{SmsRequested.topic}", b"not json {", partition=partition
            )
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


async def _dead_letters(
    settings: PlatformSettings, prefix: str
) -> list[tuple[str, bytes, str]]:
    """Return the original topic, the value and the error of every dead letter."""
    consumer = AIOKafkaConsumer(
        f"{prefix}dead-letter",
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        letters: list[tuple[str, bytes, str]] = []
        for _ in range(5):
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    headers = dict(record.headers)
                    letters.append(
                        (
                            headers["original-topic"].decode(),
                            record.value,
                            headers["error"].decode(),
                        )
                    )
        return letters
    finally:
        await consumer.stop()


async def test_cases_settle_past_poison_messages(
    client: PlatformClient,
    temporal: Client,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    stray_cases = await _poison_every_partition(settings, prefix)
    poisoned = len(stray_cases)

    case_id = await claimed_case(client, video)
    await client.rule(case_id, sample_ruling())
    outcome = await case_outcome(temporal, case_id)
    dead = await _dead_letters(settings, prefix)

    assert outcome.outcome == "settled"
    topics = [topic for topic, _, _ in dead]
    assert topics.count(f"{prefix}{SmsRequested.topic}") == poisoned
    # Other tests send claims for unknown cases too, so only these cases count.
    stray_claims = [
        error
        for topic, value, error in dead
        if topic == f"{prefix}{ClaimOpened.topic}"
        and any(str(case).encode() in value for case in stray_cases)
    ]
    assert len(stray_claims) == poisoned
    assert all("ruling_not_delivered" in error for error in stray_claims)
