"""Resumable uploads: phones send parts straight to storage with presigned URLs.

Intake plans the parts, hands out short-lived part URLs, tells a resuming phone
which parts storage holds, and completes and checks the upload. The bytes never
pass through intake.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import structlog
from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from common.http import problem_responses
from common.multipart import StoredPart, UploadNotFoundError
from contracts.case import StoredEvidence
from evidence.sniff import ACCEPTED_TYPES
from services.intake import completion
from services.intake.callers import CaseCaller, Runtime
from services.intake.parts import plan_parts
from services.intake.problems import ERRORS, already_submitted, case_not_found
from services.intake.upload_problems import (
    consent_required,
    part_number_out_of_range,
    photo_limit,
    too_large,
    type_not_accepted,
    upload_not_active,
    upload_not_found,
    video_in_progress,
    video_of_other_uploader,
)
from services.intake.upload_store import Upload, UploadConflict

router = APIRouter(prefix="/cases/{case_id}/uploads", tags=["uploads"])
log = structlog.get_logger(__name__)


class NewUpload(BaseModel):
    kind: Literal["video", "photo"]
    content_type: str = Field(max_length=100, examples=["video/mp4"])
    size_bytes: int = Field(gt=0, description="The file's exact size")


class PartView(BaseModel):
    part_number: int
    size_bytes: int
    etag: str


class UploadView(BaseModel):
    """An upload's plan and state; ``parts`` lists the parts stored so far."""

    upload_id: UUID
    kind: Literal["video", "photo"]
    content_type: str
    status: str
    size_bytes: int
    part_size: int
    part_count: int
    expires_at: datetime
    parts: list[PartView] = []
    sha256: str | None = None
    evidence: StoredEvidence | None = None


class PartUrlRequest(BaseModel):
    part_numbers: list[int] = Field(min_length=1, max_length=100)


class PartUrl(BaseModel):
    part_number: int
    url: str
    size_bytes: int


class PartUrls(BaseModel):
    urls: list[PartUrl]
    expires_at: datetime


class CompletionRequest(BaseModel):
    parts: list[PartView] | None = Field(
        default=None,
        description="The parts as the client sent them, in ascending order; "
        "intake checks them against storage",
    )


def _view(upload: Upload, parts: list[StoredPart] | None = None) -> UploadView:
    return UploadView(
        upload_id=upload.upload_id,
        kind=upload.kind,
        content_type=upload.content_type,
        status=upload.status,
        size_bytes=upload.size_bytes,
        part_size=upload.part_size,
        part_count=upload.part_count,
        expires_at=upload.expires_at,
        sha256=upload.sha256,
        parts=[
            PartView(part_number=p.part_number, size_bytes=p.size, etag=p.etag)
            for p in parts or []
        ],
    )


def _accepted(kind: str) -> list[str]:
    return [name for name, (k, _) in ACCEPTED_TYPES.items() if k == kind]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        **ERRORS,
        **problem_responses({415: "The content type is not accepted for the kind"}),
    },
)
async def create_upload(
    case_id: UUID, body: NewUpload, caller: CaseCaller, runtime: Runtime
) -> UploadView:
    """Plan a multipart upload of one video or photo of the case."""
    settings = runtime.settings
    if body.content_type not in _accepted(body.kind):
        raise type_not_accepted(body.kind, body.content_type, _accepted(body.kind))
    limit = (
        settings.intake_max_video_bytes
        if body.kind == "video"
        else settings.intake_max_photo_bytes
    )
    if body.size_bytes > limit:
        raise too_large(body.kind, limit)
    stored_case = await runtime.cases.get(case_id)
    if stored_case is None:
        raise case_not_found(case_id)
    if caller.party is not None and not await runtime.uploads.consented(
        case_id, caller.party.party_id
    ):
        raise consent_required()
    if body.kind == "video":
        uploader = await runtime.cases.video_uploader(case_id)
        if uploader not in (None, caller.name):
            raise video_of_other_uploader(uploader)

    now = datetime.now(UTC)
    upload_id = uuid.uuid4()
    plan = plan_parts(body.size_bytes, settings.intake_part_size_bytes)
    key = f"cases/{case_id}/uploads/{upload_id}/{body.kind}"
    storage_upload_id = await runtime.multipart.create(key, body.content_type)
    upload = Upload(
        upload_id=upload_id,
        case_id=case_id,
        kind=body.kind,
        content_type=body.content_type,
        size_bytes=body.size_bytes,
        part_size=plan.part_size,
        part_count=plan.part_count,
        object_key=key,
        storage_upload_id=storage_upload_id,
        status="active",
        uploaded_by=caller.name,
        badge_number=caller.badge_number,
        created_at=now,
        expires_at=now + timedelta(hours=settings.intake_upload_hours),
    )
    conflict, stale = await runtime.uploads.create(
        upload, settings.intake_max_photos, now
    )
    for old in stale:
        await runtime.multipart.abort(old.object_key, old.storage_upload_id)
    if conflict is not None:
        await runtime.multipart.abort(key, storage_upload_id)
        raise _conflict_refusal(conflict, settings.intake_max_photos)
    log.info(
        "upload started",
        case_id=str(case_id),
        upload_id=str(upload_id),
        kind=body.kind,
        size_bytes=body.size_bytes,
        parts=plan.part_count,
        caller=caller.name,
    )
    return _view(upload)


