"""Intake's HTTP API for phones: open a case, upload its video, submit it."""

import asyncio
import hashlib
import tempfile
import uuid
from pathlib import Path
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from contracts.case import (
    CaseDetails,
    EvidenceFacts,
    NewCase,
    StoredEvidence,
    assign_party_ids,
)
from contracts.events import CaseSubmitted
from evidence import VideoRejectedError, probe_video
from services.intake.problems import (
    ERRORS,
    VIDEO_BODY,
    already_submitted,
    case_not_found,
    problem_response,
    too_large,
)
from services.intake.runtime import IntakeRuntime

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)


def _runtime(request: Request) -> IntakeRuntime:
    runtime: IntakeRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[IntakeRuntime, Depends(_runtime)]


class CaseCreated(BaseModel):
    case_id: UUID
    status: str
    parties: list[dict[str, str]]


class CaseView(BaseModel):
    case_id: UUID
    status: str
    video: StoredEvidence | None


class VideoAccepted(BaseModel):
    sha256: str
    size_bytes: int
    facts: EvidenceFacts


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_case(body: NewCase, runtime: Runtime) -> CaseCreated:
    """Open a draft case; parties are named A, B, C… in the order given."""
    case = CaseDetails(
        case_id=uuid.uuid4(),
        accident_at=body.accident_at,
        location=body.location,
        parties=assign_party_ids(body.parties),
        description=body.description,
    )
    trace_id = uuid.uuid4().hex
    await runtime.cases.create(case, trace_id)
    log.info("case opened", case_id=str(case.case_id), trace_id=trace_id)
    return CaseCreated(
        case_id=case.case_id,
        status="draft",
        parties=[{"party_id": p.party_id, "plate": p.plate} for p in case.parties],
    )


@router.get("/{case_id}", responses=ERRORS)
async def get_case(case_id: UUID, runtime: Runtime) -> CaseView:
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    return CaseView(
        case_id=case_id,
        status=stored.status,
        video=await runtime.cases.get_video(case_id),
    )


@router.put("/{case_id}/video", openapi_extra=VIDEO_BODY, responses=ERRORS)
async def upload_video(
    case_id: UUID, request: Request, runtime: Runtime
) -> VideoAccepted:
    """Take the raw video bytes as the request body, check them and store them."""
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    if stored.status != "draft":
        raise already_submitted()
    declared = request.headers.get("content-length", "0")
    limit = runtime.settings.intake_max_video_bytes
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    structlog.contextvars.bind_contextvars(
        case_id=str(case_id), trace_id=stored.trace_id
    )

    with tempfile.TemporaryDirectory(prefix="dingze-upload-") as folder:
        path = Path(folder) / "video"
        digest, size = await _receive(request, path, limit)
        try:
            probed = await asyncio.to_thread(
                probe_video, path, runtime.settings.video_limits()
            )
        except VideoRejectedError as error:
            log.info("video rejected", reason=error.code, size_bytes=size)
            raise problem_response(
                422, error.code, error.message, error.message_zh
            ) from error
        key = f"cases/{case_id}/video-{digest[:16]}"
        await runtime.evidence.put_file(key, path, probed.content_type, digest)

    video = StoredEvidence(
        object_key=key,
        sha256=digest,
        size_bytes=size,
        content_type=probed.content_type,
        facts=probed.facts,
    )
    if not await runtime.cases.save_video_if_draft(case_id, video):
        log.info("video arrived after submission", object_key=key, sha256=digest)
        raise already_submitted()
    log.info("video stored", object_key=key, sha256=digest, size_bytes=size)
    return VideoAccepted(sha256=digest, size_bytes=size, facts=probed.facts)


@router.post("/{case_id}/submit", responses=ERRORS)
async def submit_case(case_id: UUID, runtime: Runtime) -> CaseView:
    """Submit the case for a remote ruling; submitting twice sends nothing new."""
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    # A fixed event id per case: a repeated submit finds the event in the outbox
    # already, and consumers drop a copy that the relay published twice.
    video = await runtime.cases.submit(
        case_id,
        lambda video: CaseSubmitted(
            event_id=uuid.uuid5(case_id, "case.submitted"),
            case_id=case_id,
            trace_id=stored.trace_id,
            case=stored.details,
            video=video,
        ),
    )
    if video is None:
        raise problem_response(
            409,
            "video_missing",
            "upload the scene video before submitting",
            "请先上传现场视频。",
        )
    log.info("case submitted", case_id=str(case_id), trace_id=stored.trace_id)
    return CaseView(case_id=case_id, status="submitted", video=video)


async def _receive(request: Request, path: Path, limit: int) -> tuple[str, int]:
    """Stream the body to ``path`` while hashing it; return SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as file:
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                digest.update(chunk)
                file.write(chunk)
        except ClientDisconnect:
            log.info("upload interrupted", received_bytes=size)
            raise problem_response(
                400,
                "upload_interrupted",
                f"the connection closed after {size} bytes; send the video again",
                "上传中断，请重新上传视频。",
            ) from None
    return digest.hexdigest(), size
