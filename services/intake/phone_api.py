"""The phone page's API and files: a party's case, consent and evidence so far."""

from datetime import datetime
from pathlib import Path
from uuid import UUID

import structlog
from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from contracts.case import Location
from services.intake.callers import AnyCaller, Caller, Runtime
from services.intake.problems import ERRORS, case_not_found, problem_response

router = APIRouter(prefix="/party", tags=["phone page"])
log = structlog.get_logger(__name__)
PAGE_FOLDER = Path(__file__).parent / "phone"


class PartyLine(BaseModel):
    party_id: str
    name: str
    plate: str


class UploadLimits(BaseModel):
    max_video_bytes: int
    max_photo_bytes: int
    max_photos: int


class PartyCaseView(BaseModel):
    """The case as a party sees it on the phone page: no other party's number."""

    case_id: UUID
    party_id: str
    status: str
    accident_at: datetime
    location: Location
    description: str
    parties: list[PartyLine]
    consented: bool
    has_video: bool
    photos: int
    limits: UploadLimits
    redo_zh: str = Field(
        default="",
        description="When the checks rejected the video: what to redo, in Chinese",
    )
    redo_by: datetime | None = None


class ConsentRecorded(BaseModel):
    case_id: UUID
    party_id: str
    consented_at: datetime


def _party(caller: Caller) -> tuple[UUID, str]:
    if caller.party is None:
        raise problem_response(
            403,
            "party_session_required",
            "this page is for the parties of a case; open the SMS link",
            "请通过短信链接打开本页面。",
        )
    return caller.party.case_id, caller.party.party_id


@router.get("/case", responses=ERRORS)
async def party_case(caller: AnyCaller, runtime: Runtime) -> PartyCaseView:
    """Return the case of the party's session, with what was uploaded so far."""
    case_id, party_id = _party(caller)
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    uploads = await runtime.uploads.list_for_case(case_id)
    settings = runtime.settings
    redo = stored.resubmission if stored.status == "resubmission_requested" else None
    return PartyCaseView(
        case_id=case_id,
        party_id=party_id,
        status=stored.status,
        accident_at=stored.details.accident_at,
        location=stored.details.location,
        description=stored.details.description,
        parties=[
            PartyLine(party_id=p.party_id, name=p.name, plate=p.plate)
            for p in stored.details.parties
        ],
        consented=await runtime.uploads.consented(case_id, party_id),
        has_video=await runtime.cases.get_video(case_id) is not None,
        photos=sum(1 for u in uploads if u.kind == "photo" and u.status == "completed"),
        limits=UploadLimits(
            max_video_bytes=settings.intake_max_video_bytes,
            max_photo_bytes=settings.intake_max_photo_bytes,
            max_photos=settings.intake_max_photos,
        ),
        redo_zh="" if redo is None else redo.message_zh,
        redo_by=None if redo is None else redo.resubmit_by,
    )


@router.post("/consent", responses=ERRORS)
async def consent(caller: AnyCaller, runtime: Runtime) -> ConsentRecorded:
    """Record that the party agreed to settle the accident remotely."""
    case_id, party_id = _party(caller)
    consented_at = await runtime.uploads.record_consent(case_id, party_id)
    log.info("party consented", case_id=str(case_id), party_id=party_id)
    return ConsentRecorded(
        case_id=case_id, party_id=party_id, consented_at=consented_at
    )


def phone_page() -> StaticFiles:
    """Serve the phone page's HTML, CSS and script from this package."""
    return StaticFiles(directory=PAGE_FOLDER, html=True)
