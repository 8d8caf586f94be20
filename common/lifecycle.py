"""Start-up and shutdown order shared by the services."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from faststream.kafka import KafkaBroker


@asynccontextmanager
async def consuming(broker: KafkaBroker, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Run the broker's consumers; on the way out stop them before closing the pool.

    Stopping the consumers first lets a handler in progress finish its database work.
    """
    # NOTE: broker.start() raises KafkaConnectionError at once while Kafka is
    # down, so the process exits and its supervisor must start it again.
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()
        await pool.close()
