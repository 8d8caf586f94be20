"""The accident case as reported from the scene."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from contracts.insurers import KNOWN_INSURERS
from contracts.text import MultiLine, OneLine

MobileNumber = Annotated[
    str,
    Field(
        pattern=r"^1[3-9][0-9]{9}$",
        description="Mainland mobile number, 11 digits starting with 13 to 19",
        examples=["13812345678"],
    ),
]
# Plates leave out the letters I and O, which read as 1 and 0.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_CHARACTER = "[A-HJ-NP-Z0-9]"
PlateNumber = Annotated[
    str,
    Field(
        pattern=(
            f"^[{PROVINCES}][A-HJ-NP-Z]"
            f"(?:{_PLATE_CHARACTER}{{5,6}}|{_PLATE_CHARACTER}{{4}}[学警挂港澳领使])$"
        ),
        description=(
            "Province character, city letter, then 5 letters or digits (6 on "
            "new-energy vehicles), or 4 and a suffix such as 学 or 挂"
        ),
        examples=["京A12345", "粤BD12345", "浙A1234学"],
    ),
]
InsurerCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9]{1,15}$",
        description="Insurer code, upper-case letters and digits",
        examples=["PICC"],
    ),
]
PartyId = Annotated[
    str, Field(pattern=r"^[A-Z]$", description="Party letter: A, B, C…")
]

MAX_PARTIES = 10
# A report must come soon after the accident; phones' clocks may run a little fast.
MAX_REPORT_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)


class Location(BaseModel):
    """The accident's place: a point within China and its street address."""

    model_config = ConfigDict(frozen=True)

    # The bounding box of China's territory, so that a phone's 0,0 is caught.
    latitude: float = Field(ge=3.8, le=53.6, allow_inf_nan=False)
    longitude: float = Field(ge=73.4, le=135.1, allow_inf_nan=False)
    address: OneLine = Field(min_length=2, max_length=200)


class PartyInput(BaseModel):
    """A party as the reporter enters it."""

    name: OneLine = Field(max_length=50)
    phone: MobileNumber
    plate: PlateNumber
    insurer_code: InsurerCode
    policy_number: str = Field(pattern=r"^[A-Za-z0-9-]{6,40}$")


class Party(PartyInput):
    """A party of a case, with the letter that names it in the ruling."""

    party_id: PartyId


class EligibilityAnswers(BaseModel):
    """The reporter's answers to the simplified procedure's questions.

    Intake checks them against the rules in ``services/intake/eligibility.py`` before
    anything else: a case that fails one goes to on-scene handling. Each answer
    must be a JSON boolean, so a number or a string is rejected rather than read
    as a yes or a no.
    """

    model_config = ConfigDict(frozen=True)

    anyone_injured: StrictBool = Field(description="Is anyone injured?")
    injuries_slight_and_accepted: StrictBool = Field(
        default=False,
        description="When someone is injured: is every injury slight, and do all "
        "parties accept settling it this way?",
    )
    suspected_impaired_driving: StrictBool = Field(
        description="Is any driver suspected of driving after drinking or taking drugs?"
    )
    licences_valid: StrictBool = Field(
        description="Does every driver hold a valid licence for the vehicle driven?"
    )
    plates_present: StrictBool = Field(
        description="Does every vehicle carry its plates?"
    )
    vehicles_can_move: StrictBool = Field(
        description="Can every vehicle still be driven away?"
    )
    public_facilities_damaged: StrictBool = Field(
        description="Were public facilities (guard rails, signs, lamp posts) damaged?"
    )
    party_left_scene: StrictBool = Field(
        description="Has a party involved left the scene?"
    )
    suspected_deliberate: StrictBool = Field(
        description="Is the collision suspected to be deliberate?"
    )


class NewCase(BaseModel):
    """Request body that opens a case."""

    accident_at: AwareDatetime = Field(
        description="When the accident happened, with its UTC offset, within the "
        f"last {MAX_REPORT_AGE.days} days"
    )
    location: Location
    parties: list[PartyInput] = Field(
        min_length=2,
        max_length=MAX_PARTIES,
        description="One entry per vehicle involved",
    )
    description: MultiLine = Field(default="", max_length=2000)
    eligibility: EligibilityAnswers

    @field_validator("accident_at")
    @classmethod
    def _accident_is_recent(cls, value: datetime) -> datetime:
        now = datetime.now(UTC)
        if value > now + CLOCK_SKEW:
            raise ValueError(
                "the accident time is in the future; check the phone's clock"
            )
        if value < now - MAX_REPORT_AGE:
            raise ValueError(
                f"the accident happened more than {MAX_REPORT_AGE.days} days ago; "
                "report it at a traffic police station"
            )
        return value

    @field_validator("parties")
    @classmethod
    def _insurers_are_known(cls, parties: list[PartyInput]) -> list[PartyInput]:
        for index, party in enumerate(parties):
            if party.insurer_code not in KNOWN_INSURERS:
                raise ValueError(
                    f"party {index + 1}: insurer code {party.insurer_code} is unknown; "
                    f"known codes: {', '.join(sorted(KNOWN_INSURERS))}"
                )
        return parties

    @model_validator(mode="after")
    def _plates_are_distinct(self) -> "NewCase":
        plates = [party.plate for party in self.parties]
        if len(set(plates)) != len(plates):
            raise ValueError("each party must have a different plate number")
        return self


class CaseDetails(BaseModel):
    """Everything the workflow and the officer need to know about a case."""

    case_id: UUID
    accident_at: datetime
    location: Location
    parties: list[Party]
    description: str = ""

    def party_ids(self) -> set[str]:
        return {party.party_id for party in self.parties}

    def insurer_codes(self) -> list[str]:
        return sorted({party.insurer_code for party in self.parties})


def assign_party_ids(parties: list[PartyInput]) -> list[Party]:
    """Name the parties A, B, C… in the order they were entered."""
    return [
        Party(party_id=chr(ord("A") + index), **party.model_dump())
        for index, party in enumerate(parties)
    ]


class EvidenceFacts(BaseModel):
    """Facts read from the video container: duration, codec, size and frame rate."""

    duration_seconds: float
    codec: str
    width: int
    height: int
    frame_rate: float | None = None


class StoredEvidence(BaseModel):
    """A video kept in object storage, with the hash taken when it arrived."""

    object_key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(gt=0)
    content_type: str
    facts: EvidenceFacts


class FindingSeverity(StrEnum):
    """Whether a finding rejects the evidence or only warns the officer."""

    REJECT = "reject"
    WARN = "warn"


class EvidenceFinding(BaseModel):
    """One result of the evidence checks, worded for the officer and the phone."""

    code: str
    severity: FindingSeverity
    message: str
    message_zh: str = ""
