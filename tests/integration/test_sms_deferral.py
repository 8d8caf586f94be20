"""A busy phone number defers its own messages without delaying anyone else's."""

import asyncio
import random
import time
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from common.settings import PlatformSettings
from contracts.events import SmsRequested
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
LIMIT = 2
BURST = 5
# Long enough that the burst's deferred messages stay deferred while the
# messages behind them on the partition are handled.
LIMITED_ENV = {
    "DINGZE_NOTIFY_RATE_PER_NUMBER": str(LIMIT),
    "DINGZE_NOTIFY_RATE_WINDOW_SECONDS": "10",
    "DINGZE_NOTIFY_DEFERRED_POLL_SECONDS": "0.2",
}


def _restart_notify(platform: PlatformProcesses, env: dict[str, str]) -> None:
    platform.kill("notify")
    platform.start("notify", "services.notify", env)
    platform.wait_healthy("notify")


@pytest.fixture
def limited_notify(platform: PlatformProcesses) -> Iterator[None]:
    """Run notify with a rate limit of two messages per number in ten seconds."""
    _restart_notify(platform, LIMITED_ENV)
    try:
        yield
    finally:
        _restart_notify(platform, {})


def _phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def _request(case_id: uuid.UUID, party_id: str, phone: str) -> SmsRequested:
    return SmsRequested(
        case_id=case_id,
        message_id=f"{case_id}:evidence_received:{party_id}",
        party_id=party_id,
        phone=phone,
        template="evidence_received",
        variables={"case_number": str(case_id)[:8], "plate": "浙A12345"},
    )


async def _deliveries(database_url: str, case_id: uuid.UUID) -> list[str]:
    """Return the case's message ids in the order the local provider got them."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT message_id FROM notify.local_deliveries"
            " WHERE message_id LIKE $1 ORDER BY delivery_id",
            f"{case_id}:%",
        )
    finally:
        await connection.close()
    return [row["message_id"] for row in rows]


async def _statuses(database_url: str, case_id: uuid.UUID) -> dict[str, str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT message_id, status, deferred_body FROM notify.messages"
            " WHERE case_id = $1",
            case_id,
        )
    finally:
        await connection.close()
    return {
        row["message_id"]: f"{row['status']}"
        + ("" if row["deferred_body"] is None else "+body")
        for row in rows
    }


async def _wait_for_deliveries(
    database_url: str, case_id: uuid.UUID, done: int, wait_seconds: float
) -> list[str]:
    """Wait, at most ``wait_seconds``, until ``done`` distinct messages arrived."""
    deadline = time.monotonic() + wait_seconds
    while True:
        delivered = await _deliveries(database_url, case_id)
        if len(set(delivered)) >= done or time.monotonic() > deadline:
            return delivered
        await asyncio.sleep(0.2)


async def test_burst_defers_without_delaying_others(
    limited_notify: None, platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    case_id = uuid.uuid4()
    busy, quiet = _phone(), _phone()
    burst = [_request(case_id, f"B{index}", busy) for index in range(BURST)]
    other = _request(case_id, "A", quiet)
    topic = f"{platform.env['DINGZE_KAFKA_TOPIC_PREFIX']}{SmsRequested.topic}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        # One key, so every message shares a partition, the burst first.
        for request in [*burst, other]:
            await producer.send_and_wait(
                topic, request.model_dump_json().encode(), key=str(case_id).encode()
            )
    finally:
        await producer.stop()

    first = await _wait_for_deliveries(settings.database_url, case_id, LIMIT + 1, 30)
    waiting = await _statuses(settings.database_url, case_id)
    # A crash while messages wait: the new notify must send each of them once.
    _restart_notify(platform, LIMITED_ENV)
    delivered = await _wait_for_deliveries(
        settings.database_url, case_id, BURST + 1, 90
    )
    # A few scans of the sender later, nothing more may arrive.
    await asyncio.sleep(1.0)
    delivered = await _deliveries(settings.database_url, case_id)
    final = await _statuses(settings.database_url, case_id)

    burst_ids = [request.message_id for request in burst]
    assert first == [*burst_ids[:LIMIT], other.message_id]
    assert [waiting[message_id] for message_id in burst_ids[LIMIT:]] == [
        "deferred+body"
    ] * (BURST - LIMIT)
    assert waiting[other.message_id] == "sent"
    assert delivered[: LIMIT + 1] == first
    assert sorted(delivered) == sorted([*burst_ids, other.message_id])
    assert delivered[LIMIT + 1 :] == burst_ids[LIMIT:]
    assert set(final.values()) == {"sent"}
    assert platform.log_text("notify").count("sms rate limited, deferred") >= (
        BURST - LIMIT
    )
