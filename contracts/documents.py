"""The ruling document: what it prints, the record of each issued version, and the
public verification API's bodies.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.case import Location, PartyId
from contracts.events import PartySummary
from contracts.ruling import Ruling
from contracts.text import MultiLine

Sha256Hex = str
SHA256_PATTERN = r"^[0-9a-f]{64}$"
DOCUMENT_NUMBER_PATTERN = r"^DZ[0-9]{8}-[0-9A-F]{8}(-F)?$"


class DocumentKind(StrEnum):
    """A first ruling, or the outcome of its reconsideration."""

    RULING = "ruling"
    RECONSIDERATION = "reconsideration"


class PartyAnswerKind(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"


class PartyAnswer(BaseModel):
    """A party's acknowledgement or refusal of a ruling document."""

    party_id: PartyId
    answer: PartyAnswerKind
    answered_at: datetime
    reason: str = Field(default="", max_length=500)


class ReconsiderationOutcome(StrEnum):
    """Whether the reconsidering officer kept the first ruling or gave another."""

    CONFIRMED = "confirmed"
    REPLACED = "replaced"


class RulingDocumentContent(BaseModel):
    """Everything a ruling document prints, fixed by the workflow before rendering.

    The same content renders to the same bytes, so a retried issue stores the same
    file under the same hash.
    """

    document_number: str = Field(pattern=DOCUMENT_NUMBER_PATTERN)
    kind: DocumentKind = DocumentKind.RULING
    version: int = Field(default=1, ge=1)
    case_id: UUID
    issued_at: datetime
    accident_at: datetime
    location: Location
    parties: list[PartySummary]
    ruling: Ruling
    accident_type_name_zh: str = Field(
        default="", description="Name of the ruling's accident type, from the table"
    )
    evidence_sha256: list[Sha256Hex] = Field(min_length=1)
    reconsideration_deadline: datetime | None = Field(
        default=None,
        description="End of the last working day for a reconsideration request; "
        "None prints the rule without a date",
    )
    answers: list[PartyAnswer] = Field(default_factory=list)
    replaces_document: str = Field(
        default="", description="For a reconsideration: the first ruling's number"
    )
    reconsideration_outcome: ReconsiderationOutcome | None = None
    reconsideration_reason: MultiLine = Field(default="", max_length=2000)


class IssuedDocument(BaseModel):
    """One stored version of a ruling document and its signature."""

    document_number: str = Field(pattern=DOCUMENT_NUMBER_PATTERN)
    version: int = Field(ge=1)
    kind: DocumentKind
    case_id: UUID
    object_key: str
    sha256: Sha256Hex = Field(pattern=SHA256_PATTERN)
    signature: str = Field(description="Ed25519 signature over the SHA-256, in hex")
    key_id: str = Field(description="First 16 hex digits of the public key's SHA-256")
    issued_at: datetime
    code_sha256: Sha256Hex = Field(
        pattern=SHA256_PATTERN,
        description="SHA-256 of the printed verification code, upper case, no hyphen",
    )
    reconsideration_deadline: datetime | None = None


class VerificationRequest(BaseModel):
    """The printed number and code, and the SHA-256 of the PDF to check."""

    document_number: str = Field(max_length=40)
    code: str = Field(min_length=1, max_length=20)
    sha256: Sha256Hex = Field(pattern=SHA256_PATTERN)


class VerificationResult(BaseModel):
    """Whether a PDF is a version of the document the platform issued, unaltered."""

    genuine: bool
    document_number: str
    reason: str = Field(
        description="genuine, unknown_document, code_mismatch, altered, "
        "or signature_invalid"
    )
    message: str
    message_zh: str
    version: int | None = None
    latest_version: int | None = None
    issued_at: datetime | None = None
    kind: DocumentKind | None = None
    sha256: Sha256Hex | None = Field(
        default=None, description="The genuine version's SHA-256, in hex"
    )
    signature: str | None = Field(
        default=None,
        description="The genuine version's detached Ed25519 signature, in hex, for "
        "an offline check with the key from GET /documents/public-key",
    )
    key_id: str | None = Field(
        default=None, description="First 16 hex digits of the signing key's SHA-256"
    )
