"""The officers' HTTP API: the queue, claims, a case with its video, and the ruling."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from common.http import ProblemBody
from common.kafka import publish_event
from contracts.case import EvidenceFinding
from contracts.custody import CustodyAction
from contracts.events import CaseQueued, CustodyRecorded
from contracts.ruling import Ruling, RulingDraft
from contracts.text import MultiLine
from contracts.workflow import (
    CASE_CLAIMED_SIGNAL,
    CLAIM_RELEASED_SIGNAL,
    CaseClaimed,
    ClaimReleased,
    EvidenceRequest,
    EvidenceRequested,
)
from decision_support import AccidentTypeError, check_ruling_type
from identity.api import require_role
from identity.roles import Role, StaffPrincipal
from services.liability.claims import Claim, ClaimOutcome
from services.liability.runtime import LiabilityRuntime
from services.liability.store import QueuedCaseRecord
from services.liability.workflow_calls import (
    RulingRejectedError,
    already_ruled,
    deliver,
    error,
    rejected,
    request_evidence,
    signal_case,
)

router = APIRouter(prefix="/cases", tags=["cases"])
log = structlog.get_logger(__name__)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token", "model": ProblemBody},
    403: {"description": "The signed-in role may not do this", "model": ProblemBody},
    404: {
        "description": "The case is not in the liability queue",
        "model": ProblemBody,
    },
    409: {
        "description": "The case does not take this action now",
        "model": ProblemBody,
    },
    422: {"description": "The ruling is inconsistent", "model": ProblemBody},
    503: {
        "description": "The case workflow did not answer in time",
        "model": ProblemBody,
    },
}


def _runtime(request: Request) -> LiabilityRuntime:
    runtime: LiabilityRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[LiabilityRuntime, Depends(_runtime)]
# Officers rule; supervisors see every case to follow and reassign them.
Staff = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER, Role.SUPERVISOR))]
Officer = Annotated[StaffPrincipal, Depends(require_role(Role.OFFICER))]


class QueuedCase(BaseModel):
    case_id: UUID
    queued_at: datetime
    waiting_seconds: int
    escalated: bool
    urgent: bool
    claimed_by_me: bool
    claimed_by: str | None = Field(
        description="The officer holding a live claim; listed for supervisors"
    )
    address: str
    plates: list[str]


class ClaimView(BaseModel):
    """An officer's lease on a case; renew it before ``lease_expires_at``."""

    case_id: UUID
    claimed_by: str
    lease_expires_at: datetime
    lease_seconds: int


class ThumbnailLink(BaseModel):
    """A presigned link to one keyframe thumbnail, and where it sits in the video."""

    url: str
    at_seconds: float | None = None


class CaseFile(BaseModel):
    """A case as an officer opens it: the queued facts and links to the evidence.

    The links expire together; each one issued is recorded in the evidence's chain
    of custody.
    """

    status: str
    case: CaseQueued
    ruling: Ruling | None
    claimed_by: str | None
    lease_expires_at: datetime | None
    escalated_at: datetime | None
    video_url: str
    video_url_expires_at: datetime
    thumbnails: list[ThumbnailLink] = Field(
        description="Keyframe thumbnails (JPEG), in the order of the video"
    )
    warnings: list[EvidenceFinding] = Field(
        description="What the evidence checks flagged without rejecting the video"
    )
    ruling_document_number: str | None = Field(
        default=None, description="The signed ruling document, once it is issued"
    )
    ruling_document_url: str | None = Field(
        default=None,
        description="Path of the document's latest PDF, read with the same sign-in",
    )


class RulingResult(BaseModel):
    case_id: UUID
    status: str
    ruled_at: datetime


def ruling_document_path(case_id: UUID, version: int | None = None) -> str:
    """Return the API path of a case's ruling document PDF."""
    path = f"/cases/{case_id}/document/pdf"
    return path if version is None else f"{path}?version={version}"


def _not_in_queue(case_id: UUID) -> HTTPException:
    return error(404, "case_not_found", f"case {case_id} is not in the liability queue")


def _lease(runtime: LiabilityRuntime) -> timedelta:
    return timedelta(seconds=runtime.settings.liability_claim_lease_seconds)


