"""The officer queue: cases waiting for a ruling, and the rulings given."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from common.inbox import first_delivery
from contracts.events import CaseClosed, CaseQueued
from contracts.ruling import Ruling

_CLOSE_QUEUED = (
    "UPDATE cases SET status = 'closed', closed_outcome = $2"
    " WHERE case_id = $1 AND status = 'queued'"
)


@dataclass(frozen=True)
class QueuedCaseRecord:
    event: CaseQueued
    status: str
    ruling: Ruling | None
    ruled_at: datetime | None


class QueueStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(self, event: CaseQueued) -> None:
        """Add a case to the queue; a redelivered event leaves it as it is."""
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                "INSERT INTO cases (case_id, status, queued_event, queued_at)"
                " VALUES ($1, 'queued', $2, $3) ON CONFLICT (case_id) DO NOTHING",
                event.case_id,
                event.model_dump(mode="json"),
                event.occurred_at,
            )

    async def queued(self, limit: int) -> list[tuple[CaseQueued, datetime]]:
        rows = await self._pool.fetch(
            "SELECT queued_event, queued_at FROM cases WHERE status = 'queued'"
            " ORDER BY queued_at LIMIT $1",
            limit,
        )
        return [
            (CaseQueued.model_validate(row["queued_event"]), row["queued_at"])
            for row in rows
        ]

    async def get(self, case_id: UUID) -> QueuedCaseRecord | None:
        row = await self._pool.fetchrow(
            "SELECT queued_event, status, ruling, ruled_at FROM cases"
            " WHERE case_id = $1",
            case_id,
        )
        if row is None:
            return None
        return QueuedCaseRecord(
            event=CaseQueued.model_validate(row["queued_event"]),
            status=row["status"],
            ruling=None
            if row["ruling"] is None
            else Ruling.model_validate(row["ruling"]),
            ruled_at=row["ruled_at"],
        )

    async def mark_closed(self, case_id: UUID, outcome: str) -> None:
        """Take a case out of the queue; a ruled case keeps its status."""
        await self._pool.execute(_CLOSE_QUEUED, case_id, outcome)

    async def apply_case_closed(self, event: CaseClosed) -> None:
        """Close the case from its workflow's event, once per event id."""
        async with self._pool.acquire() as connection, connection.transaction():
            if await first_delivery(connection, event.event_id, event.topic):
                await connection.execute(_CLOSE_QUEUED, event.case_id, event.outcome)

    async def mark_ruled(
        self, case_id: UUID, ruling: Ruling, ruled_at: datetime
    ) -> None:
        await self._pool.execute(
            "UPDATE cases SET status = 'ruled', ruling = $2, ruled_at = $3"
            " WHERE case_id = $1",
            case_id,
            ruling.model_dump(mode="json"),
            ruled_at,
        )
