"""Sends deferred text messages once their number is under its rate limit again.

Each message is sent inside a transaction that holds its row and its number's
lock, and is marked sent before that transaction commits. A notify stopped or
killed mid-send leaves the message deferred, and the next scan sends it again
with the same message id. The local provider's delivery is written in that
transaction and rolls back with it; a gateway drops the repeat by the id.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import structlog

from common.db import Connection
from common.kafka_retry import PermanentMessageError
from common.outages import is_unavailable
from common.sealing import Purpose, unseal
from services.notify.deferral import lock_phone, wait_for_number
from services.notify.providers import SmsProvider

log = structlog.get_logger(__name__)
BATCH_SIZE = 50
# Pause before a deferred message whose send failed is tried again.
RETRY_AFTER = timedelta(seconds=30)


class DeferredSender:
    """Sends due deferred messages; copies of notify share them by row locks."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        provider: SmsProvider,
        *,
        limit: int,
        window: timedelta,
        poll_seconds: float,
    ) -> None:
        self._pool = pool
        self._provider = provider
        self._limit = limit
        self._window = window
        self._poll_seconds = poll_seconds

    async def run(self, stopping: asyncio.Event) -> None:
        """Scan for due messages until ``stopping`` is set, finishing a send begun."""
        while not stopping.is_set():
            try:
                await self.send_due(stopping)
            except Exception as error:
                if is_unavailable(error):
                    log.warning("deferred sender waiting", error=repr(error))
                else:
                    log.exception("deferred sender failed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._poll_seconds)

    async def send_due(self, stopping: asyncio.Event) -> int:
        """Send the deferred messages that are due; return how many were sent.

        Only each number's oldest deferred message is a candidate, so a number's
        messages go in the order they were requested.
        """
        due = await self._pool.fetch(
            """
            SELECT message_id FROM (
                SELECT DISTINCT ON (phone_hash) message_id, send_after, requested_at
                FROM messages WHERE status = 'deferred'
                ORDER BY phone_hash, requested_at, message_id
            ) oldest
            WHERE send_after <= now()
            ORDER BY send_after, requested_at
            LIMIT $1
            """,
            BATCH_SIZE,
        )
        sent = 0
        for row in due:
            if stopping.is_set():
                break
            sent += await self._send_one(row["message_id"])
        return sent

    async def _send_one(self, message_id: str) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT message_id, case_id, phone, phone_hash, deferred_body"
                " FROM messages"
                " WHERE message_id = $1 AND status = 'deferred'"
                " AND send_after <= now() FOR UPDATE SKIP LOCKED",
                message_id,
            )
            # Another copy of notify has locked the message or its number.
            if row is None or not await lock_phone(connection, row["phone_hash"]):
                return 0
            fields = {"message_id": message_id, "case_id": str(row["case_id"])}
            wait = await wait_for_number(
                connection, row["phone_hash"], self._limit, self._window
            )
            if wait > timedelta(0):
                await _postpone(connection, message_id, wait, None)
                log.info(
                    "deferred sms still rate limited",
                    wait_seconds=wait.total_seconds(),
                    **fields,
                )
                return 0
            try:
                await self._provider.send(
                    message_id,
                    unseal(row["phone"], Purpose.PHONE),
                    row["deferred_body"],
                    connection,
                )
            except PermanentMessageError as error:
                await connection.execute(
                    "UPDATE messages SET status = 'rejected', send_after = NULL,"
                    " deferred_body = NULL, last_error = $2 WHERE message_id = $1",
                    message_id,
                    str(error)[:500],
                )
                log.error("deferred sms rejected", error=str(error), **fields)
                return 0
            except Exception as error:
                await _postpone(connection, message_id, RETRY_AFTER, repr(error))
                log.warning(
                    "deferred sms failed",
                    error=repr(error),
                    retry_in_seconds=RETRY_AFTER.total_seconds(),
                    **fields,
                )
                return 0
            await connection.execute(
                "UPDATE messages SET status = 'sent', sent_at = now(),"
                " send_after = NULL, deferred_body = NULL, last_error = NULL"
                " WHERE message_id = $1",
                message_id,
            )
            log.info("sms sent", deferred=True, **fields)
            return 1


async def _postpone(
    connection: Connection,
    message_id: str,
    wait: timedelta,
    error: str | None,
) -> None:
    await connection.execute(
        "UPDATE messages SET send_after = now() + $2::interval, last_error = $3"
        " WHERE message_id = $1",
        message_id,
        wait,
        error,
    )


@contextlib.asynccontextmanager
async def sending_deferred(sender: DeferredSender) -> AsyncIterator[None]:
    """Run the sender while the block runs; on the way out let a send finish."""
    stopping = asyncio.Event()
    task = asyncio.create_task(sender.run(stopping))
    try:
        yield
    finally:
        stopping.set()
        await task
