"""HTTPS webhooks to insurers that ask for them: signed, retried, then parked.

An insurer's notification, settlement confirmation, reminder or escalation is
queued for its webhook in the transaction that writes its outbox row
(``queue_webhook``).
``WebhookDispatcher`` posts due deliveries with the insurer's HMAC-SHA256 signature
(``contracts/webhooks.py``) and the event's topic. A 2xx response marks a delivery
done; any other response or a network error schedules the next try after a pause
that doubles. After the last try the delivery moves to ``webhook_dead_letters``,
from which ``redeliver`` puts it back in line.
"""

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import httpx
import structlog

from common.db import Connection
from common.outages import is_unavailable
from common.sealing import Purpose, seal, unseal
from contracts.events import Event
from contracts.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, TOPIC_HEADER, sign

log = structlog.get_logger(__name__)
BATCH_SIZE = 20


async def queue_webhook(
    connection: Connection, event: Event, insurer_code: str, topic: str
) -> None:
    """Queue the event for the insurer's webhook; ``topic`` goes as a header."""
    await connection.execute(
        "INSERT INTO webhook_deliveries"
        " (event_id, insurer_code, case_id, payload, topic)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, insurer_code) DO NOTHING",
        event.event_id,
        insurer_code,
        event.case_id,
        seal(event.model_dump_json(), Purpose.WEBHOOK_PAYLOAD),
        topic,
    )


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_delay_seconds: float
    max_delay_seconds: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Return the pause after the given number of failed attempts."""
        seconds = self.first_delay_seconds * 2 ** (attempts - 1)
        return timedelta(seconds=min(seconds, self.max_delay_seconds))


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Trust the system's CAs, and also ``ca_file`` when given (a private CA)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


class WebhookDispatcher:
    """Posts due webhook deliveries; several copies share the work by row locks."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        http: httpx.AsyncClient,
        policy: RetryPolicy,
        poll_seconds: float,
    ) -> None:
        self._pool = pool
        self._http = http
        self._policy = policy
        self._poll_seconds = poll_seconds

    async def run(self) -> None:
        while True:
            try:
                await self.deliver_due()
            except Exception as error:
                if is_unavailable(error):
                    log.warning("webhook dispatcher waiting", error=repr(error))
                else:
                    log.exception("webhook dispatcher failed", error=repr(error))
            await asyncio.sleep(self._poll_seconds)

    async def deliver_due(self) -> int:
        """Try every delivery that is due once; return how many were tried."""
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                """
                SELECT d.delivery_id, d.event_id, d.insurer_code, d.case_id,
                       d.payload, d.topic, d.attempts, i.webhook_url,
                       i.signing_secret, i.active
                FROM webhook_deliveries d JOIN insurers i ON i.code = d.insurer_code
                WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now()
                ORDER BY d.next_attempt_at
                LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
                """,
                BATCH_SIZE,
            )
            for row in rows:
                error = await self._post(row)
                await self._record(connection, row, error)
        return len(rows)

    async def _post(self, row: asyncpg.Record) -> str | None:
        """Post one delivery; return None on a 2xx response, else the failure."""
        if not row["active"] or not row["webhook_url"]:
            return "insurer is inactive or has no webhook URL"
        body = unseal(row["payload"], Purpose.WEBHOOK_PAYLOAD).encode()
        secret = unseal(row["signing_secret"], Purpose.WEBHOOK_SECRET)
        headers = {
            "content-type": "application/json",
            EVENT_ID_HEADER: str(row["event_id"]),
            TOPIC_HEADER: row["topic"],
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
            "user-agent": "Dingze-Webhooks/1",
        }
        try:
            response = await self._http.post(
                row["webhook_url"], content=body, headers=headers
            )
        except httpx.HTTPError as error:
            return repr(error)[:500]
        if response.is_success:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"

    async def _record(
        self, connection: Connection, row: asyncpg.Record, error: str | None
    ) -> None:
        attempts = row["attempts"] + 1
        fields = {
            "delivery_id": row["delivery_id"],
            "event_id": str(row["event_id"]),
            "case_id": str(row["case_id"]),
            "insurer": row["insurer_code"],
            "attempts": attempts,
        }
        if error is None:
            await connection.execute(
                "UPDATE webhook_deliveries SET attempts = $2, delivered_at = now(),"
                " last_error = NULL WHERE delivery_id = $1",
                row["delivery_id"],
                attempts,
            )
            log.info("webhook delivered", **fields)
        elif attempts >= self._policy.max_attempts:
            await _park(connection, row["delivery_id"], attempts, error)
            log.error("webhook parked in dead letters", error=error, **fields)
        else:
            delay = self._policy.delay(attempts)
            await connection.execute(
                "UPDATE webhook_deliveries SET attempts = $2, last_error = $3,"
                " next_attempt_at = now() + $4 WHERE delivery_id = $1",
                row["delivery_id"],
                attempts,
                error,
                delay,
            )
            log.warning(
                "webhook failed",
                error=error,
                retry_in_seconds=delay.total_seconds(),
                **fields,
            )


async def _park(
    connection: Connection, delivery_id: int, attempts: int, error: str
) -> None:
    await connection.execute(
        """
        INSERT INTO webhook_dead_letters (delivery_id, event_id, insurer_code,
            case_id, payload, topic, attempts, last_error, created_at)
        SELECT delivery_id, event_id, insurer_code, case_id, payload, topic, $2, $3,
               created_at
        FROM webhook_deliveries WHERE delivery_id = $1
        """,
        delivery_id,
        attempts,
        error,
    )
    await connection.execute(
        "DELETE FROM webhook_deliveries WHERE delivery_id = $1", delivery_id
    )


async def redeliver(connection: Connection, delivery_ids: list[int]) -> list[int]:
    """Put parked deliveries back in line for a fresh set of tries.

    Returns the ids that were parked; the others are skipped.
    """
    async with connection.transaction():
        moved = await connection.fetch(
            """
            WITH parked AS (
                DELETE FROM webhook_dead_letters WHERE delivery_id = ANY($1)
                RETURNING delivery_id, event_id, insurer_code, case_id, payload,
                          topic, last_error, created_at
            )
            INSERT INTO webhook_deliveries (delivery_id, event_id, insurer_code,
                case_id, payload, topic, last_error, created_at)
            SELECT * FROM parked
            RETURNING delivery_id
            """,
            delivery_ids,
        )
    return sorted(row["delivery_id"] for row in moved)


@contextlib.asynccontextmanager
async def dispatching(
    pool: asyncpg.Pool, policy: RetryPolicy, poll_seconds: float, ca_file: str
) -> AsyncIterator[None]:
    """Run a dispatcher in the background while the block runs."""
    async with httpx.AsyncClient(verify=tls_context(ca_file), timeout=10.0) as http:
        dispatcher = WebhookDispatcher(pool, http, policy, poll_seconds)
        task = asyncio.create_task(dispatcher.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
