"""Public verification of ruling documents: no sign-in, the printed code is the key.

The platform's public key is served too, so that a reader who kept a genuine PDF
and its signature can check them later without the platform.
"""

import hashlib
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.documents import VerificationRequest, VerificationResult
from documents.keys import key_id, public_key_pem
from documents.verify import verify_document
from services.liability.runtime import LiabilityRuntime

router = APIRouter(prefix="/documents", tags=["documents"])
log = structlog.get_logger(__name__)
# A ruling document is a few tens of kilobytes; the service's body limit applies.
PDF_MEDIA_TYPE = "application/pdf"
PEM_MEDIA_TYPE = "application/x-pem-file"
KEY_ID_HEADER = "Dingze-Key-Id"


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]


async def _verify(
    runtime: LiabilityRuntime, document_number: str, code: str, sha256: str
) -> VerificationResult:
    records = await runtime.documents.records(document_number)
    result = verify_document(
        records, document_number, code, sha256, runtime.document_public_key
    )
    log.info(
        "document verified",
        document_number=document_number,
        genuine=result.genuine,
        reason=result.reason,
    )
    return result


@router.post("/verify")
async def verify_by_hash(
    request: VerificationRequest, runtime: Runtime
) -> VerificationResult:
    """Check the SHA-256 of a PDF against the document number and printed code."""
    return await _verify(runtime, request.document_number, request.code, request.sha256)


@router.post(
    "/{document_number}/verify-pdf",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def verify_pdf(
    document_number: str,
    code: Annotated[str, Query(min_length=1, max_length=20)],
    request: Request,
    runtime: Runtime,
) -> VerificationResult:
    """Check a PDF, sent as the raw request body, against the number and code."""
    digest = hashlib.sha256()
    async for chunk in request.stream():
        digest.update(chunk)
    return await _verify(runtime, document_number, code, digest.hexdigest())


@router.get(
    "/public-key",
    response_class=Response,
    responses={
        200: {
            "content": {PEM_MEDIA_TYPE: {}},
            "description": "The Ed25519 public key as PEM (SubjectPublicKeyInfo)",
        }
    },
)
async def public_key(runtime: Runtime) -> Response:
    """Return the key that signs ruling documents, for offline signature checks.

    A genuine result of the verify endpoints carries the PDF's signature and the
    key id, which the ``Dingze-Key-Id`` header names here.
    """
    key = runtime.document_public_key
    return Response(
        public_key_pem(key),
        media_type=PEM_MEDIA_TYPE,
        headers={
            KEY_ID_HEADER: key_id(key),
            "content-disposition": 'inline; filename="dingze-documents.pem"',
            "cache-control": "public, max-age=3600",
        },
    )
