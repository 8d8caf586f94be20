"""Claim events from insurers over HTTP, signed like the webhooks they receive.

An insurer that does not publish to Kafka posts its claim events here. The body is
signed with the insurer's signing secret exactly as the platform signs webhooks
(``contracts/webhooks.py``), and names a case whose ruling insurance sent that
insurer. An accepted event goes to insurance's outbox on its Kafka topic, so it
reaches the case by the same path, and the same checks, as an event from Kafka.
"""

import time
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ValidationError

from common.http import problem, problem_responses
from contracts.case import InsurerCode
from contracts.events import ClaimAssessed, ClaimOpened, ClaimRefused, ClaimSettled
from contracts.webhooks import SIGNATURE_HEADER, verify
from services.insurance.store import InsuranceStore

router = APIRouter(tags=["claims"])
log = structlog.get_logger(__name__)

CLAIM_EVENTS: dict[
    str, type[ClaimOpened | ClaimAssessed | ClaimSettled | ClaimRefused]
] = {
    model.topic: model
    for model in (ClaimOpened, ClaimAssessed, ClaimSettled, ClaimRefused)
}


class ClaimEventBody(BaseModel):
    """One claim event and the topic that names its model."""

    topic: Literal["claim.opened", "claim.assessed", "claim.settled", "claim.refused"]
    event: dict[str, Any]


class ClaimEventAccepted(BaseModel):
    event_id: UUID
    duplicate: bool


def _store(request: Request) -> InsuranceStore:
    store: InsuranceStore = request.app.state.store
    return store


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        problem("signature_invalid", message, "签名无效。"),
    )


@router.post(
    "/insurers/{insurer_code}/claim-events",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(
        {
            401: "The signature does not match the body and the insurer's secret",
            403: "The event names another insurer",
            409: "Insurance never sent this insurer the case's ruling",
            422: "The claim event is invalid",
        }
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": ClaimEventBody.model_json_schema(ref_template="{model}")
                }
            },
        }
    },
)
async def post_claim_event(
    insurer_code: InsurerCode,
    request: Request,
    store: Annotated[InsuranceStore, Depends(_store)],
) -> ClaimEventAccepted:
    """Take one claim event from an insurer, signed with its secret."""
    body = await request.body()
    secret = await store.signing_secret(insurer_code)
    header = request.headers.get(SIGNATURE_HEADER, "")
    if secret is None or not verify(secret, header, body, int(time.time())):
        log.info("claim event with invalid signature", insurer=insurer_code)
        raise _unauthorized(
            f"the {SIGNATURE_HEADER} header does not match the body for insurer "
            f"{insurer_code}; sign t=<unix seconds>,v1=<HMAC-SHA256 of '<t>.<body>'>"
        )
    try:
        parsed = ClaimEventBody.model_validate_json(body)
        event = CLAIM_EVENTS[parsed.topic].model_validate(parsed.event)
    except ValidationError as error:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            problem(
                "claim_event_invalid",
                f"the claim event is invalid: {error.error_count()} errors, first "
                f"at {'.'.join(map(str, error.errors()[0]['loc']))}",
                "理赔事件格式无效。",
            ),
        ) from error
    if event.insurer_code != insurer_code:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            problem(
                "insurer_mismatch",
                f"insurer {insurer_code} may only post its own claim events, "
                f"not {event.insurer_code}'s",
                "只能提交本公司的理赔事件。",
            ),
        )
    if not await store.ruling_delivered(event.case_id, insurer_code):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            problem(
                "ruling_not_delivered",
                f"insurer {insurer_code} was not sent the ruling of case "
                f"{event.case_id}; claim events follow a delivered ruling",
                "本公司未收到该案件的责任认定，不能提交理赔事件。",
            ),
        )
    added = await store.queue_event(event)
    log.info(
        "claim event accepted",
        insurer=insurer_code,
        case_id=str(event.case_id),
        topic=parsed.topic,
        duplicate=not added,
    )
    return ClaimEventAccepted(event_id=event.event_id, duplicate=not added)
