"""Intake's HTTP API for phones: open a case, upload its video, submit it."""

import asyncio
import hashlib
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from contracts.case import (
    CaseDetails,
    EligibilityAnswers,
    EvidenceFacts,
    NewCase,
    StoredEvidence,
    assign_party_ids,
)
from contracts.custody import CustodyAction
from contracts.events import CaseSubmitted, EvidenceRejected
from evidence import VideoRejectedError, probe_video
from services.intake.callers import AuxiliaryOfficer, CaseCaller, require_consent
from services.intake.custody import CustodyEntry
from services.intake.eligibility import EligibilityDecision, decide
from services.intake.problems import (
    ERRORS,
    VIDEO_BODY,
    already_submitted,
    case_not_found,
    problem_response,
    sent_on_scene,
    too_large,
)
from services.intake.resubmission import accept_replacement
from services.intake.runtime import IntakeRuntime
from services.intake.store import StoredCase, VideoConflict
from services.intake.upload_problems import video_of_other_uploader

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)


def _runtime(request: Request) -> IntakeRuntime:
    runtime: IntakeRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[IntakeRuntime, Depends(_runtime)]


class CaseCreated(BaseModel):
    """A new case: ``draft`` to upload evidence, or ``on_scene`` with the reasons."""

    case_id: UUID
    status: str
    parties: list[dict[str, str]]
    eligibility: EligibilityDecision
    reporter_badge: str = Field(
        description="Badge number of the auxiliary officer who opened the case",
    )


class CaseView(BaseModel):
    case_id: UUID
    status: str
    video: StoredEvidence | None
    on_scene: EligibilityDecision | None = None
    resubmission: EvidenceRejected | None = Field(
        default=None,
        description="Why the last video was rejected, what to redo and by when",
    )


class EligibilityQuestion(BaseModel):
    """The eligibility answers and the vehicle count, asked before the case form."""

    answers: EligibilityAnswers
    vehicles: int = Field(ge=2, description="Vehicles involved in the accident")


class VideoAccepted(BaseModel):
    sha256: str
    size_bytes: int
    facts: EvidenceFacts


@router.post("/eligibility")
async def check_eligibility(
    body: EligibilityQuestion, runtime: Runtime
) -> EligibilityDecision:
    """Tell whether an accident may be settled remotely, recording nothing."""
    return decide(
        body.answers, body.vehicles, runtime.settings.intake_remote_max_vehicles
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_case(
    body: NewCase, runtime: Runtime, officer: AuxiliaryOfficer
) -> CaseCreated:
    """Open a case as an auxiliary officer; parties are named A, B, C… in order.

    The eligibility rules run first. A case that fails one is stored with status
    ``on_scene`` and the reasons, takes no video and never reaches the remote queue.
    """
    decision = decide(
        body.eligibility,
        len(body.parties),
        runtime.settings.intake_remote_max_vehicles,
    )
    case = CaseDetails(
        case_id=uuid.uuid4(),
        accident_at=body.accident_at,
        location=body.location,
        parties=assign_party_ids(body.parties),
        description=body.description,
    )
    trace_id = uuid.uuid4().hex
    case_status = await runtime.cases.create(case, trace_id, body.eligibility, decision)
    badge = officer.badge_number or ""
    await runtime.cases.set_reporter_badge(case.case_id, badge)
    if decision.eligible:
        log.info("case opened", case_id=str(case.case_id), trace_id=trace_id)
    else:
        log.info(
            "case sent to on-scene handling",
            case_id=str(case.case_id),
            trace_id=trace_id,
            reasons=[reason.code for reason in decision.reasons],
        )
    return CaseCreated(
        case_id=case.case_id,
        status=case_status,
        parties=[{"party_id": p.party_id, "plate": p.plate} for p in case.parties],
        eligibility=decision,
        reporter_badge=badge,
    )


@router.get("/{case_id}", responses=ERRORS)
async def get_case(case_id: UUID, caller: CaseCaller, runtime: Runtime) -> CaseView:
    """Return the case's status and video, to its parties and auxiliary officers."""
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    return CaseView(
        case_id=case_id,
        status=stored.status,
        video=await runtime.cases.get_video(case_id),
        on_scene=stored.on_scene,
        resubmission=stored.resubmission,
    )


@router.put("/{case_id}/video", openapi_extra=VIDEO_BODY, responses=ERRORS)
async def upload_video(
    case_id: UUID, request: Request, caller: CaseCaller, runtime: Runtime
) -> VideoAccepted:
    """Take the raw video bytes as the request body, check them and store them.

    A case whose video the checks rejected takes a replacement here, which goes
    to the case workflow at once, without another submit.
    """
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    if stored.on_scene is not None:
        raise sent_on_scene(stored.on_scene)
    replacing = stored.status == "resubmission_requested"
    if stored.status != "draft" and not replacing:
        raise already_submitted()
    await require_consent(runtime, caller)
    uploader = await runtime.cases.video_uploader(case_id)
    if uploader not in (None, caller.name):
        raise video_of_other_uploader(uploader)
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
    uploaded = CustodyEntry(
        entry_id=uuid.uuid4(),
        case_id=case_id,
        action=CustodyAction.UPLOADED,
        object_key=key,
        actor=caller.name,
        occurred_at=datetime.now(UTC),
        sha256=digest,
        size_bytes=size,
        case_link=request.url.path,
        detail="replacement video" if replacing else "scene video",
    )
    if replacing:
        saved = await accept_replacement(
            runtime, case_id, stored.trace_id, video, uploaded
        )
        conflict = None if saved else VideoConflict("case_not_open")
    else:
        conflict = await runtime.cases.save_video_if_draft(case_id, video, uploaded)
    if conflict is not None and conflict.reason == "other_uploader":
        log.info("video of another uploader kept", object_key=key, sha256=digest)
        raise video_of_other_uploader(conflict.uploader)
    if conflict is not None:
        log.info("video arrived after submission", object_key=key, sha256=digest)
        raise already_submitted()
    log.info("video stored", object_key=key, sha256=digest, size_bytes=size)
    return VideoAccepted(sha256=digest, size_bytes=size, facts=probed.facts)


@router.post("/{case_id}/submit", responses=ERRORS)
async def submit_case(case_id: UUID, caller: CaseCaller, runtime: Runtime) -> CaseView:
    """Submit the case for a remote ruling; submitting twice sends nothing new."""
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    await require_consent(runtime, caller)
    if stored.on_scene is not None:
        raise sent_on_scene(stored.on_scene)
    if stored.resubmission is not None:
        return await _replacement_view(runtime, case_id, stored)
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


async def _replacement_view(
    runtime: IntakeRuntime, case_id: UUID, stored: StoredCase
) -> CaseView:
    """Return the view of a case whose evidence was rejected, on a submit.

    A replacement goes to the workflow with its upload, so there is nothing to
    submit: the case either still waits for the upload or has it already.
    """
    if stored.status == "resubmission_requested":
        raise problem_response(
            409,
            "video_missing",
            "upload the replacement video; it is submitted with the upload",
            "请重新上传现场视频，上传后自动提交。",
        )
    return CaseView(
        case_id=case_id,
        status=stored.status,
        video=await runtime.cases.get_video(case_id),
        resubmission=stored.resubmission,
    )


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
