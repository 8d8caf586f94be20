"""The reconsideration queue: requests waiting for a second officer, and decisions."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from contracts.events import CaseReconsiderationRequested
from contracts.review import ReconsiderationDecision


@dataclass(frozen=True)
class ReconsiderationRecord:
    request: CaseReconsiderationRequested
    status: str
    first_officer_id: str
    decision: ReconsiderationDecision | None
    decided_at: datetime | None


class ReconsiderationStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(self, event: CaseReconsiderationRequested) -> None:
        """Queue a request; a redelivered event leaves the row as it is."""
        await self._pool.execute(
            "INSERT INTO reconsiderations"
            " (case_id, status, request_event, requested_at, first_officer_id)"
            " VALUES ($1, 'queued', $2, $3, $4) ON CONFLICT (case_id) DO NOTHING",
            event.case_id,
            event.model_dump(mode="json"),
            event.requested_at,
            event.ruling.officer_id,
        )

    async def queued(
        self, limit: int, excluded_officer: str
    ) -> list[CaseReconsiderationRequested]:
        """Return waiting requests, oldest first, except ``excluded_officer``'s rulings.

        The officer who gave a ruling never reconsiders it, so it is not listed for
        them.
        """
        rows = await self._pool.fetch(
            "SELECT request_event FROM reconsiderations WHERE status = 'queued'"
            " AND first_officer_id <> $2 ORDER BY requested_at LIMIT $1",
            limit,
            excluded_officer,
        )
        return [
            CaseReconsiderationRequested.model_validate(row["request_event"])
            for row in rows
        ]

    async def get(self, case_id: UUID) -> ReconsiderationRecord | None:
        row = await self._pool.fetchrow(
            "SELECT request_event, status, first_officer_id, decision, decided_at"
            " FROM reconsiderations WHERE case_id = $1",
            case_id,
        )
        if row is None:
            return None
        decision = row["decision"]
        return ReconsiderationRecord(
            request=CaseReconsiderationRequested.model_validate(row["request_event"]),
            status=row["status"],
            first_officer_id=row["first_officer_id"],
            decision=None
            if decision is None
            else ReconsiderationDecision.model_validate(decision),
            decided_at=row["decided_at"],
        )

    async def mark_decided(
        self, case_id: UUID, decision: ReconsiderationDecision, decided_at: datetime
    ) -> None:
        await self._pool.execute(
            "UPDATE reconsiderations SET status = 'decided', decision = $2,"
            " decided_at = $3 WHERE case_id = $1",
            case_id,
            decision.model_dump(mode="json"),
            decided_at,
        )
