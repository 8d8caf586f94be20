"""Claims on queued cases: an officer's lease, renewed while they work on the case.

PostgreSQL holds the lease. A case whose lease has expired is back in the queue,
for anyone to claim, without a sweeper: the queue query skips only live leases.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    RENEWED = "renewed"
    HELD_BY_OTHER = "held_by_other"
    NOT_CLAIMED = "not_claimed"
    NOT_QUEUED = "not_queued"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None


_LOCK = (
    "SELECT status, claimed_by, lease_expires_at, now() AS now FROM cases"
    " WHERE case_id = $1 FOR UPDATE"
)


class ClaimStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(self, case_id: UUID, badge: str, lease: timedelta) -> Claim:
        """Claim a queued case whose lease is free, expired or already the officer's."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(_LOCK, case_id)
            if row is None:
                return Claim(ClaimOutcome.NOT_FOUND)
            if row["status"] != "queued":
                return Claim(ClaimOutcome.NOT_QUEUED)
            live = row["lease_expires_at"] is not None and (
                row["lease_expires_at"] > row["now"]
            )
            if live and row["claimed_by"] != badge:
                return Claim(
                    ClaimOutcome.HELD_BY_OTHER,
                    row["claimed_by"],
                    row["lease_expires_at"],
                )
            expires_at = await connection.fetchval(
                "UPDATE cases SET claimed_by = $2, claimed_at = now(),"
                " lease_expires_at = now() + $3 WHERE case_id = $1"
                " RETURNING lease_expires_at",
                case_id,
                badge,
                lease,
            )
        return Claim(ClaimOutcome.CLAIMED, badge, expires_at)

    async def renew(self, case_id: UUID, badge: str, lease: timedelta) -> Claim:
        """Extend the officer's live lease; an expired one must be claimed again."""
        expires_at = await self._pool.fetchval(
            "UPDATE cases SET lease_expires_at = now() + $3"
            " WHERE case_id = $1 AND status = 'queued' AND claimed_by = $2"
            " AND lease_expires_at > now() RETURNING lease_expires_at",
            case_id,
            badge,
            lease,
        )
        if expires_at is None:
            return Claim(ClaimOutcome.NOT_CLAIMED)
        return Claim(ClaimOutcome.RENEWED, badge, expires_at)

    async def release(self, case_id: UUID, badge: str) -> bool:
        released = await self._pool.fetchval(
            "UPDATE cases SET claimed_by = NULL, claimed_at = NULL,"
            " lease_expires_at = NULL"
            " WHERE case_id = $1 AND claimed_by = $2 RETURNING case_id",
            case_id,
            badge,
        )
        return released is not None

    async def assign(self, case_id: UUID, badge: str, lease: timedelta) -> Claim:
        """Assign a queued case to an officer, replacing any claim (for supervisors)."""
        row = await self._pool.fetchrow(
            "UPDATE cases SET claimed_by = $2, claimed_at = now(),"
            " lease_expires_at = now() + $3"
            " WHERE case_id = $1 AND status = 'queued'"
            " RETURNING lease_expires_at",
            case_id,
            badge,
            lease,
        )
        if row is None:
            return Claim(ClaimOutcome.NOT_QUEUED)
        return Claim(ClaimOutcome.CLAIMED, badge, row["lease_expires_at"])

    async def holder(self, case_id: UUID) -> Claim:
        """Return who holds a live lease on the case, if anyone."""
        row = await self._pool.fetchrow(
            "SELECT claimed_by, lease_expires_at FROM cases WHERE case_id = $1"
            " AND lease_expires_at > now()",
            case_id,
        )
        if row is None:
            return Claim(ClaimOutcome.NOT_CLAIMED)
        return Claim(ClaimOutcome.CLAIMED, row["claimed_by"], row["lease_expires_at"])
