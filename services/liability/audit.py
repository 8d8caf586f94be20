"""The append-only audit log of officer and supervisor actions.

The table's triggers reject UPDATE, DELETE and TRUNCATE, so an entry once written
stays as it is, whichever role connects.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from identity.roles import StaffPrincipal


class AuditEntry(BaseModel):
    entry_id: int
    recorded_at: datetime
    subject: str
    badge_number: str
    roles: list[str]
    action: str
    case_id: UUID | None
    outcome: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(
        self,
        principal: StaffPrincipal,
        action: str,
        case_id: UUID | None,
        *,
        outcome: str = "done",
        detail: dict[str, Any] | None = None,
        connection: asyncpg.Connection | None = None,
    ) -> None:
        """Append one entry, inside the caller's transaction when one is given."""
        executor = connection or self._pool
        await executor.execute(
            "INSERT INTO audit_log"
            " (subject, badge_number, roles, action, case_id, outcome, detail)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            principal.subject,
            principal.badge_number,
            sorted(principal.roles),
            action,
            case_id,
            outcome,
            detail or {},
        )

    async def record_sign_in(
        self, username: str, principal: StaffPrincipal | None
    ) -> None:
        """Append a sign-in; a rejected one names only the username it tried."""
        if principal is None:
            principal = StaffPrincipal(
                subject=username, name=username, badge_number="", roles=frozenset()
            )
            await self.record(principal, "sign_in", None, outcome="rejected")
            return
        await self.record(principal, "sign_in", None)

    async def record_sign_out(self, principal: StaffPrincipal) -> None:
        await self.record(principal, "sign_out", None)

    async def entries(self, case_id: UUID | None, limit: int) -> list[AuditEntry]:
        """Return the latest entries, newest first, of one case or of all."""
        rows = await self._pool.fetch(
            "SELECT * FROM audit_log WHERE $1::uuid IS NULL OR case_id = $1"
            " ORDER BY entry_id DESC LIMIT $2",
            case_id,
            limit,
        )
        return [AuditEntry.model_validate(dict(row)) for row in rows]
