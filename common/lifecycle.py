"""Start-up and shutdown order shared by the services."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker

log = structlog.get_logger(__name__)


async def start_broker(broker: KafkaBroker, wait_seconds: float = 60.0) -> None:
    """Start the broker's producer and consumers, waiting up to ``wait_seconds``.

    A process may then start while Kafka is down or restarting.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            await broker.start()
            return
        except KafkaConnectionError as error:
            if time.monotonic() > deadline:
                raise
            log.warning("kafka not reachable yet", error=repr(error))
            await broker.stop()
            await asyncio.sleep(1)


@asynccontextmanager
async def consuming(broker: KafkaBroker, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Run the broker's consumers; on the way out stop them before closing the pool.

    Stopping the consumers first lets a handler in progress finish its database work.
    """
    await start_broker(broker)
    try:
        yield
    finally:
        await broker.stop()
        await pool.close()
