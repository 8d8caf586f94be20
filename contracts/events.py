"""One pydantic model per Kafka topic.

Every event carries an event id (consumers use it to drop redeliveries), the case id
(also the partition key, so the events of one case stay in order), the time it
happened and the version of its schema.
"""

from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, Field, field_validator

from contracts.case import (
    CaseDetails,
    EvidenceFinding,
    InsurerCode,
    Location,
    PartyId,
    StoredEvidence,
)
from contracts.custody import CustodyAction
from contracts.ruling import Ruling
from contracts.settlement import PayeeAccount, SealedPayee


class Event(BaseModel):
    """Fields common to every event."""

    topic: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4)
    case_id: UUID
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    schema_version: int = 1
    trace_id: str = Field(default="", description="Request trace carried across hops")

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        # Each model's default is the newest version this code reads. A newer one
        # may carry fields that change the meaning of the known ones, so it is
        # rejected and the consumer sends the message to the dead-letter topic.
        newest = cls.model_fields["schema_version"].default
        if not 1 <= version <= newest:
            raise ValueError(
                f"schema version {version} of {cls.__name__} is unknown; this code "
                f"reads versions 1 to {newest}, so deploy the consumer that knows "
                "the newer version"
            )
        return version


class CaseSubmitted(Event):
    """A reporter submitted a case with its video; the case workflow starts from it."""

    topic: ClassVar[str] = "case.submitted"

    case: CaseDetails
    video: StoredEvidence


class PartySummary(BaseModel):
    """A party as officers and insurers see it: no phone number."""

    party_id: str
    name: str
    plate: str
    insurer_code: InsurerCode
    policy_number: str


class CaseQueued(Event):
    """The evidence passed its checks and the case waits for an officer."""

    topic: ClassVar[str] = "case.queued"

    accident_at: datetime
    location: Location
    description: str
    parties: list[PartySummary]
    video: StoredEvidence
    findings: list[EvidenceFinding] = Field(
        default_factory=list, description="Warnings of the evidence checks"
    )
    thumbnails: list[str] = Field(
        default_factory=list, description="Object keys of the keyframe thumbnails"
    )
    thumbnail_seconds: list[float] = Field(
        default_factory=list,
        description="Where each thumbnail sits in the video, in seconds",
    )


class CaseEscalated(Event):
    """The case waited longer than its ruling target; supervisors are alerted."""

    topic: ClassVar[str] = "case.escalated"

    reason: str = "ruling_overdue"
    target_minutes: float
    queued_at: datetime
    claimed_by: str | None = None


class CaseRuled(Event):
    """An officer's ruling, accepted by the case workflow."""

    topic: ClassVar[str] = "case.ruled"

    accident_at: datetime
    location: Location
    parties: list[PartySummary]
    ruling: Ruling
    document_number: str = Field(
        default="", description="The signed ruling document's number"
    )


class OtherParty(BaseModel):
    """Another insurer's party, reduced to what a claim against it needs."""

    party_id: str
    name_masked: str = Field(description="Family name only, e.g. 李*")
    plate_masked: str = Field(description="Region and last two characters, 浙B***90")
    insurer_code: InsurerCode


class InsurerNotification(Event):
    """A ruling as one insurer receives it, on that insurer's own topic.

    Version 2 adds ``other_parties``. Version 3 adds ``document_number`` and
    ``replaces_document_number``: a notification that names a replaced document
    carries the ruling of a reconsideration, which supersedes every earlier
    notification of the case. The insurer gets its own insured parties in full
    and the other parties masked, never their phone numbers or policies.
    """

    topic: ClassVar[str] = "insurer.{insurer_code}.notifications"

    schema_version: int = 3
    insurer_code: InsurerCode
    accident_at: datetime
    location: Location
    insured_parties: list[PartySummary]
    other_parties: list[OtherParty] = Field(default_factory=list)
    ruling: Ruling
    document_number: str = Field(
        default="", description="The signed document of this ruling"
    )
    replaces_document_number: str = Field(
        default="",
        description="Set when a reconsideration replaced the ruling: the replaced "
        "ruling's document. Empty for a first ruling",
    )

    @staticmethod
    def topic_for(insurer_code: str) -> str:
        return InsurerNotification.topic.format(insurer_code=insurer_code.lower())


class ClaimOpened(Event):
    """An insurer opened a claim for a ruled case."""

    topic: ClassVar[str] = "claim.opened"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)


class ClaimSettled(Event):
    """An insurer settled a claim."""

    topic: ClassVar[str] = "claim.settled"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(ge=0)


class ClaimAssessed(Event):
    """An insurer assessed the damage of a claim.

    The party the claim concerns gets a settlement link by SMS, and the insurer
    gets that party's confirmation and payee account on
    ``insurer.<code>.settlements``.
    """

    topic: ClassVar[str] = "claim.assessed"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    amount_cents: int = Field(ge=0)
    party_id: PartyId | None = Field(
        default=None,
        description="The party the claim concerns, who confirms it and names the "
        "payee account; when unset, the insurer's only insured party of the case",
    )


class ClaimRefused(Event):
    """An insurer refused a claim, with the reason it gives the parties."""

    topic: ClassVar[str] = "claim.refused"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class SettlementConfirmed(Event):
    """A party confirmed an assessed claim, with the payee's account number in full.

    Intake published this form before ``SealedSettlementConfirmed`` replaced it;
    insurance still consumes what is left on its topic.
    """

    topic: ClassVar[str] = "settlement.confirmed"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    party_id: PartyId
    amount_cents: int = Field(ge=0, description="The assessed amount confirmed")
    payee: PayeeAccount
    confirmed_at: datetime