def _conflict_refusal(conflict: UploadConflict, max_photos: int) -> Exception:
    if conflict.reason == "video_in_progress":
        return video_in_progress(conflict.other)
    if conflict.reason == "photo_limit":
        return photo_limit(max_photos)
    return already_submitted()


@router.get("", responses=ERRORS)
async def list_uploads(
    case_id: UUID, caller: CaseCaller, runtime: Runtime
) -> list[UploadView]:
    """List the case's uploads, so a phone that lost its own record can resume."""
    return [_view(upload) for upload in await runtime.uploads.list_for_case(case_id)]


async def _upload(runtime: Runtime, case_id: UUID, upload_id: UUID) -> Upload:
    upload = await runtime.uploads.get(case_id, upload_id)
    if upload is None:
        raise upload_not_found()
    return upload


async def _active_upload(runtime: Runtime, case_id: UUID, upload_id: UUID) -> Upload:
    upload = await _upload(runtime, case_id, upload_id)
    if upload.status != "active" or upload.expires_at <= datetime.now(UTC):
        raise upload_not_active(upload)
    return upload


@router.get("/{upload_id}", responses=ERRORS)
async def get_upload(
    case_id: UUID, upload_id: UUID, caller: CaseCaller, runtime: Runtime
) -> UploadView:
    """Return the upload with the parts storage holds, for resuming it."""
    upload = await _upload(runtime, case_id, upload_id)
    if upload.status != "active":
        return _view(upload)
    try:
        parts = await runtime.multipart.list_parts(
            upload.object_key, upload.storage_upload_id
        )
    except UploadNotFoundError:
        parts = []
    return _view(upload, parts)


@router.post("/{upload_id}/part-urls", responses=ERRORS)
async def part_urls(
    case_id: UUID,
    upload_id: UUID,
    body: PartUrlRequest,
    caller: CaseCaller,
    runtime: Runtime,
) -> PartUrls:
    """Presign a PUT URL for each part number requested; they expire quickly."""
    upload = await _active_upload(runtime, case_id, upload_id)
    plan = plan_parts(upload.size_bytes, upload.part_size)
    for number in body.part_numbers:
        if not 1 <= number <= upload.part_count:
            raise part_number_out_of_range(number, upload.part_count)
    lifetime = timedelta(seconds=runtime.settings.intake_part_url_seconds)
    urls = [
        PartUrl(
            part_number=number,
            url=runtime.multipart.part_url(
                upload.object_key, upload.storage_upload_id, number, lifetime
            ),
            size_bytes=plan.expected_size(number),
        )
        for number in body.part_numbers
    ]
    return PartUrls(urls=urls, expires_at=datetime.now(UTC) + lifetime)


@router.post("/{upload_id}/complete", responses=ERRORS)
async def complete_upload(
    case_id: UUID,
    upload_id: UUID,
    body: CompletionRequest,
    caller: CaseCaller,
    runtime: Runtime,
) -> UploadView:
    """Join the parts once all are in storage, then check and record the file."""
    upload = await _active_upload(runtime, case_id, upload_id)
    client_parts = (
        None
        if body.parts is None
        else {part.part_number: part.etag for part in body.parts}
    )
    if body.parts is not None and len(client_parts or {}) != len(body.parts):
        client_parts = {0: ""}  # a repeated part number: reported as out of order
    stored = await completion.verified_parts(runtime, upload, client_parts)
    if not await runtime.uploads.claim_for_completion(upload_id, datetime.now(UTC)):
        raise upload_not_active(await _upload(runtime, case_id, upload_id))

    result = await completion.complete(runtime, upload, stored)
    evidence = None
    if isinstance(result, StoredEvidence):
        await completion.record_video(runtime, upload, result)
        evidence, sha256 = result, result.sha256
    else:
        sha256 = result
        await runtime.cases.append_custody(
            completion.custody_of_upload(upload, sha256, upload.size_bytes)
        )
    await runtime.uploads.finish(
        upload_id, "completed", datetime.now(UTC), sha256=sha256
    )
    log.info(
        "upload completed",
        case_id=str(case_id),
        upload_id=str(upload_id),
        kind=upload.kind,
        sha256=sha256,
        caller=caller.name,
    )
    view = _view(await _upload(runtime, case_id, upload_id))
    view.evidence = evidence
    return view


@router.delete("/{upload_id}", responses=ERRORS)
async def abort_upload(
    case_id: UUID, upload_id: UUID, caller: CaseCaller, runtime: Runtime
) -> UploadView:
    """Cancel an unfinished upload and drop the parts already in storage."""
    upload = await _active_upload(runtime, case_id, upload_id)
    if not await runtime.uploads.finish(
        upload_id, "aborted", datetime.now(UTC), expected=("active",)
    ):
        raise upload_not_active(await _upload(runtime, case_id, upload_id))
    await runtime.multipart.abort(upload.object_key, upload.storage_upload_id)
    log.info("upload aborted", case_id=str(case_id), upload_id=str(upload_id))
    return _view(await _upload(runtime, case_id, upload_id))
