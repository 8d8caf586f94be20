"""Every text message requested, keyed by its message id."""

from typing import Any
from uuid import UUID

import asyncpg


class MessageStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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