class SealedSettlementConfirmed(Event):
    """A party confirmed an assessed claim and named the payee account.

    Intake publishes it for the insurance service alone, which opens the sealed
    account number and hands it to the claim's insurer as
    ``InsurerSettlementConfirmed``.
    """

    topic: ClassVar[str] = "settlement.confirmed.sealed"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    party_id: PartyId
    amount_cents: int = Field(ge=0, description="The assessed amount confirmed")
    payee: SealedPayee
    confirmed_at: datetime


class InsurerSettlementConfirmed(Event):
    """A party's confirmation of a claim, as the claim's insurer receives it.

    It goes on that insurer's own topic (and webhook) only, with the full account
    number, so the insurer can pay the claim.
    """

    topic: ClassVar[str] = "insurer.{insurer_code}.settlements"

    insurer_code: InsurerCode
    claim_number: str = Field(min_length=1, max_length=64)
    party_id: PartyId
    amount_cents: int = Field(ge=0, description="The assessed amount confirmed")
    payee: PayeeAccount
    confirmed_at: datetime

    @staticmethod
    def topic_for(insurer_code: str) -> str:
        return InsurerSettlementConfirmed.topic.format(
            insurer_code=insurer_code.lower()
        )


class InsurerReminder(Event):
    """A reminder to an insurer that has not closed its claim of a ruled case."""

    topic: ClassVar[str] = "insurer.{insurer_code}.reminders"
    # The workflow publishes here. Insurance hands each reminder to its insurer
    # alone, on ``topic`` and by webhook.
    request_topic: ClassVar[str] = "reminder.requested"

    insurer_code: InsurerCode
    notified_at: datetime
    escalates_at: datetime

    @staticmethod
    def topic_for(insurer_code: str) -> str:
        return InsurerReminder.topic.format(insurer_code=insurer_code.lower())


class SettlementEscalated(Event):
    """Insurers stayed silent past their reminder; operators must follow up."""

    topic: ClassVar[str] = "settlement.escalated"
    # Insurance sends each insurer named a copy that names that insurer alone, on
    # this topic and by webhook.
    insurer_topic: ClassVar[str] = "insurer.{insurer_code}.escalations"

    insurer_codes: list[InsurerCode]
    notified_at: datetime

    @staticmethod
    def insurer_topic_for(insurer_code: str) -> str:
        return SettlementEscalated.insurer_topic.format(
            insurer_code=insurer_code.lower()
        )


class SmsRequested(Event):
    """A text message the case workflow wants sent to one party."""

    topic: ClassVar[str] = "sms.requested"

    message_id: str = Field(
        description="Stable id: a resend with it reaches no phone twice"
    )
    party_id: str
    phone: str
    template: str = Field(description="Name of an SMS template of the notify service")
    variables: dict[str, str] = Field(default_factory=dict)


class CaseReconsiderationRequested(Event):
    """A party asked to reconsider a ruling; a different officer takes the case."""

    topic: ClassVar[str] = "case.reconsideration_requested"

    document_number: str
    ruling: Ruling
    party_id: str
    reason: str
    requested_at: datetime


class CaseReconsidered(Event):
    """A reconsidering officer confirmed or replaced a ruling; both stay on file.

    The accident and its parties travel with the event, so that insurance can
    send a replaced ruling to the insurers without asking another service.
    """

    topic: ClassVar[str] = "case.reconsidered"

    outcome: str = Field(description="confirmed or replaced")
    first_document_number: str
    document_number: str
    ruling: Ruling = Field(description="The ruling in force after reconsideration")
    accident_at: datetime | None = Field(
        default=None, description="None in events published before it was added"
    )
    location: Location | None = Field(
        default=None, description="None in events published before it was added"
    )
    parties: list[PartySummary] = Field(
        default_factory=list,
        description="The parties without phone numbers; empty in events published "
        "before it was added",
    )


class CaseClosed(Event):
    """The case workflow finished."""

    topic: ClassVar[str] = "case.closed"

    outcome: str


class EvidenceRejected(Event):
    """The evidence failed a check; the case waits for a replacement upload."""

    topic: ClassVar[str] = "evidence.rejected"

    object_key: str
    findings: list[EvidenceFinding]
    message: str = Field(description="What to redo, for API clients")
    message_zh: str = Field(description="What to redo, as the phone shows it")
    resubmit_by: datetime
    attempt: int = Field(ge=1)


class EvidenceResubmitted(Event):
    """A replacement video arrived for a case whose evidence was rejected."""

    topic: ClassVar[str] = "evidence.resubmitted"

    video: StoredEvidence


class CustodyRecorded(Event):
    """A step in an evidence object's chain of custody, which intake appends."""

    topic: ClassVar[str] = "evidence.custody"

    action: CustodyAction
    object_key: str
    actor: str = Field(
        description="Who acted: party:A, officer:<badge>, or a service such as "
        "case-worker"
    )
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size_bytes: int | None = None
    detail: str = ""


ALL_EVENTS: tuple[type[Event], ...] = (
    CaseSubmitted,
    CaseQueued,
    CaseEscalated,
    CaseRuled,
    InsurerNotification,
    ClaimOpened,
    ClaimSettled,
    ClaimAssessed,
    ClaimRefused,
    SettlementConfirmed,
    SealedSettlementConfirmed,
    InsurerSettlementConfirmed,
    InsurerReminder,
    SettlementEscalated,
    SmsRequested,
    CaseReconsiderationRequested,
    CaseReconsidered,
    CaseClosed,
    EvidenceRejected,
    EvidenceResubmitted,
    CustodyRecorded,
)
