"""The officers' HTTP API: the queue, a case with its video, and the ruling."""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.events import CaseQueued
from contracts.ruling import Ruling
from contracts.workflow import (
    SUBMIT_RULING_UPDATE,
    RulingAccepted,
    SubmitRulingInput,
    case_workflow_id,
)
from services.liability.runtime import LiabilityRuntime

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]


class QueuedCase(BaseModel):
    case_id: UUID
    queued_at: datetime
    waiting_seconds: int
    address: str
    plates: list[str]


class CaseFile(BaseModel):
    """A case as an officer opens it: the queued facts and a link to the video."""

    status: str
    case: CaseQueued
    video_url: str
    video_url_expires_at: datetime


class RulingResult(BaseModel):
    case_id: UUID
    status: str
    ruled_at: datetime


@router.get("")
async def list_queue(
    runtime: Runtime, limit: Annotated[int, Query(ge=1, le=500)] = 100
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


@router.get("/{case_id}")
async def open_case(case_id: UUID, runtime: Runtime) -> CaseFile:
    found = await runtime.queue.get(case_id)
    if found is None:
        raise HTTPException(404, f"case {case_id} is not in the liability queue")
    event, status = found
    lifetime = timedelta(minutes=runtime.settings.liability_video_link_minutes)
    url = await runtime.evidence.presigned_get_url(event.video.object_key, lifetime)
    log.info("case opened by officer", case_id=str(case_id), trace_id=event.trace_id)
    return CaseFile(
        status=status,
        case=event,
        video_url=url,
        video_url_expires_at=datetime.now(UTC) + lifetime,
    )


@router.post("/{case_id}/ruling")
async def submit_ruling(
    case_id: UUID, ruling: Ruling, runtime: Runtime
) -> RulingResult:
    """Hand the ruling to the case workflow, which accepts it or says why not."""
    found = await runtime.queue.get(case_id)
    if found is None:
        raise HTTPException(404, f"case {case_id} is not in the liability queue")
    event, status = found
    if status != "queued":
        raise HTTPException(409, f"case {case_id} is already ruled")

    handle = runtime.temporal.get_workflow_handle(case_workflow_id(case_id))
    try:
        accepted = await handle.execute_update(
            SUBMIT_RULING_UPDATE,
            SubmitRulingInput(ruling=ruling),
            id=f"ruling-{case_id}",
            result_type=RulingAccepted,
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise HTTPException(409, message) from error
    except RPCError as error:
        log.warning("ruling not delivered", case_id=str(case_id), error=str(error))
        raise HTTPException(
            503, "the case workflow is unreachable; try again"
        ) from error

    await runtime.queue.mark_ruled(case_id, ruling, accepted.ruled_at)
    log.info(
        "ruling accepted",
        case_id=str(case_id),
        trace_id=event.trace_id,
        officer=ruling.officer_id,
    )
    return RulingResult(case_id=case_id, status="ruled", ruled_at=accepted.ruled_at)
