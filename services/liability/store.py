"""The officer queue: cases waiting for a ruling, the rulings given, and escalations."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from common.inbox import first_delivery
from contracts.events import CaseClosed, CaseEscalated, CaseQueued, CaseRuled
from contracts.ruling import Ruling


@dataclass(frozen=True)
class QueuedCaseRecord:
    event: CaseQueued
    status: str
    queued_at: datetime
    ruling: Ruling | None
    ruled_at: datetime | None
    claimed_by: str | None
    lease_expires_at: datetime | None
    escalated_at: datetime | None
    urgent_at: datetime | None
    document_number: str | None = None


class OverdueCase(BaseModel):
    """A case whose ruling target passed, as supervisors see it."""

    case_id: UUID
    breached_at: datetime
    target_minutes: float
    status: str
    claimed_by: str | None
    address: str


_CLOSE_QUEUED = (
    "UPDATE cases SET status = 'closed', closed_outcome = $2"
    " WHERE case_id = $1 AND status IN ('queued', 'awaiting_evidence')"
)
_COLUMNS = (
    "queued_event, status, queued_at, ruling, ruled_at, claimed_by,"
    " lease_expires_at, escalated_at, urgent_at, document_number"
)


def _record(row: asyncpg.Record) -> QueuedCaseRecord:
    return QueuedCaseRecord(
        event=CaseQueued.model_validate(row["queued_event"]),
        status=row["status"],
        queued_at=row["queued_at"],
        ruling=None if row["ruling"] is None else Ruling.model_validate(row["ruling"]),
        ruled_at=row["ruled_at"],
        claimed_by=row["claimed_by"],
        lease_expires_at=row["lease_expires_at"],
        escalated_at=row["escalated_at"],
        urgent_at=row["urgent_at"],
        document_number=row["document_number"],
    )


class QueueStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def enqueue(self, event: CaseQueued) -> None:
        """Add a case to the queue, or put it back after more evidence arrived.

        A redelivered event leaves the case as it is.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                "INSERT INTO cases (case_id, status, queued_event, queued_at)"
                " VALUES ($1, 'queued', $2, $3) ON CONFLICT (case_id) DO UPDATE"
                " SET status = 'queued', queued_event = excluded.queued_event,"
                " queued_at = excluded.queued_at, claimed_by = NULL,"
                " claimed_at = NULL, lease_expires_at = NULL"
                " WHERE cases.status = 'awaiting_evidence'",
                event.case_id,
                event.model_dump(mode="json"),
                event.occurred_at,
            )

    async def queued(
        self, limit: int, badge: str, include_claimed: bool = False
    ) -> list[QueuedCaseRecord]:
        """Return unclaimed cases and those ``badge`` holds, urgent or escalated first.

        With ``include_claimed``, cases under other officers' live claims too.
        """
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM cases WHERE status = 'queued'"
            " AND ($3 OR lease_expires_at IS NULL OR lease_expires_at <= now()"
            "      OR claimed_by = $2)"
            " ORDER BY (urgent_at IS NULL AND escalated_at IS NULL), queued_at"
            " LIMIT $1",
            limit,
            badge,
            include_claimed,
        )
        return [_record(row) for row in rows]

    async def get(self, case_id: UUID) -> QueuedCaseRecord | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM cases WHERE case_id = $1", case_id
        )
        return None if row is None else _record(row)

    async def mark_closed(self, case_id: UUID, outcome: str) -> None:
        """Take a case out of the queue; a ruled case keeps its status."""
        await self._pool.execute(_CLOSE_QUEUED, case_id, outcome)

    async def apply_case_closed(self, event: CaseClosed) -> None:
        """Close the case from its workflow's event, once per event id."""
        async with self._pool.acquire() as connection, connection.transaction():
            if await first_delivery(connection, event.event_id, event.topic):
                await connection.execute(_CLOSE_QUEUED, event.case_id, event.outcome)

    async def mark_awaiting_evidence(self, case_id: UUID) -> None:
        """Take the case out of the queue until its new evidence passes the checks."""
        await self._pool.execute(
            "UPDATE cases SET status = 'awaiting_evidence', claimed_by = NULL,"
            " claimed_at = NULL, lease_expires_at = NULL"
            " WHERE case_id = $1 AND status = 'queued'",
            case_id,
        )

    async def mark_ruled(
        self, case_id: UUID, ruling: Ruling, ruled_at: datetime
    ) -> None:
        await self._pool.execute(
            "UPDATE cases SET status = 'ruled', ruling = $2, ruled_at = $3,"
            " lease_expires_at = NULL WHERE case_id = $1",
            case_id,
            ruling.model_dump(mode="json"),
            ruled_at,
        )

    async def apply_case_ruled(self, event: CaseRuled) -> bool:
        """Record the ruling document's number; False when the case is not here.

        The event also marks the case ruled when the response to the officer's
        ruling was lost before ``mark_ruled``. A ruling recorded from the API
        keeps its own time. Repeating the event changes nothing.
        """
        updated = await self._pool.fetchval(
            "UPDATE cases SET document_number = nullif($2, ''),"
            " ruling = coalesce(ruling, $3), ruled_at = coalesce(ruled_at, $4),"
            " status = 'ruled', lease_expires_at = NULL"
            " WHERE case_id = $1 AND status IN ('queued', 'awaiting_evidence', 'ruled')"
            " RETURNING case_id",
            event.case_id,
            event.document_number,
            event.ruling.model_dump(mode="json"),
            event.occurred_at,
        )
        return updated is not None

    async def mark_urgent(self, case_id: UUID, urgent: bool) -> bool:
        """Set or clear a queued case's urgency; False when it is not queued."""
        updated = await self._pool.fetchval(
            "UPDATE cases SET urgent_at = CASE WHEN $2 THEN coalesce(urgent_at, now())"
            " END WHERE case_id = $1 AND status = 'queued' RETURNING case_id",
            case_id,
            urgent,
        )
        return updated is not None

    async def mark_escalated(self, event: CaseEscalated) -> None:
        """Record the alert supervisors see and move the case to the queue's head."""
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                "INSERT INTO ruling_overdue_alerts"
                " (case_id, breached_at, target_minutes, claimed_by)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (case_id) DO NOTHING",
                event.case_id,
                event.occurred_at,
                event.target_minutes,
                event.claimed_by,
            )
            await connection.execute(
                "UPDATE cases SET escalated_at = $2"
                " WHERE case_id = $1 AND escalated_at IS NULL",
                event.case_id,
                event.occurred_at,
            )

    async def overdue(self, limit: int) -> list[OverdueCase]:
        rows = await self._pool.fetch(
            "SELECT a.case_id, a.breached_at, a.target_minutes,"
            " coalesce(c.status, 'unknown') AS status,"
            " coalesce(c.claimed_by, a.claimed_by) AS claimed_by,"
            " coalesce(c.queued_event->'location'->>'address', '') AS address"
            " FROM ruling_overdue_alerts a LEFT JOIN cases c USING (case_id)"
            " ORDER BY a.breached_at DESC LIMIT $1",
            limit,
        )
        return [OverdueCase.model_validate(dict(row)) for row in rows]