def _claim_view(runtime: LiabilityRuntime, case_id: UUID, claim: Claim) -> ClaimView:
    assert claim.claimed_by is not None
    assert claim.lease_expires_at is not None
    return ClaimView(
        case_id=case_id,
        claimed_by=claim.claimed_by,
        lease_expires_at=claim.lease_expires_at,
        lease_seconds=runtime.settings.liability_claim_lease_seconds,
    )


def claim_refused(case_id: UUID, claim: Claim) -> HTTPException:
    """Return the HTTP error for a claim, renewal or ruling the lease does not allow."""
    if claim.outcome is ClaimOutcome.NOT_FOUND:
        return _not_in_queue(case_id)
    if claim.outcome is ClaimOutcome.HELD_BY_OTHER:
        return error(
            409,
            "case_claimed_by_other",
            f"case {case_id} is claimed by officer {claim.claimed_by} until "
            f"{claim.lease_expires_at:%H:%M:%S} UTC; pick another case",
            "该案件已被其他民警领取。",
        )
    if claim.outcome is ClaimOutcome.NOT_CLAIMED:
        return error(
            409,
            "case_not_claimed",
            f"you hold no live claim on case {case_id}; claim it again",
            "您尚未领取该案件或领取已过期，请重新领取。",
        )
    return error(
        409,
        "case_not_in_queue",
        f"case {case_id} is no longer waiting for a ruling",
        "该案件已不在待认定队列中。",
    )


