"""A process whose Kafka consumers start while Kafka is down waits for it."""

import asyncio

import pytest
from faststream.kafka import KafkaBroker

from chaos.targets import StackEngine
from common.lifecycle import start_broker
from common.settings import PlatformSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def test_broker_waits_for_restarted_kafka(settings: PlatformSettings) -> None:
    kafka = StackEngine("kafka", settings)
    broker = KafkaBroker(settings.kafka_bootstrap)

    @broker.subscriber("broker-start-wait-probe", group_id="broker-start-wait-probe")
    async def probe(message: str) -> None:
        return None

    await asyncio.to_thread(kafka.kill)
    try:
        starting = asyncio.create_task(start_broker(broker, wait_seconds=240))
        # Long enough for a start that does not wait to fail on the refused port.
        await asyncio.sleep(5)
        failed_early = starting.done()
    finally:
        await asyncio.to_thread(kafka.start)
    try:
        await asyncio.wait_for(starting, timeout=240)
    finally:
        await broker.stop()
    await kafka.wait_ready()

    assert not failed_early
