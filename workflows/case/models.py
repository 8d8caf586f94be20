"""Inputs and results of the case workflow's activities."""

from uuid import UUID

from pydantic import BaseModel, Field

from contracts.case import (
    CaseDetails,
    EvidenceFacts,
    EvidenceFinding,
    Party,
    StoredEvidence,
)
from contracts.events import InsurerReminder, SmsRequested


class EvidenceCheckInput(BaseModel):
    case_id: UUID
    video: StoredEvidence


class EvidenceCheckResult(BaseModel):
    accepted: bool
    reason: str = ""


class ReminderBatch(BaseModel):
    reminders: list[InsurerReminder]


class HashEvidenceInput(BaseModel):
    """A stored video to hash again; the custody entry gets ``custody_event_id``."""

    case_id: UUID
    video: StoredEvidence
    custody_event_id: UUID
    trace_id: str = ""


class HashEvidenceResult(BaseModel):
    """The hash of the stored object, or ``missing`` when storage has no such key."""

    missing: bool = False
    sha256: str = ""
    size_bytes: int = 0


class ExamineEvidenceInput(BaseModel):
    case: CaseDetails
    video: StoredEvidence
    trace_id: str = ""


class ExamineEvidenceResult(BaseModel):
    """Findings of the checks, and the stored thumbnails of a decodable video."""

    facts: EvidenceFacts | None = None
    findings: list[EvidenceFinding] = Field(default_factory=list)
    thumbnails: list[str] = Field(default_factory=list)
    thumbnail_seconds: list[float] = Field(default_factory=list)


class SmsBatch(BaseModel):
    messages: list[SmsRequested]


class SettlementLinkInput(BaseModel):
    """An assessed claim whose party gets a settlement link by SMS.

    The link itself is signed in the activity, so no token enters the history.
    """

    event_id: UUID
    case_id: UUID
    trace_id: str = ""
    party: Party
    insurer_code: str
    claim_number: str
    amount_cents: int
