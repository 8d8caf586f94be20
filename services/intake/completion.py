"""Completing a multipart upload: join the parts, then check what arrived.

The checks read the object back from storage: its first bytes by a ranged GET to
tell the content type, the whole object once, streamed, for its SHA-256, and a
video's container by ranged reads. Intake keeps no copy in memory or on disk.
"""

import asyncio
from datetime import UTC, datetime

import structlog
from fastapi import HTTPException
from minio.error import S3Error

from common.multipart import StoredPart, UploadNotFoundError
from common.object_reader import RangedObjectReader
from contracts.case import StoredEvidence
from contracts.custody import CustodyAction
from evidence import VideoRejectedError, probe_stream
from evidence.sniff import HEAD_BYTES, matches_declared, sniff
from services.intake.custody import CustodyEntry
from services.intake.parts import (
    PartPlan,
    PartsProblem,
    check_client_order,
    check_stored_parts,
)
from services.intake.problems import already_submitted, problem_response
from services.intake.resubmission import accept_replacement
from services.intake.runtime import IntakeRuntime
from services.intake.store import VideoConflict
from services.intake.upload_problems import (
    content_mismatch,
    upload_not_active,
    video_of_other_uploader,
)
from services.intake.upload_store import Upload

log = structlog.get_logger(__name__)


def _parts_refusal(problem: PartsProblem) -> HTTPException:
    status = 409 if problem.code == "parts_missing" else 422
    return problem_response(status, problem.code, problem.message, problem.message_zh)


async def verified_parts(
    runtime: IntakeRuntime, upload: Upload, client_parts: dict[int, str] | None
) -> list[StoredPart]:
    """Return the stored parts once they make the declared file, else raise."""
    if client_parts is not None:
        problem = check_client_order(list(client_parts))
        if problem is not None:
            raise _parts_refusal(problem)
    try:
        stored = await runtime.multipart.list_parts(
            upload.object_key, upload.storage_upload_id
        )
    except UploadNotFoundError:
        await runtime.uploads.finish(
            upload.upload_id,
            "expired",
            datetime.now(UTC),
            expected=("active",),
        )
        raise upload_not_active(
            await runtime.uploads.get(upload.case_id, upload.upload_id) or upload
        ) from None
    plan = PartPlan(upload.size_bytes, upload.part_size)
    problem = check_stored_parts(plan, stored)
    if problem is not None:
        raise _parts_refusal(problem)
    for part in stored:
        etag = (client_parts or {}).get(part.part_number)
        if etag is not None and etag.strip('"') != part.etag:
            raise _parts_refusal(
                PartsProblem(
                    "part_changed",
                    f"part {part.part_number} in storage is not the one the client "
                    "sent (ETag differs); upload it again",
                    "上传的数据与文件不符，请重新上传。",
                )
            )
    return stored


async def complete(
    runtime: IntakeRuntime, upload: Upload, stored: list[StoredPart]
) -> StoredEvidence | str:
    """Join the parts and check the object; return the video's record or a hash.

    Raises an HTTPException with the reason when the object is rejected, after
    deleting it. The caller has claimed the upload for completion.
    """
    key = upload.object_key
    try:
        await runtime.multipart.complete(key, upload.storage_upload_id, stored)
    except S3Error as error:
        log.warning("multipart completion failed", object_key=key, error=str(error))
        await runtime.uploads.finish(
            upload.upload_id,
            "active",
            datetime.now(UTC),
            expected=("completing",),
        )
        raise problem_response(
            503,
            "storage_unavailable",
            f"storage did not join the parts ({error.code}); complete again",
            "系统繁忙，请稍后再点一次提交。",
        ) from error

    head = await runtime.multipart.read_range(key, 0, HEAD_BYTES)
    sniffed = sniff(head)
    if not matches_declared(sniffed, upload.content_type):
        found = None if sniffed is None else sniffed.content_type
        await _reject(runtime, upload, f"content is {found or 'unknown'}")
        raise content_mismatch(upload.kind, upload.content_type, found)

    sha256, size = await runtime.multipart.sha256(key)
    if upload.kind == "photo":
        return sha256
    reader = RangedObjectReader(
        lambda offset, length: runtime.multipart.read_range_sync(key, offset, length),
        size,
    )
    try:
        probed = await asyncio.to_thread(
            probe_stream, reader, size, runtime.settings.video_limits()
        )
    except VideoRejectedError as error:
        await _reject(runtime, upload, error.code)
        raise problem_response(
            422, error.code, error.message, error.message_zh
        ) from error
    return StoredEvidence(
        object_key=key,
        sha256=sha256,
        size_bytes=size,
        content_type=probed.content_type,
        facts=probed.facts,
    )


async def record_video(
    runtime: IntakeRuntime, upload: Upload, video: StoredEvidence
) -> None:
    """Make the checked video the case's video, unless the case moved on.

    A case whose last video the checks rejected takes this one as its replacement,
    which goes to the case workflow at once.
    """
    stored = await runtime.cases.get(upload.case_id)
    uploaded = custody_of_upload(upload, video.sha256, video.size_bytes)
    if stored is not None and stored.status == "resubmission_requested":
        if await accept_replacement(
            runtime, upload.case_id, stored.trace_id, video, uploaded
        ):
            return
        conflict = VideoConflict("case_not_open")
    else:
        found = await runtime.cases.save_video_if_draft(upload.case_id, video, uploaded)
        if found is None:
            return
        conflict = found
    if conflict.reason == "other_uploader":
        await _reject(runtime, upload, f"the video of {conflict.uploader} is kept")
        raise video_of_other_uploader(conflict.uploader)
    await _reject(runtime, upload, "case already submitted")
    raise already_submitted()


def custody_of_upload(upload: Upload, sha256: str, size_bytes: int) -> CustodyEntry:
    """Describe a completed upload as the first entry of its object's custody."""
    return CustodyEntry(
        entry_id=upload.upload_id,
        case_id=upload.case_id,
        action=CustodyAction.UPLOADED,
        object_key=upload.object_key,
        actor=upload.uploaded_by,
        occurred_at=datetime.now(UTC),
        sha256=sha256,
        size_bytes=size_bytes,
        case_link=f"/cases/{upload.case_id}/uploads/{upload.upload_id}",
        detail=f"{upload.kind} ({upload.content_type})",
    )


async def _reject(runtime: IntakeRuntime, upload: Upload, reason: str) -> None:
    log.info(
        "upload rejected",
        case_id=str(upload.case_id),
        upload_id=str(upload.upload_id),
        reason=reason,
    )
    await runtime.multipart.remove(upload.object_key)
    await runtime.uploads.finish(
        upload.upload_id, "rejected", datetime.now(UTC), rejection=reason
    )
