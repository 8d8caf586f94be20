"""A liability ruling and the rules every ruling must satisfy."""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from contracts.case import PartyId
from contracts.text import MultiLine, OneLine


class LiabilityCategory(StrEnum):
    """The categories of liability of the simplified procedure."""

    FULL = "full"
    PRIMARY = "primary"
    EQUAL = "equal"
    SECONDARY = "secondary"
    NONE = "none"


class PartyLiability(BaseModel):
    """One party's liability: its category and its percentage share."""

    party_id: PartyId
    category: LiabilityCategory
    share: int = Field(ge=0, le=100, description="Percentage share of liability")

    @model_validator(mode="after")
    def _category_matches_share(self) -> Self:
        if self.category is LiabilityCategory.FULL and self.share != 100:
            raise ValueError(
                f"party {self.party_id}: full liability needs a share of 100, "
                f"got {self.share}"
            )
        if self.category is LiabilityCategory.NONE and self.share != 0:
            raise ValueError(
                f"party {self.party_id}: no liability needs a share of 0, "
                f"got {self.share}"
            )
        liable = self.category not in {LiabilityCategory.FULL, LiabilityCategory.NONE}
        if liable and not 1 <= self.share <= 99:
            raise ValueError(
                f"party {self.party_id}: {self.category.value} liability needs a "
                f"share between 1 and 99, got {self.share}"
            )
        return self


class Ruling(BaseModel):
    """An officer's ruling on a case.

    Among the liable parties (share above 0) the categories must agree. Either one
    party has full liability, or every liable party has equal liability with shares
    that differ by at most 1 (three parties share 34/33/33). Otherwise one party has
    primary liability and a larger share than each party with secondary liability.
    """

    officer_id: OneLine = Field(max_length=32, description="Officer badge number")
    facts: MultiLine = Field(min_length=1, max_length=4000)
    rule_applied: OneLine = Field(max_length=500)
    liabilities: list[PartyLiability] = Field(min_length=2)
    accident_type: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="Code of the accident type picked from the liability service's "
        "table (GET /accident-types)",
    )
    departure_reason: MultiLine = Field(
        default="",
        max_length=1000,
        description="Why the liability differs from the accident type's suggestion; "
        "required when it does",
    )

    @model_validator(mode="after")
    def _shares_are_consistent(self) -> Self:
        party_ids = [item.party_id for item in self.liabilities]
        if len(set(party_ids)) != len(party_ids):
            raise ValueError("each party may appear only once in liabilities")
        total = sum(item.share for item in self.liabilities)
        if total != 100:
            raise ValueError(f"liability shares must add up to 100, got {total}")
        _check_categories_agree(self.liabilities)
        return self

    def share_of(self, party_id: str) -> int:
        return next(
            item.share for item in self.liabilities if item.party_id == party_id
        )


def _check_categories_agree(liabilities: list[PartyLiability]) -> None:
    liable = [
        item for item in liabilities if item.category is not LiabilityCategory.NONE
    ]
    categories = {item.category for item in liable}
    if categories == {LiabilityCategory.FULL}:
        return
    if LiabilityCategory.EQUAL in categories:
        if categories != {LiabilityCategory.EQUAL} or len(liable) < 2:
            raise ValueError(
                "equal liability applies only when every liable party has equal "
                "liability; use primary and secondary otherwise"
            )
        shares = [item.share for item in liable]
        if max(shares) - min(shares) > 1:
            raise ValueError(
                "parties with equal liability must have the same share, "
                "or shares that differ by 1 where 100 does not divide evenly"
            )
        return
    primaries = [item for item in liable if item.category is LiabilityCategory.PRIMARY]
    secondaries = [
        item for item in liable if item.category is LiabilityCategory.SECONDARY
    ]
    if len(primaries) != 1 or not secondaries:
        raise ValueError(
            "a ruling without full or equal liability needs exactly one party with "
            "primary liability and at least one with secondary liability"
        )
    primary = primaries[0]
    for item in secondaries:
        if item.share >= primary.share:
            raise ValueError(
                f"party {item.party_id} has secondary liability but a share of "
                f"{item.share}, not less than the primary party's {primary.share}"
            )
