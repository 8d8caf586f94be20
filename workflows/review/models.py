"""Inputs and results of the document and review activities."""

from datetime import datetime

from pydantic import BaseModel, Field

from contracts.documents import IssuedDocument, RulingDocumentContent


class DocumentIssued(BaseModel):
    """An issued version, what it printed, and each party's SMS link."""

    document: IssuedDocument
    content: RulingDocumentContent
    links: dict[str, str] = Field(
        default_factory=dict, description="Party letter to the party's phone link"
    )


class DeadlineInput(BaseModel):
    delivered_at: datetime
