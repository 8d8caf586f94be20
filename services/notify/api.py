"""Read-only HTTP API over the messages sent, for support staff and supervisors."""

import time
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from common.http import problem, problem_responses
from common.logging import mask_phone_numbers
from common.sealing import Purpose, unseal
from contracts.webhooks import SIGNATURE_HEADER, verify
from identity.api import require_role
from identity.roles import Role, StaffPrincipal
from services.notify.store import MessageStore

router = APIRouter(tags=["messages"])
log = structlog.get_logger(__name__)
# Support staff handle the parties' calls about texts, and supervisors oversee cases.
MessageReader = Annotated[
    StaffPrincipal, Depends(require_role(Role.OPERATOR, Role.SUPERVISOR))
]


def _messages(request: Request) -> MessageStore:
    store: MessageStore = request.app.state.messages
    return store


class MessageView(BaseModel):
    message_id: str
    party_id: str
    phone: str
    template: str
    body: str
    status: str
    requested_at: datetime
    sent_at: datetime | None


class DeliveryReceipt(BaseModel):
    message_id: str = Field(min_length=1, max_length=200)
    status: Literal["delivered", "failed"]


@router.post(
    "/sms/receipts",
    status_code=204,
    responses=problem_responses(
        {
            401: "The receipt signature is invalid",
            422: "The signed receipt is not a valid receipt",
        }
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The receipt, signed in the signature header",
            "content": {
                "application/json": {
                    "schema": DeliveryReceipt.model_json_schema(ref_template="{model}")
                }
            },
        }
    },
)
async def post_receipt(
    request: Request, store: Annotated[MessageStore, Depends(_messages)]
) -> None:
    """Take a gateway's delivery receipt, signed with the receipt secret."""
    body = await request.body()
    secret: str = request.app.state.receipt_secret
    header = request.headers.get(SIGNATURE_HEADER, "")
    if not secret or not verify(secret, header, body, int(time.time())):
        raise HTTPException(
            401, problem("signature_invalid", "the receipt signature is invalid")
        )
    try:
        receipt = DeliveryReceipt.model_validate_json(body)
    except ValidationError as error:
        log.warning("signed receipt rejected", errors=error.error_count())
        raise HTTPException(
            422,
            problem(
                "receipt_invalid",
                f"the receipt is invalid: {error.error_count()} errors, first at "
                f"{'.'.join(map(str, error.errors()[0]['loc'])) or 'the body'}",
            ),
        ) from error
    if not await store.record_receipt(receipt.message_id, receipt.status):
        log.warning("receipt for unknown message", message_id=receipt.message_id)
        return
    log.info(
        "sms receipt", message_id=receipt.message_id, delivery_status=receipt.status
    )


@router.get("/cases/{case_id}/messages")
async def list_messages(
    case_id: UUID,
    reader: MessageReader,
    store: Annotated[MessageStore, Depends(_messages)],
) -> list[MessageView]:
    """List a case's text messages with the phone numbers masked."""
    log.info("messages read", case_id=str(case_id), reader=reader.subject)
    return [
        MessageView(
            **{**row, "phone": mask_phone_numbers(unseal(row["phone"], Purpose.PHONE))}
        )
        for row in await store.for_case(case_id)
    ]
