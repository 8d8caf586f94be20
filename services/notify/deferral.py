"""The per-number rate limit without holding a Kafka partition.

The handler records each message in one short transaction (``admit``). A message
under the limit is marked 'sending' and sent at once. A message over the limit is
stored as 'deferred' with the time it may be sent, and the handler returns.
``DeferredSender`` sends the deferred messages when they fall due. A transaction
advisory lock per phone number keeps two decisions about one number apart, and a
handler that finds the lock taken defers rather than waits.

Numbers are stored sealed, so every query finds a number's messages by its keyed
hash (``phone_hash``), and the lock is taken on the hash too.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import asyncpg

from common.db import Connection
from common.sealing import Purpose, lookup_hash, seal
from contracts.events import SmsRequested
from services.notify.rate_limit import wait_before_send

# First key of the two-key advisory lock, so notify's locks on phone numbers
# cannot meet another lock on the same database.
PHONE_LOCK_CLASS = 7104


class Admission(StrEnum):
    SEND = "send"
    DEFERRED = "deferred"
    DONE = "done"


def phone_hash(phone: str) -> str:
    """Return the keyed hash that notify's tables find a phone number by."""
    return lookup_hash(phone, Purpose.PHONE)


async def lock_phone(connection: Connection, number_hash: str) -> bool:
    """Take the number's lock until the transaction ends; False when it is taken."""
    locked = await connection.fetchval(
        "SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
        PHONE_LOCK_CLASS,
        number_hash,
    )
    return bool(locked)


async def wait_for_number(
    connection: Connection, number_hash: str, limit: int, window: timedelta
) -> timedelta:
    """Return how long the number must wait before one more message.

    A message still 'sending' counts as sent now, so a send in flight is not
    overlooked. A 'sending' message older than the window does not count.
    """
    rows = await connection.fetch(
        """
        SELECT coalesce(sent_at, now()) AS sent_at FROM messages
        WHERE phone_hash = $1
          AND (sent_at > now() - $2::interval
               OR (status = 'sending' AND requested_at > now() - $2::interval))
        """,
        number_hash,
        window,
    )
    return wait_before_send(
        [row["sent_at"] for row in rows], datetime.now(UTC), limit, window
    )


async def admit(
    pool: asyncpg.Pool,
    request: SmsRequested,
    *,
    record_body: str,
    send_body: str,
    provider: str,
    limit: int,
    window: timedelta,
) -> tuple[Admission, timedelta]:
    """Record the message and decide whether it goes now or waits.

    Returns DONE when the message is already sent, rejected or deferred, SEND
    when the caller must send it now (also a message left 'sending' by a crash),
    and DEFERRED with the wait when it is stored for ``DeferredSender``. A number
    that already has deferred messages defers new ones too, so they go in order.
    """
    async with pool.acquire() as connection, connection.transaction():
        status = await connection.fetchval(
            "SELECT status FROM messages WHERE message_id = $1 FOR UPDATE",
            request.message_id,
        )
        if status == "sending":
            return Admission.SEND, timedelta(0)
        if status is not None:
            return Admission.DONE, timedelta(0)

        wait = timedelta(0)
        under_limit = False
        number_hash = phone_hash(request.phone)
        if await lock_phone(connection, number_hash):
            queued = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM messages"
                " WHERE phone_hash = $1 AND status = 'deferred')",
                number_hash,
            )
            if not queued:
                wait = await wait_for_number(connection, number_hash, limit, window)
                under_limit = wait <= timedelta(0)
        # Otherwise the deferred sender has locked the number, so the message waits.
        inserted = await connection.fetchval(
            """
            INSERT INTO messages (message_id, case_id, party_id, phone, phone_hash,
                                  template, body, provider, status, send_after,
                                  deferred_body)
            VALUES ($1, $2, $3, $4, $11, $5, $6, $7, $8, now() + $9::interval, $10)
            ON CONFLICT (message_id) DO NOTHING
            RETURNING true
            """,
            request.message_id,
            request.case_id,
            request.party_id,
            seal(request.phone, Purpose.PHONE),
            request.template,
            record_body,
            provider,
            "sending" if under_limit else "deferred",
            None if under_limit else max(wait, timedelta(0)),
            None if under_limit else send_body,
            number_hash,
        )
    if not inserted:
        return Admission.DONE, timedelta(0)
    if under_limit:
        return Admission.SEND, timedelta(0)
    return Admission.DEFERRED, wait


async def mark_sent(connection: Connection, message_id: str) -> None:
    await connection.execute(
        "UPDATE messages SET status = 'sent', sent_at = now(), send_after = NULL,"
        " deferred_body = NULL WHERE message_id = $1",
        message_id,
    )
