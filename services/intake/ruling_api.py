"""The ruling on the party's phone: read it, acknowledge or refuse it, contest it.

The party signs in from the ruling SMS link with a one-time code (``access_api``),
and the session names the party, so no party can answer for another.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Response
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.review import (
    ANSWER_RULING_UPDATE,
    REQUEST_RECONSIDERATION_UPDATE,
    REVIEW_STATE_QUERY,
    AnswerRulingInput,
    ReconsiderationRequest,
    ReconsiderationRequestBody,
    ReviewState,
    RulingAnswer,
    review_workflow_id,
)
from services.intake.callers import Caller, CaseCaller, Runtime
from services.intake.problems import ERRORS, problem_response
from services.intake.runtime import IntakeRuntime

router = APIRouter(prefix="/cases/{case_id}/ruling", tags=["ruling"])
log = structlog.get_logger(__name__)
RPC_TIMEOUT = timedelta(seconds=10)
# The workflow's refusal types and what the phone shows for each.
_REFUSALS_ZH = {
    "AlreadyAnswered": "您已签收或拒签过本认定书。",
    "ReconsiderationAlreadyRequested": "本起事故已申请过复核，每起事故只能申请一次。",
    "ReconsiderationWindowClosed": "已超过复核申请期限。",
    "ReviewClosed": "认定已生效，不能再签收或拒签。",
}


def _party_id(caller: Caller) -> str:
    if caller.party is None:
        raise problem_response(
            403,
            "party_only",
            "only a party of the case can read or answer its ruling; open the "
            "SMS link of the case",
            "只有事故当事人本人可以查看、签收或申请复核。",
        )
    return caller.party.party_id


def _no_ruling(case_id: UUID) -> Exception:
    return problem_response(
        404,
        "ruling_not_found",
        f"case {case_id} has no delivered ruling yet",
        "本案件尚未作出责任认定。",
    )


async def _state(runtime: IntakeRuntime, case_id: UUID) -> ReviewState:
    handle = runtime.temporal.get_workflow_handle(review_workflow_id(case_id))
    try:
        state: ReviewState = await handle.query(
            REVIEW_STATE_QUERY, result_type=ReviewState, rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise _no_ruling(case_id) from error
        raise
    return state


async def _update(
    runtime: IntakeRuntime, case_id: UUID, name: str, argument: Any
) -> ReviewState:
    handle = runtime.temporal.get_workflow_handle(review_workflow_id(case_id))
    try:
        state: ReviewState = await handle.execute_update(
            name, argument, result_type=ReviewState, rpc_timeout=RPC_TIMEOUT
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        log.info("ruling answer rejected", case_id=str(case_id), reason=message)
        raise problem_response(
            409,
            "ruling_answer_rejected",
            message,
            _REFUSALS_ZH.get(kind or "", "操作未被接受，请稍后重试。"),
        ) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise problem_response(
            503,
            "workflow_unavailable",
            "the ruling did not answer in time; send the same answer again",
            "系统繁忙，请稍后重试。",
        ) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise _no_ruling(case_id) from error
        # A finished review workflow means the ruling is final.
        raise problem_response(
            409,
            "ruling_final",
            "the ruling is final; its reconsideration period has ended",
            "认定已生效，已超过复核申请期限。",
        ) from error
    return state


@router.get("", responses=ERRORS)
async def ruling_state(
    case_id: UUID, caller: CaseCaller, runtime: Runtime
) -> ReviewState:
    """Return the ruling's document versions, deadline, answers and reconsideration.

    Only the case's parties read it here. Staff read rulings at liability.
    """
    _party_id(caller)
    return await _state(runtime, case_id)


@router.get(
    "/document",
    responses={
        **ERRORS,
        200: {"content": {"application/pdf": {}}, "description": "The latest PDF"},
    },
)
async def ruling_document(
    case_id: UUID, caller: CaseCaller, runtime: Runtime
) -> Response:
    """Return the latest version of the ruling document, or the reconsideration's."""
    _party_id(caller)
    state = await _state(runtime, case_id)
    latest = state.reconsideration_document or state.versions[-1]
    pdf = await runtime.documents.pdf(latest)
    filename = f"{latest.document_number}-v{latest.version}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{filename}"'},
    )


@router.post("/answer", responses=ERRORS)
async def answer_ruling(
    case_id: UUID, body: RulingAnswer, caller: CaseCaller, runtime: Runtime
) -> ReviewState:
    """Acknowledge or refuse the ruling; a refusal is printed on a new version."""
    party_id = _party_id(caller)
    state = await _update(
        runtime,
        case_id,
        ANSWER_RULING_UPDATE,
        AnswerRulingInput(party_id=party_id, answer=body.answer, reason=body.reason),
    )
    log.info(
        "ruling answered",
        case_id=str(case_id),
        party_id=party_id,
        answer=body.answer.value,
    )
    return state


@router.post("/reconsideration", responses=ERRORS)
async def request_reconsideration(
    case_id: UUID,
    body: ReconsiderationRequestBody,
    caller: CaseCaller,
    runtime: Runtime,
) -> ReviewState:
    """Ask for reconsideration, once per accident, before the printed deadline."""
    party_id = _party_id(caller)
    state = await _update(
        runtime,
        case_id,
        REQUEST_RECONSIDERATION_UPDATE,
        ReconsiderationRequest(party_id=party_id, reason=body.reason),
    )
    log.info("reconsideration requested", case_id=str(case_id), party_id=party_id)
    return state
