"""A ruled case's signed ruling document, for signed-in staff.

The document number comes from ``case.ruled``. The workflow publishes that event
only after the document is stored, so a known number always has a stored version.
"""

import asyncio
from datetime import datetime
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from contracts.documents import DocumentKind, IssuedDocument
from documents.printed import printed_verification_code
from identity.api import require_role
from identity.roles import Role, StaffPrincipal
from services.liability.api import ERRORS, ruling_document_path
from services.liability.runtime import LiabilityRuntime
from services.liability.workflow_calls import error

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]
Staff = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER, Role.SUPERVISOR))]


class RulingDocumentView(BaseModel):
    """One version of a case's ruling document, and what verifies it."""

    case_id: UUID
    document_number: str
    kind: DocumentKind
    version: int
    versions: list[int] = Field(description="Every stored version, oldest first")
    issued_at: datetime
    sha256: str
    verification_code: str | None = Field(
        description="The code printed on the PDF, for POST /documents/verify; "
        "None when the PDF's text cannot be read"
    )
    pdf_url: str = Field(description="This version's PDF, with the same sign-in")


async def _document_number(runtime: LiabilityRuntime, case_id: UUID) -> str:
    found = await runtime.queue.get(case_id)
    if found is None:
        raise error(
            404, "case_not_found", f"case {case_id} is not in the liability queue"
        )
    if found.status != "ruled":
        raise error(
            409,
            "case_not_ruled",
            f"case {case_id} is {found.status} and has no ruling yet; the signed "
            "document is issued after the ruling",
            "该案件尚未作出认定，暂无责任认定书。",
        )
    if not found.document_number:
        raise error(
            409,
            "document_not_issued",
            f"the signed ruling document of case {case_id} is not issued yet; it "
            "follows the ruling within seconds, so try again shortly",
            "责任认定书正在生成，请稍后再试。",
        )
    return found.document_number


async def _version(
    runtime: LiabilityRuntime, case_id: UUID, version: int | None
) -> tuple[IssuedDocument, list[int]]:
    """Return the requested version (the latest by default) and every version."""
    number = await _document_number(runtime, case_id)
    records = await runtime.documents.records(number)
    if not records:
        log.error(
            "ruling document missing from storage",
            case_id=str(case_id),
            document_number=number,
        )
        raise error(
            404,
            "document_not_found",
            f"no stored version of document {number} of case {case_id} was found",
            "未找到该案件的责任认定书。",
        )
    versions = [record.version for record in records]
    if version is None:
        return records[-1], versions
    chosen = next((record for record in records if record.version == version), None)
    if chosen is None:
        raise error(
            404,
            "document_version_not_found",
            f"document {number} has versions {versions}, not version {version}",
            "该版本的责任认定书不存在。",
        )
    return chosen, versions


VersionQuery = Annotated[
    int | None, Query(ge=1, description="A stored version; the latest when omitted")
]


@router.get("/{case_id}/document", responses=ERRORS)
async def ruling_document(
    case_id: UUID, runtime: Runtime, principal: Staff, version: VersionQuery = None
) -> RulingDocumentView:
    """Describe the case's signed ruling document, its latest version by default.

    409 ``case_not_ruled`` before the ruling, and ``document_not_issued`` in the
    seconds between the ruling and its document.
    """
    record, versions = await _version(runtime, case_id, version)
    pdf = await runtime.documents.pdf(record)
    code = await asyncio.to_thread(printed_verification_code, pdf)
    if code is None:
        log.warning(
            "verification code not readable from document",
            case_id=str(case_id),
            document_number=record.document_number,
            version=record.version,
        )
    return RulingDocumentView(
        case_id=case_id,
        document_number=record.document_number,
        kind=record.kind,
        version=record.version,
        versions=versions,
        issued_at=record.issued_at,
        sha256=record.sha256,
        verification_code=code,
        pdf_url=ruling_document_path(case_id, record.version),
    )


@router.get(
    "/{case_id}/document/pdf",
    responses={
        **ERRORS,
        200: {"content": {"application/pdf": {}}, "description": "The signed PDF"},
    },
    response_class=Response,
)
async def ruling_document_pdf(
    case_id: UUID, runtime: Runtime, principal: Staff, version: VersionQuery = None
) -> Response:
    """Return the signed PDF, its latest version by default.

    Each read is written to the audit log.
    """
    record, _ = await _version(runtime, case_id, version)
    pdf = await runtime.documents.pdf(record)
    await runtime.audit.record(
        principal,
        "document_read",
        case_id,
        detail={"document_number": record.document_number, "version": record.version},
    )
    filename = f"{record.document_number}-v{record.version}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="{filename}"',
            "cache-control": "private, no-store",
            "x-content-type-options": "nosniff",
        },
    )
