"""Calls from the liability API to the case workflow, and their errors as HTTP."""

import hashlib
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

import structlog
from fastapi import HTTPException
from pydantic import BaseModel
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from common.http import problem
from contracts.ruling import Ruling, RulingDraft, RulingProblem
from contracts.workflow import (
    REQUEST_EVIDENCE_UPDATE,
    RULING_REJECTED,
    SUBMIT_RULING_UPDATE,
    EvidenceRequest,
    EvidenceRequested,
    RulingAccepted,
    SubmitRulingInput,
    case_workflow_id,
)
from services.liability.runtime import LiabilityRuntime

log = structlog.get_logger(__name__)
ResultT = TypeVar("ResultT", bound=BaseModel)


class RulingRejectedError(Exception):
    """The workflow's validator rejected the ruling, with every reason it found."""

    def __init__(self, message: str, problems: list[RulingProblem]) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems


def error(
    status_code: int, code: str, message: str, message_zh: str = ""
) -> HTTPException:
    return HTTPException(status_code, detail=problem(code, message, message_zh))


def rejected(message: str, problems: list[RulingProblem]) -> HTTPException:
    """Return the 422 that lists each problem with its field, for the form."""
    detail: dict[str, Any] = problem(
        "ruling_rejected", message, "认定未通过校验，请按提示修改。"
    )
    detail["problems"] = [item.model_dump() for item in problems]
    return HTTPException(422, detail=detail)


def already_ruled(case_id: UUID, ruling: Ruling) -> HTTPException:
    return error(
        409,
        "case_already_ruled",
        f"case {case_id} was already ruled by officer {ruling.officer_id}",
        "该案件已作出认定。",
    )


async def deliver(
    runtime: LiabilityRuntime, case_id: UUID, draft: RulingDraft
) -> RulingAccepted:
    """Run the ruling update; its id comes from its content, so a resend is harmless."""
    return await _update(
        runtime,
        case_id,
        SUBMIT_RULING_UPDATE,
        SubmitRulingInput(ruling=draft),
        result_type=RulingAccepted,
        kind="ruling",
    )


async def request_evidence(
    runtime: LiabilityRuntime, case_id: UUID, request: EvidenceRequest
) -> EvidenceRequested:
    """Run the more-evidence update, with an id from its content like a ruling."""
    return await _update(
        runtime,
        case_id,
        REQUEST_EVIDENCE_UPDATE,
        request,
        result_type=EvidenceRequested,
        kind="evidence-request",
    )


async def _update(
    runtime: LiabilityRuntime,
    case_id: UUID,
    name: str,
    payload: BaseModel,
    *,
    result_type: type[ResultT],
    kind: str,
) -> ResultT:
    handle = runtime.temporal.get_workflow_handle(case_workflow_id(case_id))
    fingerprint = hashlib.sha256(payload.model_dump_json().encode()).hexdigest()[:16]
    timeout = runtime.settings.liability_workflow_timeout_seconds
    try:
        result: ResultT = await handle.execute_update(
            name,
            payload,
            id=f"{kind}-{fingerprint}",
            result_type=result_type,
            rpc_timeout=timedelta(seconds=timeout),
        )
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        log.info(
            "update rejected by workflow",
            kind=kind,
            case_id=str(case_id),
            reason=message,
        )
        if isinstance(cause, ApplicationError) and cause.type == RULING_REJECTED:
            problems = [RulingProblem.model_validate(item) for item in cause.details]
            raise RulingRejectedError(message, problems) from failure
        winner = await runtime.queue.get(case_id)
        if winner is not None and winner.ruling is not None:
            raise already_ruled(case_id, winner.ruling) from failure
        raise error(409, "case_not_awaiting_ruling", message) from failure
    except WorkflowUpdateRPCTimeoutOrCancelledError as failure:
        raise workflow_unavailable(case_id, timeout, failure) from failure
    except RPCError as failure:
        if failure.status == RPCStatusCode.NOT_FOUND or await workflow_ended(handle):
            await runtime.queue.mark_closed(case_id, "workflow_ended")
            raise error(
                409, "case_closed", f"the workflow of case {case_id} has ended"
            ) from failure
        raise workflow_unavailable(case_id, timeout, failure) from failure
    return result


def workflow_unavailable(
    case_id: UUID, timeout: float, failure: Exception
) -> HTTPException:
    log.warning("workflow not reached", case_id=str(case_id), error=repr(failure))
    return error(
        503,
        "workflow_unavailable",
        f"the case workflow did not answer within {timeout:g} s; send the same "
        "request again to learn whether it was taken",
        "系统繁忙，请稍后重试。",
    )


async def workflow_ended(handle: Any) -> bool:
    try:
        description = await handle.describe(rpc_timeout=timedelta(seconds=2))
    except RPCError:
        return False
    return bool(description.status != WorkflowExecutionStatus.RUNNING)


async def signal_case(
    runtime: LiabilityRuntime, case_id: UUID, name: str, payload: BaseModel
) -> None:
    """Send a signal to the case's workflow, raising 409 when it has ended."""
    handle = runtime.temporal.get_workflow_handle(case_workflow_id(case_id))
    timeout = runtime.settings.liability_workflow_timeout_seconds
    try:
        await handle.signal(name, payload, rpc_timeout=timedelta(seconds=timeout))
    except RPCError as failure:
        if failure.status == RPCStatusCode.NOT_FOUND or await workflow_ended(handle):
            await runtime.queue.mark_closed(case_id, "workflow_ended")
            raise error(
                409, "case_closed", f"the workflow of case {case_id} has ended"
            ) from failure
        raise workflow_unavailable(case_id, timeout, failure) from failure
