"""The transactional outbox: events written with the state change, relayed to Kafka.

A service never publishes from a request or a handler. It adds the event to the
``outbox`` table of its own schema in the transaction that changes its state, so
the change and the event commit together or not at all. ``OutboxRelay`` then reads
the unsent rows in order, publishes them with the broker's idempotent producer and
marks them sent. A crash between the commit and the publish leaves the row unsent,
and the next relay run publishes it. A crash between the publish and the mark sends
the row again, with the same event id, which every consumer's inbox drops.

Events carry personal data, so each row's payload is stored sealed
(``common/sealing.py``) and opened only to publish it.
"""

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka.structs import RecordMetadata
from faststream.kafka import KafkaBroker

from common.db import Connection, create_pool
from common.kafka import make_broker, topic_name
from common.logging import configure_logging
from common.outages import is_unavailable
from common.sealing import Purpose, seal, unseal
from common.settings import PlatformSettings
from contracts.events import Event

log = structlog.get_logger(__name__)

# The channel that a committed outbox write wakes the relay on.
OUTBOX_CHANNEL = "outbox"
BATCH_SIZE = 100


async def add_to_outbox(
    connection: Connection,
    settings: PlatformSettings,
    event: Event,
    topic: str | None = None,
) -> bool:
    """Add an event to the outbox in the caller's transaction.

    Returns False when an event with the same id is already there, so a repeated
    request or a retried activity writes nothing new.
    """
    added = await connection.fetchval(
        "INSERT INTO outbox (event_id, topic, message_key, payload, trace_id)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        event.event_id,
        topic_name(settings, topic or event.topic),
        str(event.case_id),
        seal(event.model_dump_json(), Purpose.OUTBOX),
        event.trace_id,
    )
    # Delivered at commit, so the relay wakes only for rows it can see.
    await connection.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
    return bool(added)


@dataclass(frozen=True)
class OutboxRow:
    position: int
    event_id: str
    topic: str
    message_key: str
    payload: str
    trace_id: str


class OutboxRelay:
    """Publishes a schema's unsent outbox rows in the order they were written.

    One relay per schema keeps the order of each case's events. A second relay
    (another copy of the service) waits on the row locks instead of publishing
    the same rows at the same time.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        broker: KafkaBroker,
        poll_seconds: float = 5.0,
    ) -> None:
        self._pool = pool
        self._broker = broker
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def relay_pending(self) -> int:
        """Publish every unsent row; return how many were published."""
        published = 0
        while True:
            count = await self._relay_batch()
            published += count
            if count < BATCH_SIZE:
                return published

    async def _relay_batch(self) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                "SELECT position, event_id::text, topic, message_key, payload,"
                " trace_id FROM outbox WHERE sent_at IS NULL"
                " ORDER BY position LIMIT $1 FOR UPDATE",
                BATCH_SIZE,
            )
            # Hand every row to the producer in order, then wait for all the
            # acknowledgements at once: one round trip to Kafka for the batch
            # rather than one a row. The producer keeps the order of each
            # partition, and a failed send leaves the whole batch unsent.
            deliveries = [await self._publish(OutboxRow(**dict(row))) for row in rows]
            outcomes = await asyncio.gather(*deliveries, return_exceptions=True)
            failures = [o for o in outcomes if isinstance(o, BaseException)]
            if failures:
                raise failures[0]
            for row in rows:
                log.info(
                    "event published",
                    topic=row["topic"],
                    event_id=row["event_id"],
                    case_id=row["message_key"],
                    trace_id=row["trace_id"],
                )
            if rows:
                await connection.execute(
                    "UPDATE outbox SET sent_at = now() WHERE position = ANY($1)",
                    [row["position"] for row in rows],
                )
        return len(rows)

    async def _publish(self, row: OutboxRow) -> "asyncio.Future[RecordMetadata]":
        """Queue one row in the producer; the future resolves on Kafka's ack."""
        delivery: asyncio.Future[RecordMetadata] = await self._broker.publish(
            unseal(row.payload, Purpose.OUTBOX).encode(),
            topic=row.topic,
            key=row.message_key.encode(),
            headers={
                "content-type": "application/json",
                "event-id": row.event_id,
                "trace-id": row.trace_id,
            },
            no_confirm=True,
        )
        return delivery

    async def run(self) -> None:
        """Relay until cancelled: at each commit notice, and every poll interval."""
        async with self._listening():
            while True:
                self._wake.clear()
                try:
                    await self.relay_pending()
                except Exception as error:
                    # The rows stay unsent and go out on a later pass.
                    if is_unavailable(error):
                        log.warning("outbox relay waiting", error=repr(error))
                    else:
                        log.exception("outbox relay failed", error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[None]:
        connection = await self._pool.acquire()

        def wake(*_: object) -> None:
            self._wake.set()

        await connection.add_listener(OUTBOX_CHANNEL, wake)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await connection.remove_listener(OUTBOX_CHANNEL, wake)
            await self._pool.release(connection)


@contextlib.asynccontextmanager
async def relaying(
    pool: asyncpg.Pool, broker: KafkaBroker, settings: PlatformSettings
) -> AsyncIterator[OutboxRelay]:
    """Run a relay for the pool's outbox in the background while the block runs.

    With ``DINGZE_OUTBOX_RELAY=false`` the process only writes its outbox, and a
    relay run elsewhere (``python -m common.outbox SCHEMA``) publishes it.
    """
    relay = OutboxRelay(pool, broker, settings.outbox_poll_seconds)
    task = asyncio.create_task(relay.run()) if settings.outbox_relay else None
    try:
        yield relay
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def run_relay(settings: PlatformSettings, schema: str) -> None:
    """Relay one schema's outbox until the process is stopped."""
    pool = await create_pool(settings.database_url, schema, max_size=2)
    broker = make_broker(settings, f"{schema}-outbox-relay")
    await broker.start()
    log.info("outbox relay started", schema=schema)
    try:
        await OutboxRelay(pool, broker, settings.outbox_poll_seconds).run()
    finally:
        await broker.stop()
        await pool.close()


if __name__ == "__main__":
    relay_settings = PlatformSettings()
    configure_logging("outbox-relay", relay_settings.log_level)
    asyncio.run(run_relay(relay_settings, sys.argv[1]))
