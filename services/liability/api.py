"""The officers' HTTP API: the queue, a case with its video, and the ruling."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from common.http import ProblemBody, problem
from common.kafka import publish_event
from contracts.case import EvidenceFinding
from contracts.custody import CustodyAction
from contracts.events import CaseQueued, CustodyRecorded
from contracts.ruling import Ruling
from contracts.workflow import (
    SUBMIT_RULING_UPDATE,
    RulingAccepted,
    SubmitRulingInput,
    case_workflow_id,
)
from identity.api import require_role
from identity.roles import Role, StaffPrincipal
from services.liability.runtime import LiabilityRuntime

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token", "model": ProblemBody},
    403: {"description": "The signed-in role may not do this", "model": ProblemBody},
    404: {
        "description": "The case is not in the liability queue",
        "model": ProblemBody,
    },
    409: {
        "description": "The case does not take this ruling now",
        "model": ProblemBody,
    },
    422: {"description": "The ruling is inconsistent", "model": ProblemBody},
    503: {
        "description": "The case workflow did not answer in time",
        "model": ProblemBody,
    },
}
# Validator refusals that describe the ruling itself rather than the case's state.
_RULING_ERRORS = {"PartiesMismatch"}


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]
# Officers rule; supervisors see every case to follow and reassign them.
Staff = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER, Role.SUPERVISOR))]
Officer = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER))]


class QueuedCase(BaseModel):
    case_id: UUID
    queued_at: datetime
    waiting_seconds: int
    address: str
    plates: list[str]


class CaseFile(BaseModel):
    """A case as an officer opens it: the queued facts and links to the evidence.

    The links expire together; each one issued is recorded in the evidence's chain
    of custody.
    """

    status: str
    case: CaseQueued
    ruling: Ruling | None
    video_url: str
    video_url_expires_at: datetime
    thumbnail_urls: list[str] = Field(
        description="Keyframe thumbnails (JPEG), in the order of the video"
    )
    warnings: list[EvidenceFinding] = Field(
        description="What the evidence checks flagged without rejecting the video"
    )


class RulingResult(BaseModel):
    case_id: UUID
    status: str
    ruled_at: datetime


def _error(status_code: int, code: str, message: str) -> HTTPException:
    return HTTPException(status_code, detail=problem(code, message))


def _not_in_queue(case_id: UUID) -> HTTPException:
    return _error(
        404, "case_not_found", f"case {case_id} is not in the liability queue"
    )


@router.get("")
async def list_queue(
    runtime: Runtime,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QueuedCase]:
    """List cases waiting for a ruling, longest waiting first."""
    now = datetime.now(UTC)
    return [
        QueuedCase(
            case_id=event.case_id,
            queued_at=queued_at,
            waiting_seconds=int((now - queued_at).total_seconds()),
            address=event.location.address,
            plates=[party.plate for party in event.parties],
        )
        for event, queued_at in await runtime.queue.queued(limit)
    ]


@router.get("/{case_id}", responses=_ERRORS)
async def open_case(case_id: UUID, runtime: Runtime, principal: Staff) -> CaseFile:
    found = await runtime.queue.get(case_id)
    if found is None:
        raise _not_in_queue(case_id)
    lifetime = timedelta(minutes=runtime.settings.liability_video_link_minutes)
    event = found.event
    reader = f"officer:{principal.badge_number}"
    url = await _issue_link(
        runtime, event, event.video.object_key, lifetime, kind="video", reader=reader
    )
    thumbnails = [
        await _issue_link(
            runtime, event, key, lifetime, kind="thumbnail", reader=reader
        )
        for key in event.thumbnails
    ]
    log.info(
        "case opened by officer",
        case_id=str(case_id),
        trace_id=event.trace_id,
        officer=principal.badge_number,
    )
    return CaseFile(
        status=found.status,
        case=event,
        ruling=found.ruling,
        video_url=url,
        video_url_expires_at=datetime.now(UTC) + lifetime,
        thumbnail_urls=thumbnails,
        warnings=event.findings,
    )


async def _issue_link(
    runtime: LiabilityRuntime,
    event: CaseQueued,
    object_key: str,
    lifetime: timedelta,
    *,
    kind: str,
    reader: str,
) -> str:
    """Presign a link to an evidence object after announcing the read to custody.

    Intake keeps the custody records, so the read goes there as an event. It is
    published before the link is returned: no link leaves without its record.
    """
    await publish_event(
        runtime.broker,
        runtime.settings,
        CustodyRecorded(
            case_id=event.case_id,
            trace_id=event.trace_id,
            action=CustodyAction.READ,
            object_key=object_key,
            actor=reader,
            detail=f"{kind} link issued to an officer, valid "
            f"{lifetime.total_seconds() / 60:g} minutes",
        ),
    )
    return await runtime.evidence.presigned_get_url(object_key, lifetime)


@router.post("/{case_id}/ruling", responses=_ERRORS)
async def submit_ruling(
    case_id: UUID, ruling: Ruling, runtime: Runtime, principal: Officer
) -> RulingResult:
    """Hand the ruling to the case workflow, which accepts it or returns the reason."""
    if ruling.officer_id != principal.badge_number:
        raise _error(
            403,
            "wrong_officer",
            f"the ruling names officer {ruling.officer_id} but you signed in as "
            f"{principal.badge_number}; an officer rules only under their own badge",
        )
    found = await runtime.queue.get(case_id)
    if found is None:
        raise _not_in_queue(case_id)
    if found.status == "ruled" and found.ruling is not None:
        if found.ruling == ruling and found.ruled_at is not None:
            # A client resending after a lost response gets the same result again.
            return RulingResult(
                case_id=case_id, status="ruled", ruled_at=found.ruled_at
            )
        raise _already_ruled(case_id, found.ruling)
    if found.status == "closed":
        raise _error(409, "case_closed", f"case {case_id} is closed without a ruling")

    accepted = await _deliver(runtime, case_id, ruling)
    if accepted.ruling is not None and accepted.ruling != ruling:
        # The same update id came back with another officer's ruling: that one won.
        await runtime.queue.mark_ruled(case_id, accepted.ruling, accepted.ruled_at)
        raise _already_ruled(case_id, accepted.ruling)
    await runtime.queue.mark_ruled(case_id, ruling, accepted.ruled_at)
    log.info(
        "ruling accepted",
        case_id=str(case_id),
        trace_id=found.event.trace_id,
        officer=ruling.officer_id,
    )
    return RulingResult(case_id=case_id, status="ruled", ruled_at=accepted.ruled_at)


async def _deliver(
    runtime: LiabilityRuntime, case_id: UUID, ruling: Ruling
) -> RulingAccepted:
    """Run the ruling update; its id comes from its content, so a resend is harmless."""
    handle = runtime.temporal.get_workflow_handle(case_workflow_id(case_id))
    fingerprint = hashlib.sha256(ruling.model_dump_json().encode()).hexdigest()[:16]
    timeout = runtime.settings.liability_workflow_timeout_seconds
    try:
        accepted: RulingAccepted = await handle.execute_update(
            SUBMIT_RULING_UPDATE,
            SubmitRulingInput(ruling=ruling),
            id=f"ruling-{fingerprint}",
            result_type=RulingAccepted,
            rpc_timeout=timedelta(seconds=timeout),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        kind = cause.type if isinstance(cause, ApplicationError) else None
        log.info("ruling rejected by workflow", case_id=str(case_id), reason=message)
        if kind in _RULING_ERRORS:
            raise _error(422, "ruling_rejected", message) from error
        winner = await runtime.queue.get(case_id)
        if winner is not None and winner.ruling is not None:
            raise _already_ruled(case_id, winner.ruling) from error
        raise _error(409, "case_not_awaiting_ruling", message) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise _workflow_unavailable(case_id, timeout, error) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND or await _workflow_ended(handle):
            await runtime.queue.mark_closed(case_id, "workflow_ended")
            raise _error(
                409, "case_closed", f"the workflow of case {case_id} has ended"
            ) from error
        raise _workflow_unavailable(case_id, timeout, error) from error
    return accepted


def _workflow_unavailable(
    case_id: UUID, timeout: float, error: Exception
) -> HTTPException:
    log.warning("ruling not delivered", case_id=str(case_id), error=repr(error))
    return _error(
        503,
        "workflow_unavailable",
        f"the case workflow did not answer within {timeout:g} s; send the same "
        "ruling again to learn whether it was accepted",
    )


async def _workflow_ended(handle: Any) -> bool:
    try:
        description = await handle.describe(rpc_timeout=timedelta(seconds=2))
    except RPCError:
        return False
    return bool(description.status != WorkflowExecutionStatus.RUNNING)


def _already_ruled(case_id: UUID, ruling: Ruling) -> HTTPException:
    return _error(
        409,
        "case_already_ruled",
        f"case {case_id} was already ruled by officer {ruling.officer_id}",
    )
