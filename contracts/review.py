"""The ruling review workflow as services call it: the parties' answers, the
reconsideration request and the reconsidering officer's decision.
"""

from datetime import datetime
from enum import StrEnum
from typing import Self
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from contracts.case import CaseDetails, PartyId
from contracts.documents import (
    IssuedDocument,
    PartyAnswer,
    PartyAnswerKind,
    ReconsiderationOutcome,
    RulingDocumentContent,
)
from contracts.ruling import Ruling
from contracts.text import MultiLine, OneLine

REVIEW_WORKFLOW_NAME = "RulingReview"
ANSWER_RULING_UPDATE = "answer_ruling"
REQUEST_RECONSIDERATION_UPDATE = "request_reconsideration"
DECIDE_RECONSIDERATION_UPDATE = "decide_reconsideration"
REVIEW_STATE_QUERY = "review_state"


def review_workflow_id(case_id: UUID | str) -> str:
    return f"review-{case_id}"


class ReviewStage(StrEnum):
    """The state of a ruling after delivery."""

    OPEN = "open"
    RECONSIDERING = "reconsidering"
    FINAL = "final"


class ReviewInput(BaseModel):
    """The delivered ruling: its case, its document's content and first version."""

    case: CaseDetails
    content: RulingDocumentContent
    document: IssuedDocument
    trace_id: str = ""


class RulingAnswer(BaseModel):
    """A party's acknowledgement or refusal, as the phone sends it."""

    answer: PartyAnswerKind
    reason: MultiLine = Field(default="", max_length=500)


class AnswerRulingInput(RulingAnswer):
    party_id: PartyId


class ReconsiderationRequestBody(BaseModel):
    """A party's request to reconsider the ruling, as the phone sends it."""

    reason: MultiLine = Field(min_length=1, max_length=1000)


class ReconsiderationRequest(ReconsiderationRequestBody):
    party_id: PartyId
    requested_at: datetime | None = Field(
        default=None, description="Set by the workflow when it accepts the request"
    )


class ReconsiderationDecision(BaseModel):
    """The reconsidering officer's outcome: keep the first ruling or replace it."""

    officer_id: OneLine = Field(max_length=32, description="Officer badge number")
    outcome: ReconsiderationOutcome
    reason: MultiLine = Field(min_length=1, max_length=2000)
    ruling: Ruling | None = Field(
        default=None, description="The new ruling; required when replacing"
    )

    @model_validator(mode="after")
    def _ruling_matches_outcome(self) -> Self:
        if self.outcome is ReconsiderationOutcome.REPLACED and self.ruling is None:
            raise ValueError("a replaced ruling needs the new ruling")
        if self.outcome is ReconsiderationOutcome.CONFIRMED and self.ruling is not None:
            raise ValueError("a confirmed ruling takes no new ruling")
        if self.ruling is not None and self.ruling.officer_id != self.officer_id:
            raise ValueError("the new ruling must carry the deciding officer's badge")
        return self


class ReviewState(BaseModel):
    """A ruling's review as the workflow records it."""

    stage: ReviewStage
    document_number: str
    versions: list[IssuedDocument]
    deadline: datetime | None
    answers: list[PartyAnswer]
    request: ReconsiderationRequest | None = None
    decision: ReconsiderationDecision | None = None
    reconsideration_document: IssuedDocument | None = None


class ReviewOutcome(BaseModel):
    """The end of a review: the document in force, and whether it was reconsidered."""

    final_document_number: str
    reconsidered: bool
    outcome: ReconsiderationOutcome | None = None
