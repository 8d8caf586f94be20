"""The supervisors' HTTP API: reassignment, overdue rulings and the audit log."""

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from common.http import problem
from contracts.workflow import CASE_CLAIMED_SIGNAL, CaseClaimed
from identity.api import authenticator, require_role
from identity.roles import Role, StaffPrincipal
from services.liability.api import ERRORS, Runtime, claim_refused
from services.liability.audit import AuditEntry
from services.liability.claims import Claim, ClaimOutcome
from services.liability.store import OverdueCase
from services.liability.workflow_calls import signal_case

router = APIRouter(tags=["supervision"])
log = structlog.get_logger(__name__)
Supervisor = Annotated[StaffPrincipal, Depends(require_role(Role.SUPERVISOR))]


class Reassignment(BaseModel):
    officer_badge: str = Field(pattern=r"^[0-9A-Za-z-]{1,32}$")


class Priority(BaseModel):
    urgent: bool


class Assigned(BaseModel):
    case_id: UUID
    claimed_by: str
    lease_expires_at: datetime


@router.post("/cases/{case_id}/reassign", responses=ERRORS)
async def reassign_case(
    case_id: UUID,
    body: Reassignment,
    runtime: Runtime,
    supervisor: Supervisor,
    request: Request,
) -> Assigned:
    """Assign a queued case to an officer, replacing any other officer's claim."""
    # NOTE: with an OpenID Connect provider there is no staff list to check the
    # badge against, so any well-formed badge is accepted.
    staff = authenticator(request).staff

    if staff is not None and not staff.badge_has_role(body.officer_badge, Role.OFFICER):
        raise HTTPException(
            422,
            detail=problem(
                "officer_not_found",
                f"no certified officer has badge {body.officer_badge}; "
                "pick an officer from the staff list",
                "没有该警号的认定民警，请重新选择。",
            ),
        )

    lease = timedelta(seconds=runtime.settings.liability_claim_lease_seconds)
    previous = await runtime.claims.holder(case_id)
    claim = await runtime.claims.assign(case_id, body.officer_badge, lease)
    if claim.outcome is not ClaimOutcome.CLAIMED:
        raise claim_refused(case_id, claim)
    await signal_case(
        runtime,
        case_id,
        CASE_CLAIMED_SIGNAL,
        CaseClaimed(officer_badge=body.officer_badge),
    )
    await runtime.audit.record(
        supervisor,
        "reassign",
        case_id,
        detail={"to": body.officer_badge, "from": previous.claimed_by},
    )
    log.info(
        "case reassigned",
        case_id=str(case_id),
        officer=body.officer_badge,
        supervisor=supervisor.badge_number,
    )
    assert claim.claimed_by is not None
    assert claim.lease_expires_at is not None
    return Assigned(
        case_id=case_id,
        claimed_by=claim.claimed_by,
        lease_expires_at=claim.lease_expires_at,
    )


@router.put("/cases/{case_id}/priority", responses=ERRORS)
async def set_priority(
    case_id: UUID, body: Priority, runtime: Runtime, supervisor: Supervisor
) -> Priority:
    """Mark a queued case urgent, so it heads the queue, or clear the mark."""
    if not await runtime.queue.mark_urgent(case_id, body.urgent):
        raise claim_refused(case_id, Claim(ClaimOutcome.NOT_QUEUED))
    await runtime.audit.record(
        supervisor, "priority", case_id, detail={"urgent": body.urgent}
    )
    return body


@router.get("/supervisor/overdue", responses=ERRORS)
async def overdue_cases(
    runtime: Runtime,
    supervisor: Supervisor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OverdueCase]:
    """List cases whose ruling target passed, newest breach first."""
    return await runtime.queue.overdue(limit)


@router.get("/audit", responses=ERRORS)
async def audit_entries(
    runtime: Runtime,
    supervisor: Supervisor,
    case_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEntry]:
    """Return the audit log's latest entries, newest first, of one case or of all."""
    return await runtime.audit.entries(case_id, limit)
