import json
import uuid

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import BaseModel
from structlog.testing import capture_logs
from temporalio.service import RPCError, RPCStatusCode

from common import kafka_retry
from common.kafka_retry import (
    MAX_ATTEMPTS,
    MessageTooLargeError,
    PermanentMessageError,
    dead_letter_middleware,
    retry_delay,
)
from contracts.events import ClaimOpened

MAX_MESSAGE_BYTES = 4096


class Order(BaseModel):
    order_id: int


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []

    async def record_sleep(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("common.kafka_retry.asyncio.sleep", record_sleep)
    return pauses


def _broker_with_dead_letters() -> tuple[KafkaBroker, list[bytes]]:
    broker = KafkaBroker(middlewares=[dead_letter_middleware("p.", MAX_MESSAGE_BYTES)])
    dead: list[bytes] = []

    @broker.subscriber("p.dead-letter")
    async def collect(message: KafkaMessage) -> None:
        dead.append(message.body)

    return broker, dead


def _broker_with_reasons() -> tuple[KafkaBroker, list[tuple[bytes, str]]]:
    """Return a broker and the body and ``reason`` header of each dead letter."""
    broker = KafkaBroker(middlewares=[dead_letter_middleware("p.", MAX_MESSAGE_BYTES)])
    dead: list[tuple[bytes, str]] = []

    @broker.subscriber("p.dead-letter")
    async def collect(message: KafkaMessage) -> None:
        dead.append((message.body, message.headers["reason"]))

    return broker, dead


def test_retry_delay_doubles_up_to_cap() -> None:
    delays = [retry_delay(attempts) for attempts in range(1, 10)]

    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == kafka_retry.MAX_DELAY_SECONDS


async def test_redelivered_failure_waits_longer(slept: list[float]) -> None:
    broker, dead = _broker_with_dead_letters()

    @broker.subscriber("orders")
    async def handler(order: Order) -> None:
        raise RuntimeError("database down")

    # The in-memory broker gives every message the same position, as a redelivery.
    with capture_logs() as logs:
        async with TestKafkaBroker(broker) as test_broker:
            for _ in range(2):
                with pytest.raises(RuntimeError, match="database down"):
                    await test_broker.publish({"order_id": 1}, "orders")

    failures = [entry for entry in logs if entry["event"] == "message handling failed"]
    assert [entry["attempts"] for entry in failures] == [1, 2]
    assert slept == [0.5, 1.0]
    assert dead == []


@pytest.mark.parametrize(
    "body",
    [b"not json {", b'{"order_id": "x"}', b'{"order_id": 1}'],
    ids=["not-json", "wrong-schema", "handler-gives-up"],
)
async def test_hopeless_message_goes_to_dead_letters(
    slept: list[float], body: bytes
) -> None:
    broker, dead = _broker_with_dead_letters()

    @broker.subscriber("orders")
    async def handler(order: Order) -> None:
        raise PermanentMessageError("unknown template")

    with capture_logs() as logs:
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish(body, "orders")

    moved = [e for e in logs if e["event"] == "message moved to dead-letter topic"]
    assert dead == [body]
    assert len(moved) == 1
    assert moved[0]["topic"] == "orders"
    assert slept == []


async def test_message_failing_every_time_ends_in_dead_letters(
    slept: list[float],
) -> None:
    broker, dead = _broker_with_dead_letters()

    @broker.subscriber("orders")
    async def handler(order: Order) -> None:
        raise RuntimeError("still down")

    async with TestKafkaBroker(broker) as test_broker:
        for _ in range(MAX_ATTEMPTS - 1):
            with pytest.raises(RuntimeError):
                await test_broker.publish({"order_id": 1}, "orders")
        await test_broker.publish({"order_id": 1}, "orders")

    assert len(slept) == MAX_ATTEMPTS - 1
    assert dead == [b'{"order_id":1}']


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("postgres down"),
        RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b""),
    ],
    ids=["connection-refused", "temporal-unavailable"],
)
async def test_outage_is_retried_past_attempt_limit(
    slept: list[float], error: Exception
) -> None:
    broker, dead = _broker_with_dead_letters()

    @broker.subscriber("orders")
    async def handler(order: Order) -> None:
        raise error

    async with TestKafkaBroker(broker) as test_broker:
        for _ in range(MAX_ATTEMPTS + 2):
            with pytest.raises(type(error)):
                await test_broker.publish({"order_id": 1}, "orders")

    assert dead == []
    assert len(slept) == MAX_ATTEMPTS + 2
    assert max(slept) == kafka_retry.MAX_DELAY_SECONDS


async def test_each_poison_kind_has_its_reason(slept: list[float]) -> None:
    broker, dead = _broker_with_reasons()
    handled: list[ClaimOpened] = []

    @broker.subscriber("claims")
    async def handler(event: ClaimOpened) -> None:
        handled.append(event)

    valid = ClaimOpened(
        case_id=uuid.uuid4(), insurer_code="PICC", claim_number="PICC-1"
    )
    document = valid.model_dump(mode="json")
    poison = {
        "not_json": b"\x00not json {",
        "schema_invalid": json.dumps({"claim": 1}).encode(),
        "version_unknown": json.dumps({**document, "schema_version": 99}).encode(),
        "too_large": json.dumps(
            {**document, "trace_id": "x" * MAX_MESSAGE_BYTES}
        ).encode(),
    }

    async with TestKafkaBroker(broker) as test_broker:
        for body in poison.values():
            await test_broker.publish(body, "claims")
        await test_broker.publish(valid.model_dump_json().encode(), "claims")

    assert dead == [(body, reason) for reason, body in poison.items()]
    assert handled == [valid]
    assert slept == []


def test_too_large_message_names_limit() -> None:
    error = MessageTooLargeError(5000, MAX_MESSAGE_BYTES)

    assert "5000 bytes" in str(error)
    assert "DINGZE_KAFKA_MAX_MESSAGE_BYTES" in str(error)
