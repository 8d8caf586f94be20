"""Intake's chain-of-custody records: every step of every evidence object.

Intake owns the table, and it is the only writer: it records uploads itself and
appends the steps other services announce as ``evidence.custody`` events (a hash
taken again, a thumbnail made, a link issued to an officer). Rows are only added.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from contracts.custody import CustodyAction
from contracts.events import CustodyRecorded


@dataclass(frozen=True)
class CustodyEntry:
    """One step in an evidence object's custody."""

    entry_id: UUID
    case_id: UUID
    action: CustodyAction
    object_key: str
    actor: str
    occurred_at: datetime
    sha256: str | None = None
    size_bytes: int | None = None
    case_link: str | None = None
    detail: str = ""

    @classmethod
    def from_event(cls, event: CustodyRecorded) -> "CustodyEntry":
        return cls(
            entry_id=event.event_id,
            case_id=event.case_id,
            action=event.action,
            object_key=event.object_key,
            actor=event.actor,
            occurred_at=event.occurred_at,
            sha256=event.sha256,
            size_bytes=event.size_bytes,
            detail=event.detail,
        )


async def append_custody(
    connection: asyncpg.Pool | PoolConnectionProxy, entry: CustodyEntry
) -> None:
    """Append an entry; an entry id seen before (a redelivered event) adds nothing."""
    await connection.execute(
        """
        INSERT INTO custody_records (entry_id, case_id, action, object_key, actor,
            case_link, sha256, size_bytes, detail, occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (entry_id) DO NOTHING
        """,
        entry.entry_id,
        entry.case_id,
        entry.action.value,
        entry.object_key,
        entry.actor,
        entry.case_link,
        entry.sha256,
        entry.size_bytes,
        entry.detail,
        entry.occurred_at,
    )


async def custody_trail(pool: asyncpg.Pool, case_id: UUID) -> list[CustodyEntry]:
    """Return a case's custody entries in the order they were recorded."""
    rows = await pool.fetch(
        "SELECT entry_id, case_id, action, object_key, actor, case_link, sha256,"
        " size_bytes, detail, occurred_at FROM custody_records"
        " WHERE case_id = $1 ORDER BY position",
        case_id,
    )
    return [
        CustodyEntry(
            entry_id=row["entry_id"],
            case_id=row["case_id"],
            action=CustodyAction(row["action"]),
            object_key=row["object_key"],
            actor=row["actor"],
            occurred_at=row["occurred_at"],
            sha256=None if row["sha256"] is None else row["sha256"].strip(),
            size_bytes=row["size_bytes"],
            case_link=row["case_link"],
            detail=row["detail"],
        )
        for row in rows
    ]
