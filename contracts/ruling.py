"""A liability ruling and the rules every ruling must satisfy."""

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, Field, model_validator

from contracts.case import PartyId


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
        allowed = {
            LiabilityCategory.FULL: (100, 100),
            LiabilityCategory.PRIMARY: (51, 99),
            LiabilityCategory.EQUAL: (1, 99),
            LiabilityCategory.SECONDARY: (1, 49),
            LiabilityCategory.NONE: (0, 0),
        }
        low, high = allowed[self.category]
        if not low <= self.share <= high:
            raise ValueError(
                f"party {self.party_id}: a {self.category.value} liability needs a "
                f"share between {low} and {high}, got {self.share}"
            )
        return self


class Ruling(BaseModel):
    """An officer's ruling on a case."""

    officer_id: str = Field(
        min_length=1, max_length=32, description="Officer badge number"
    )
    facts: str = Field(min_length=1, max_length=4000)
    rule_applied: str = Field(min_length=1, max_length=500)
    liabilities: list[PartyLiability] = Field(min_length=2)

    @model_validator(mode="after")
    def _shares_are_consistent(self) -> Self:
        party_ids = [item.party_id for item in self.liabilities]
        if len(set(party_ids)) != len(party_ids):
            raise ValueError("each party may appear only once in liabilities")
        total = sum(item.share for item in self.liabilities)
        if total != 100:
            raise ValueError(f"liability shares must add up to 100, got {total}")
        equal_shares = {
            item.share
            for item in self.liabilities
            if item.category is LiabilityCategory.EQUAL
        }
        if len(equal_shares) > 1:
            raise ValueError("parties with equal liability must have the same share")
        return self

    def share_of(self, party_id: str) -> int:
        return next(
            item.share for item in self.liabilities if item.party_id == party_id
        )
