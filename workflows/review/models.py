"""Inputs and results of the document and review activities."""

from pydantic import BaseModel

from contracts.documents import IssuedDocument


class DocumentIssued(BaseModel):
    """An issued version and the link that parties open it with."""

    document: IssuedDocument
    link: str
