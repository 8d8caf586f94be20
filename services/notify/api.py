"""Read-only HTTP API over the messages sent, for support staff and the demo."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from common.logging import mask_phone_numbers
from services.notify.store import MessageStore

router = APIRouter(tags=["messages"])


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


@router.get("/cases/{case_id}/messages")
async def list_messages(
    case_id: UUID, store: Annotated[MessageStore, Depends(_messages)]
) -> list[MessageView]:
    """List a case's text messages, phone numbers masked."""
    return [
        MessageView(**{**row, "phone": mask_phone_numbers(row["phone"])})
        for row in await store.for_case(case_id)
    ]
