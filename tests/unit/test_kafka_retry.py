import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from structlog.testing import capture_logs

from common import kafka_retry
from common.kafka_retry import BackoffOnFailureMiddleware, retry_delay


def test_retry_delay_doubles_up_to_cap() -> None:
    delays = [retry_delay(attempts) for attempts in range(1, 10)]

    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == kafka_retry.MAX_DELAY_SECONDS


async def test_redelivered_failure_waits_longer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []

    async def record_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("common.kafka_retry.asyncio.sleep", record_sleep)
    broker = KafkaBroker(middlewares=[BackoffOnFailureMiddleware])

    @broker.subscriber("always-fails")
    async def handler(body: dict[str, str]) -> None:
        raise RuntimeError("boom")

    # The in-memory broker gives every message the same position, as a redelivery.
    with capture_logs() as logs:
        async with TestKafkaBroker(broker) as test_broker:
            for _ in range(2):
                with pytest.raises(RuntimeError, match="boom"):
                    await test_broker.publish({"a": "b"}, "always-fails")

    failures = [entry for entry in logs if entry["event"] == "message handling failed"]
    assert [entry["topic"] for entry in failures] == ["always-fails", "always-fails"]
    assert [entry["attempts"] for entry in failures] == [1, 2]
    assert slept == [0.5, 1.0]