@router.get("", responses=ERRORS)
async def list_queue(
    runtime: Runtime,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[QueuedCase]:
    """List cases to rule: urgent or escalated first, then longest waiting first.

    Officers do not see cases under another officer's live claim; supervisors see
    every queued case with its claimant, to reassign it.
    """
    now = datetime.now(UTC)
    supervising = Role.SUPERVISOR in principal.roles
    records = await runtime.queue.queued(
        limit, principal.badge_number, include_claimed=supervising
    )
    return [
        QueuedCase(
            case_id=item.event.case_id,
            queued_at=item.queued_at,
            waiting_seconds=int((now - item.queued_at).total_seconds()),
            escalated=item.escalated_at is not None,
            urgent=item.urgent_at is not None,
            claimed_by_me=_live_claimant(item, now) == principal.badge_number,
            claimed_by=_live_claimant(item, now),
            address=item.event.location.address,
            plates=[party.plate for party in item.event.parties],
        )
        for item in records
    ]


def _live_claimant(item: QueuedCaseRecord, now: datetime) -> str | None:
    if item.lease_expires_at is None or item.lease_expires_at <= now:
        return None
    return item.claimed_by


@router.get("/{case_id}", responses=ERRORS)
async def open_case(case_id: UUID, runtime: Runtime, principal: Staff) -> CaseFile:
    found = await runtime.queue.get(case_id)
    if found is None:
        raise _not_in_queue(case_id)
    lifetime = timedelta(minutes=runtime.settings.liability_video_link_minutes)
    event = found.event
    reader = f"officer:{principal.badge_number}"
    url = await _issue_link(
        runtime, event, event.video.object_key, lifetime, kind="video", reader=reader
    )
    # Cases queued before thumbnails carried their times have none to show.
    seconds: list[float | None] = [*event.thumbnail_seconds]
    seconds += [None] * (len(event.thumbnails) - len(seconds))
    thumbnails = [
        ThumbnailLink(
            url=await _issue_link(
                runtime, event, key, lifetime, kind="thumbnail", reader=reader
            ),
            at_seconds=at_seconds,
        )
        for key, at_seconds in zip(event.thumbnails, seconds, strict=False)
    ]
    await runtime.audit.record(principal, "case_opened", case_id)
    log.info(
        "case opened by officer",
        case_id=str(case_id),
        trace_id=event.trace_id,
        officer=principal.badge_number,
    )
    return CaseFile(
        status=found.status,
        case=event,
        ruling=found.ruling,
        claimed_by=found.claimed_by,
        lease_expires_at=found.lease_expires_at,
        escalated_at=found.escalated_at,
        video_url=url,
        video_url_expires_at=datetime.now(UTC) + lifetime,
        thumbnails=thumbnails,
        warnings=event.findings,
        ruling_document_number=found.document_number,
        ruling_document_url=ruling_document_path(case_id)
        if found.document_number
        else None,
    )


async def _issue_link(
    runtime: LiabilityRuntime,
    event: CaseQueued,
    object_key: str,
    lifetime: timedelta,
    *,
    kind: str,
    reader: str,
) -> str:
    """Presign a link to an evidence object after announcing the read to custody.

    Intake keeps the custody records, so the read goes there as an event. It is
    published before the link is returned: no link leaves without its record.
    """
    await publish_event(
        runtime.broker,
        runtime.settings,
        CustodyRecorded(
            case_id=event.case_id,
            trace_id=event.trace_id,
            action=CustodyAction.READ,
            object_key=object_key,
            actor=reader,
            detail=f"{kind} link issued to an officer, valid "
            f"{lifetime.total_seconds() / 60:g} minutes",
        ),
    )
    return await runtime.evidence.presigned_get_url(object_key, lifetime)


@router.post("/{case_id}/claim", responses=ERRORS)
async def claim_case(case_id: UUID, runtime: Runtime, officer: Officer) -> ClaimView:
    """Claim a case for a lease; the case returns to the queue unless it is renewed."""
    claim = await runtime.claims.claim(case_id, officer.badge_number, _lease(runtime))
    if claim.outcome is not ClaimOutcome.CLAIMED:
        await runtime.audit.record(
            officer,
            "claim",
            case_id,
            outcome="rejected",
            detail={"reason": claim.outcome.value},
        )
        raise claim_refused(case_id, claim)
    # The workflow's ruling validator checks the ruling officer against this.
    await signal_case(
        runtime,
        case_id,
        CASE_CLAIMED_SIGNAL,
        CaseClaimed(officer_badge=officer.badge_number),
    )
    await runtime.audit.record(
        officer,
        "claim",
        case_id,
        detail={"lease_expires_at": str(claim.lease_expires_at)},
    )
    log.info("case claimed", case_id=str(case_id), officer=officer.badge_number)
    return _claim_view(runtime, case_id, claim)


@router.post("/{case_id}/claim/renew", responses=ERRORS)
async def renew_claim(case_id: UUID, runtime: Runtime, officer: Officer) -> ClaimView:
    """Extend a live claim; the workbench calls this while the officer is active."""
    claim = await runtime.claims.renew(case_id, officer.badge_number, _lease(runtime))
    if claim.outcome is not ClaimOutcome.RENEWED:
        raise claim_refused(case_id, claim)
    return _claim_view(runtime, case_id, claim)


@router.delete("/{case_id}/claim", status_code=204, responses=ERRORS)
async def release_claim(case_id: UUID, runtime: Runtime, officer: Officer) -> Response:
    """Give a claimed case back to the queue."""
    if not await runtime.claims.release(case_id, officer.badge_number):
        raise claim_refused(case_id, Claim(ClaimOutcome.NOT_CLAIMED))
    await signal_case(
        runtime,
        case_id,
        CLAIM_RELEASED_SIGNAL,
        ClaimReleased(officer_badge=officer.badge_number),
    )
    await runtime.audit.record(officer, "release", case_id)
    return Response(status_code=204)


class EvidenceRequestBody(BaseModel):
    """The officer's instructions on what the parties should film."""

    instructions: MultiLine = Field(min_length=1, max_length=500)


@router.post("/{case_id}/evidence-request", status_code=202, responses=ERRORS)
async def request_more_evidence(
    case_id: UUID, body: EvidenceRequestBody, runtime: Runtime, officer: Officer
) -> EvidenceRequested:
    """Ask the parties for more evidence; the case leaves the queue until it passes.

    The parties get a text message with what to film and a link to upload it. The
    case returns to the queue when the new video passes its checks.
    """
    holder = await runtime.claims.holder(case_id)
    if holder.claimed_by != officer.badge_number:
        outcome = ClaimOutcome.NOT_CLAIMED
        if holder.outcome is ClaimOutcome.CLAIMED:
            outcome = ClaimOutcome.HELD_BY_OTHER
        raise claim_refused(
            case_id, Claim(outcome, holder.claimed_by, holder.lease_expires_at)
        )
    try:
        requested = await request_evidence(
            runtime,
            case_id,
            EvidenceRequest(
                officer_badge=officer.badge_number, instructions=body.instructions
            ),
        )
    except RulingRejectedError as rejection:
        raise rejected(rejection.message, rejection.problems) from rejection
    await runtime.queue.mark_awaiting_evidence(case_id)
    await runtime.audit.record(
        officer, "evidence_request", case_id, detail={"instructions": body.instructions}
    )
    log.info(
        "more evidence requested", case_id=str(case_id), officer=officer.badge_number
    )
    return requested


@router.post("/{case_id}/ruling", responses=ERRORS)
async def submit_ruling(
    case_id: UUID, draft: RulingDraft, runtime: Runtime, officer: Officer
) -> RulingResult:
    """Hand the ruling to the case workflow, which accepts it or lists the problems.

    ``officer_id`` may be left empty; it is the signed-in officer's badge either way.
    The ruling names an accident type from GET /accident-types, and a liability
    that differs from that type's suggestion needs a departure reason.
    """
    if draft.officer_id and draft.officer_id != officer.badge_number:
        raise error(
            403,
            "wrong_officer",
            f"the ruling names officer {draft.officer_id} but you signed in as "
            f"{officer.badge_number}; an officer rules only under their own badge",
            "只能以本人警号作出认定。",
        )
    draft = draft.model_copy(update={"officer_id": officer.badge_number})
    try:
        # The workflow lists a draft's own problems; the type is checked against
        # the table once the shares are consistent.
        if not draft.problems():
            check_ruling_type(draft, runtime.accident_types)
    except AccidentTypeError as problem:
        await runtime.audit.record(
            officer,
            "ruling",
            case_id,
            outcome="rejected",
            detail={"problems": [problem.code]},
        )
        raise rejected(problem.message, [problem.as_problem()]) from problem
    found = await runtime.queue.get(case_id)
    if found is None:
        raise _not_in_queue(case_id)
    if found.status == "ruled" and found.ruling is not None:
        if _same(found.ruling, draft) and found.ruled_at is not None:
            # A client resending after a lost response gets the same result again.
            return RulingResult(
                case_id=case_id, status="ruled", ruled_at=found.ruled_at
            )
        raise already_ruled(case_id, found.ruling)
    if found.status == "closed":
        raise error(409, "case_closed", f"case {case_id} is closed without a ruling")
    holder = await runtime.claims.holder(case_id)
    if holder.claimed_by != officer.badge_number:
        outcome = ClaimOutcome.NOT_CLAIMED
        if holder.outcome is ClaimOutcome.CLAIMED:
            outcome = ClaimOutcome.HELD_BY_OTHER
        await runtime.audit.record(
            officer,
            "ruling",
            case_id,
            outcome="rejected",
            detail={"reason": outcome.value},
        )
        raise claim_refused(
            case_id, Claim(outcome, holder.claimed_by, holder.lease_expires_at)
        )

    try:
        accepted = await deliver(runtime, case_id, draft)
    except RulingRejectedError as rejection:
        codes = [item.code for item in rejection.problems]
        await runtime.audit.record(
            officer, "ruling", case_id, outcome="rejected", detail={"problems": codes}
        )
        raise rejected(rejection.message, rejection.problems) from rejection
    winner = accepted.ruling
    assert winner is not None
    await runtime.queue.mark_ruled(case_id, winner, accepted.ruled_at)
    if not _same(winner, draft):
        # The same update id came back with another officer's ruling: that one won.
        raise already_ruled(case_id, winner)
    await runtime.audit.record(
        officer, "ruling", case_id, detail=winner.model_dump(mode="json")
    )
    log.info(
        "ruling accepted",
        case_id=str(case_id),
        trace_id=found.event.trace_id,
        officer=officer.badge_number,
    )
    return RulingResult(case_id=case_id, status="ruled", ruled_at=accepted.ruled_at)


def _same(ruling: Ruling, draft: RulingDraft) -> bool:
    return RulingDraft.model_validate(ruling.model_dump()) == draft
