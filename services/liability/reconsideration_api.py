"""Reconsideration for officers: the queue of contested rulings and the decision.

A ruling is reconsidered by an officer other than the one who gave it; the
review workflow checks that again, so two services cannot disagree on it.
"""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from common.http import ProblemBody, problem
from contracts.events import CaseQueued, CaseReconsiderationRequested
from contracts.review import (
    DECIDE_RECONSIDERATION_UPDATE,
    ReconsiderationDecision,
    ReviewState,
    review_workflow_id,
)
from decision_support import AccidentTypeError, check_ruling_type
from identity.api import require_role
from identity.roles import Role, StaffPrincipal
from services.liability.runtime import LiabilityRuntime

router = APIRouter(prefix="/reconsiderations", tags=["reconsideration"])
log = structlog.get_logger(__name__)
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No reconsideration was requested", "model": ProblemBody},
    409: {"description": "The decision is not accepted now", "model": ProblemBody},
    422: {"description": "The new ruling is inconsistent", "model": ProblemBody},
    503: {"description": "The workflow did not answer in time", "model": ProblemBody},
}
# Workflow refusals that describe the decision itself rather than the case's state.
_DECISION_ERRORS = {"PartiesMismatch"}


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]
Staff = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER, Role.SUPERVISOR))]
Officer = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER))]


class QueuedReconsideration(BaseModel):
    case_id: UUID
    document_number: str
    requested_at: datetime
    waiting_seconds: int
    party_id: str
    first_officer_id: str


class ReconsiderationFile(BaseModel):
    """A contested ruling as the reconsidering officer opens it."""

    status: str
    request: CaseReconsiderationRequested
    case: CaseQueued | None
    decision: ReconsiderationDecision | None
    video_url: str | None


class ReconsiderationDecided(BaseModel):
    case_id: UUID
    outcome: str
    decided_at: datetime


def _error(
    status_code: int, code: str, message: str, message_zh: str = ""
) -> HTTPException:
    return HTTPException(status_code, detail=problem(code, message, message_zh))


def _not_requested(case_id: UUID) -> HTTPException:
    return _error(
        404,
        "reconsideration_not_found",
        f"no reconsideration was requested for case {case_id}",
        "该案件没有复核申请。",
    )


def _same_officer(status_code: int, officer_id: str) -> HTTPException:
    return _error(
        status_code,
        "same_officer",
        f"officer {officer_id} gave the first ruling; a different officer must "
        "reconsider it",
        "原认定民警不能办理本案复核，请由其他民警办理。",
    )


@router.get("")
async def list_reconsiderations(
    runtime: Runtime,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QueuedReconsideration]:
    """List contested rulings waiting for a decision, longest waiting first.

    A ruling is not listed for the officer who gave it.
    """
    now = datetime.now(UTC)
    return [
        QueuedReconsideration(
            case_id=event.case_id,
            document_number=event.document_number,
            requested_at=event.requested_at,
            waiting_seconds=int((now - event.requested_at).total_seconds()),
            party_id=event.party_id,
            first_officer_id=event.ruling.officer_id,
        )
        for event in await runtime.reconsiderations.queued(
            limit, principal.badge_number
        )
    ]


@router.get("/{case_id}", responses=_ERRORS)
async def open_reconsideration(
    case_id: UUID, runtime: Runtime, principal: Staff
) -> ReconsiderationFile:
    """Open a contested ruling. Its first officer gets 403 ``same_officer``."""
    found = await runtime.reconsiderations.get(case_id)
    if found is None:
        raise _not_requested(case_id)
    if principal.badge_number == found.first_officer_id:
        log.info(
            "reconsideration withheld from its first officer",
            case_id=str(case_id),
            officer=principal.badge_number,
        )
        raise _same_officer(403, found.first_officer_id)
    queued = await runtime.queue.get(case_id)
    video_url = None
    if queued is not None:
        lifetime = timedelta(minutes=runtime.settings.liability_video_link_minutes)
        video_url = await runtime.evidence.presigned_get_url(
            queued.event.video.object_key, lifetime
        )
    return ReconsiderationFile(
        status=found.status,
        request=found.request,
        case=queued.event if queued is not None else None,
        decision=found.decision,
        video_url=video_url,
    )


@router.post("/{case_id}/decision", responses=_ERRORS)
async def decide(
    case_id: UUID,
    decision: ReconsiderationDecision,
    runtime: Runtime,
    principal: Officer,
) -> ReconsiderationDecided:
    """Confirm or replace the first ruling; the deciding officer must differ from
    the first ruling's officer, and a new ruling is checked like any ruling.
    """
    if decision.officer_id != principal.badge_number:
        raise _error(
            403,
            "wrong_officer",
            f"the decision names officer {decision.officer_id} but you signed in "
            f"as {principal.badge_number}; decide only under your own badge",
            "只能以本人警号作出复核结论。",
        )
    found = await runtime.reconsiderations.get(case_id)
    if found is None:
        raise _not_requested(case_id)
    if found.status == "decided" and found.decision is not None:
        if found.decision == decision and found.decided_at is not None:
            return ReconsiderationDecided(
                case_id=case_id,
                outcome=decision.outcome.value,
                decided_at=found.decided_at,
            )
        raise _error(
            409,
            "reconsideration_decided",
            f"case {case_id} was already reconsidered by officer "
            f"{found.decision.officer_id}",
            "该案件已作出复核结论。",
        )
    if decision.officer_id == found.first_officer_id:
        raise _same_officer(409, found.first_officer_id)
    if decision.ruling is not None:
        try:
            check_ruling_type(decision.ruling, runtime.accident_types)
        except AccidentTypeError as error:
            raise _error(422, error.code, error.message, error.message_zh) from error

    await _deliver(runtime, case_id, decision)
    decided_at = datetime.now(UTC)
    await runtime.reconsiderations.mark_decided(case_id, decision, decided_at)
    log.info(
        "reconsideration decided",
        case_id=str(case_id),
        officer=decision.officer_id,
        outcome=decision.outcome.value,
    )
    return ReconsiderationDecided(
        case_id=case_id, outcome=decision.outcome.value, decided_at=decided_at
    )


async def _deliver(
    runtime: LiabilityRuntime, case_id: UUID, decision: ReconsiderationDecision
) -> ReviewState:
    handle = runtime.temporal.get_workflow_handle(review_workflow_id(case_id))
    fingerprint = hashlib.sha256(decision.model_dump_json().encode()).hexdigest()[:16]
    timeout = runtime.settings.liability_workflow_timeout_seconds
    try:
        state: ReviewState = await handle.execute_update(
            DECIDE_RECONSIDERATION_UPDATE,
            decision,
            id=f"decision-{fingerprint}",
            result_type=ReviewState,
            rpc_timeout=timedelta(seconds=timeout),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        kind = cause.type if isinstance(cause, ApplicationError) else None
        log.info("decision rejected by workflow", case_id=str(case_id), reason=message)
        message_zh = "复核结论未被受理，请核对后重试。"
        if kind in _DECISION_ERRORS:
            raise _error(422, "decision_rejected", message, message_zh) from error
        raise _error(409, "decision_rejected", message, message_zh) from error
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
        log.warning("decision not delivered", case_id=str(case_id), error=repr(error))
        raise _error(
            503,
            "workflow_unavailable",
            f"the review workflow did not answer within {timeout:g} s; send the "
            "same decision again to learn whether it was accepted",
            "系统繁忙，请稍后重新提交同一复核结论。",
        ) from error
    return state
