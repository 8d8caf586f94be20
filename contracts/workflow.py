"""The case workflow as other services call it: names, ids and message models.

Services address the workflow by these names so that none of them imports workflow code.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.case import CaseDetails, StoredEvidence
from contracts.ruling import Ruling, RulingDraft

WORKFLOW_NAME = "RemoteLiabilityCase"
SUBMIT_RULING_UPDATE = "submit_ruling"
INSURER_NOTIFIED_SIGNAL = "insurer_notified"
CLAIM_OPENED_SIGNAL = "claim_opened"
CLAIM_SETTLED_SIGNAL = "claim_settled"
CLAIM_ASSESSED_SIGNAL = "claim_assessed"
CLAIM_REFUSED_SIGNAL = "claim_refused"
REQUEST_EVIDENCE_UPDATE = "request_more_evidence"
CASE_CLAIMED_SIGNAL = "case_claimed"
CLAIM_RELEASED_SIGNAL = "claim_released"
TIMELINE_QUERY = "timeline"
SETTLEMENT_QUERY = "settlement"
SETTLEMENT_CONFIRMED_SIGNAL = "settlement_confirmed"
EVIDENCE_RESUBMITTED_SIGNAL = "evidence_resubmitted"
# How long the workflow waits for a replacement video after rejecting one.
DEFAULT_RESUBMISSION_WINDOW_SECONDS = 2 * 60 * 60
# The ApplicationError type of a rejected ruling; its details are RulingProblem dicts.
RULING_REJECTED = "RulingRejected"
DEFAULT_RULING_TARGET_MINUTES = 30.0


def case_workflow_id(case_id: UUID | str) -> str:
    return f"case-{case_id}"


def evidence_task_queue(case_task_queue: str) -> str:
    """Return the task queue of the evidence checks of cases on ``case_task_queue``.

    The checks decode video, so evidence workers serve them apart from the
    workflow workers, and each kind scales on its own.
    """
    return f"{case_task_queue}-evidence"


class CaseStage(StrEnum):
    """The stage a case has reached in its workflow."""

    CHECKING_EVIDENCE = "checking_evidence"
    AWAITING_RESUBMISSION = "awaiting_resubmission"
    AWAITING_RULING = "awaiting_ruling"
    NOTIFYING_INSURERS = "notifying_insurers"
    AWAITING_SETTLEMENT = "awaiting_settlement"
    CLOSED = "closed"


class CaseWorkflowInput(BaseModel):
    """The workflow's input: the submitted case and its video."""

    case: CaseDetails
    video: StoredEvidence
    submitted_at: datetime | None = None
    trace_id: str = ""
    ruling_target_minutes: float | None = Field(
        default=None,
        description="Time from queueing to ruling before the case is escalated; "
        "DEFAULT_RULING_TARGET_MINUTES when unset",
    )
    resubmission_window_seconds: float = Field(
        default=DEFAULT_RESUBMISSION_WINDOW_SECONDS,
        gt=0,
        description="How long to wait for a replacement video after a rejection",
    )


class EvidenceResubmittedSignal(BaseModel):
    """A replacement video, stored and hashed by intake."""

    video: StoredEvidence


class SubmitRulingInput(BaseModel):
    """A ruling for the update's validator to check before the workflow takes it."""

    ruling: RulingDraft


class EvidenceRequest(BaseModel):
    """An officer's request for more evidence: what the parties should film."""

    officer_badge: str
    instructions: str = Field(max_length=500)


class EvidenceRequested(BaseModel):
    requested_at: datetime


class CaseClaimed(BaseModel):
    """An officer claimed the case, or a supervisor assigned it to them."""

    officer_badge: str


class ClaimReleased(BaseModel):
    officer_badge: str


class RulingAccepted(BaseModel):
    """The ruling the workflow accepted, which a caller compares with its own."""

    ruled_at: datetime
    ruling: Ruling | None = None


class InsurerNotified(BaseModel):
    insurer_code: str


class ClaimOpenedSignal(BaseModel):
    insurer_code: str
    claim_number: str


class ClaimSettledSignal(BaseModel):
    insurer_code: str
    claim_number: str
    amount_cents: int


class ClaimAssessedSignal(BaseModel):
    insurer_code: str
    claim_number: str
    amount_cents: int
    party_id: str | None = Field(
        default=None,
        description="The party the claim concerns, if the insurer named one",
    )


class ClaimRefusedSignal(BaseModel):
    insurer_code: str
    claim_number: str
    reason: str


class TimelineEntry(BaseModel):
    """One step of a case, as the workflow recorded it."""

    at: datetime
    step: str
    detail: str = ""


class CaseTimeline(BaseModel):
    stage: CaseStage
    entries: list[TimelineEntry]


class CaseOutcome(BaseModel):
    outcome: str
    timeline: list[TimelineEntry]
