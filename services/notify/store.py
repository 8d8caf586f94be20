"""Every text message requested, keyed by its message id."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from contracts.events import SmsRequested


class MessageStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, request: SmsRequested, body: str, provider: str) -> bool:
        """Record the message; return False if it was already sent."""
        status = await self._pool.fetchval(
            """
            INSERT INTO messages (message_id, case_id, party_id, phone, template, body,
                                  provider, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending')
            ON CONFLICT (message_id) DO UPDATE SET message_id = excluded.message_id
            RETURNING status
            """,
            request.message_id,
            request.case_id,
            request.party_id,
            request.phone,
            request.template,
            body,
            provider,
        )
        return bool(status == "sending")

    async def mark_sent(self, message_id: str) -> None:
        await self._pool.execute(
            "UPDATE messages SET status = 'sent', sent_at = now()"
            " WHERE message_id = $1",
            message_id,
        )

    async def recent_sends(self, phone: str, window: timedelta) -> list[datetime]:
        rows = await self._pool.fetch(
            "SELECT sent_at FROM messages"
            " WHERE phone = $1 AND sent_at > now() - $2::interval",
            phone,
            window,
        )
        return [row["sent_at"] for row in rows]

    async def record_receipt(self, message_id: str, status: str) -> bool:
        """Store a gateway's delivery receipt; False for an unknown message."""
        updated = await self._pool.execute(
            "UPDATE messages SET delivery_status = $2, receipt_at = now()"
            " WHERE message_id = $1",
            message_id,
            status,
        )
        return bool(updated == "UPDATE 1")

    async def for_case(self, case_id: UUID) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            "SELECT message_id, party_id, phone, template, body, status, requested_at,"
            " sent_at FROM messages WHERE case_id = $1"
            " ORDER BY requested_at, message_id",
            case_id,
        )
        return [dict(row) for row in rows]
