"""Issued ruling documents in object storage: each version's PDF and its record.

Keys are ``documents/<number>/v<version>.pdf`` and ``.json`` beside it. A version is
written once, and a retried issue writes the same bytes again.
"""

import hashlib
from typing import Protocol

from contracts.documents import IssuedDocument

PREFIX = "documents"


def pdf_key(document_number: str, version: int) -> str:
    return f"{PREFIX}/{document_number}/v{version}.pdf"


def record_key(document_number: str, version: int) -> str:
    return f"{PREFIX}/{document_number}/v{version}.json"


class ObjectStore(Protocol):
    """The part of common.storage.EvidenceStore that the archive uses."""

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, sha256: str
    ) -> None: ...

    async def get_bytes(self, key: str) -> bytes: ...

    async def list_keys(self, prefix: str) -> list[str]: ...


class DocumentArchive:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put(self, issued: IssuedDocument, pdf: bytes) -> None:
        """Store the PDF, then its record, so a record never names a missing file."""
        await self._store.put_bytes(
            issued.object_key, pdf, "application/pdf", issued.sha256
        )
        record = issued.model_dump_json().encode()
        await self._store.put_bytes(
            record_key(issued.document_number, issued.version),
            record,
            "application/json",
            hashlib.sha256(record).hexdigest(),
        )

    async def records(self, document_number: str) -> list[IssuedDocument]:
        """Return every issued version of a document, oldest first."""
        keys = await self._store.list_keys(f"{PREFIX}/{document_number}/")
        records = [
            IssuedDocument.model_validate_json(await self._store.get_bytes(key))
            for key in keys
            if key.endswith(".json")
        ]
        return sorted(records, key=lambda record: record.version)

    async def pdf(self, issued: IssuedDocument) -> bytes:
        return await self._store.get_bytes(issued.object_key)
