"""Issue a ruling document: print the code, render, hash, sign and store."""

import asyncio
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.documents import IssuedDocument, RulingDocumentContent
from documents.archive import DocumentArchive, pdf_key
from documents.keys import code_digest, key_id, sign_sha256, verification_code
from documents.render import render_pdf


class DocumentIssuer:
    """Renders and stores documents with the platform's signing key."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        archive: DocumentArchive,
        verify_url: str,
        font_file: Path,
    ) -> None:
        self._key = key
        self._archive = archive
        self._verify_url = verify_url
        self._font_file = font_file

    async def render(self, content: RulingDocumentContent) -> tuple[bytes, str]:
        """Return the PDF and the verification code printed on it."""
        code = verification_code(self._key, content.document_number)
        pdf = await asyncio.to_thread(
            render_pdf, content, code, self._verify_url, self._font_file
        )
        return pdf, code

    async def issue(self, content: RulingDocumentContent) -> IssuedDocument:
        pdf, code = await self.render(content)
        digest = hashlib.sha256(pdf).hexdigest()
        issued = IssuedDocument(
            document_number=content.document_number,
            version=content.version,
            kind=content.kind,
            case_id=content.case_id,
            object_key=pdf_key(content.document_number, content.version),
            sha256=digest,
            signature=sign_sha256(self._key, digest),
            key_id=key_id(self._key.public_key()),
            issued_at=content.issued_at,
            code_sha256=code_digest(code),
            reconsideration_deadline=content.reconsideration_deadline,
        )
        await self._archive.put(issued, pdf)
        return issued
