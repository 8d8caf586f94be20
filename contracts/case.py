"""The accident case as reported from the scene."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MobileNumber = Annotated[
    str,
    Field(
        pattern=r"^1[3-9]\d{9}$",
        description="Mainland mobile number, 11 digits starting with 13 to 19",
        examples=["13812345678"],
    ),
]
PlateNumber = Annotated[
    str,
    Field(
        pattern=r"^[\u4e00-\u9fa5][A-Z][A-Z0-9]{5,6}$",
        description="Province character, city letter, then 5 or 6 letters or digits",
        examples=["京A12345"],
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


class Location(BaseModel):
    """Where the accident happened."""

    model_config = ConfigDict(frozen=True)

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str = Field(min_length=2, max_length=200)


class PartyInput(BaseModel):
    """A party as the reporter enters it."""

    name: str = Field(min_length=1, max_length=50)
    phone: MobileNumber
    plate: PlateNumber
    insurer_code: InsurerCode
    policy_number: str = Field(pattern=r"^[A-Za-z0-9-]{6,40}$")


class Party(PartyInput):
    """A party of a case, with the letter that names it in the ruling."""

    party_id: PartyId


class NewCase(BaseModel):
    """Request body that opens a case."""

    accident_at: AwareDatetime
    location: Location
    parties: list[PartyInput] = Field(min_length=2, max_length=MAX_PARTIES)
    description: str = Field(default="", max_length=2000)

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
    """What reading the video container showed."""

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
