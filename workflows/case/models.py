"""Inputs and results of the case workflow's activities."""

from uuid import UUID

from pydantic import BaseModel

from contracts.case import StoredEvidence
from contracts.events import InsurerReminder, SmsRequested


class EvidenceCheckInput(BaseModel):
    case_id: UUID
    video: StoredEvidence


class EvidenceCheckResult(BaseModel):
    accepted: bool
    reason: str = ""


class ReminderBatch(BaseModel):
    reminders: list[InsurerReminder]


class SmsBatch(BaseModel):
    messages: list[SmsRequested]
