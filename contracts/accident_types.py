"""The standard accident types that officers pick from, with their usual liability."""

from pydantic import BaseModel, Field, model_validator

from contracts.ruling import LiabilityCategory, PartyLiability


class SuggestedLiability(BaseModel):
    """The liability a type usually gives one of the two vehicles involved."""

    role_zh: str = Field(min_length=1, description="The vehicle's role, in Chinese")
    role_en: str = Field(min_length=1, description="The vehicle's role, in English")
    category: LiabilityCategory
    share: int = Field(ge=0, le=100, description="Percentage share of liability")


class AccidentType(BaseModel):
    """One type of accident between two motor vehicles and its usual liability."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description_zh: str = Field(min_length=1)
    rule: str = Field(
        min_length=1, description="The provision the type usually rests on"
    )
    suggested: list[SuggestedLiability] = Field(min_length=2)

    @model_validator(mode="after")
    def _shares_add_up(self) -> "AccidentType":
        total = sum(item.share for item in self.suggested)
        if total != 100:
            raise ValueError(f"accident type {self.code}: shares add up to {total}")
        return self

    def departs_from_suggestion(self, liabilities: list[PartyLiability]) -> bool:
        """Return whether a ruling's categories and shares differ from the suggestion.

        Parties are matched to roles by their liability, so the check gives the same
        answer whichever party the officer found in which role. A ruling with another
        number of parties than the type names always departs from it.
        """
        suggested = sorted((item.category.value, item.share) for item in self.suggested)
        ruled = sorted((item.category.value, item.share) for item in liabilities)
        return suggested != ruled


class AccidentTypeTable(BaseModel):
    """A province's table of accident types, as the liability service serves it."""

    version: str = Field(min_length=1, description="Edition of the table")
    region: str = Field(min_length=1, description="Where the table applies")
    types: list[AccidentType] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes_are_unique(self) -> "AccidentTypeTable":
        codes = [item.code for item in self.types]
        if len(set(codes)) != len(codes):
            raise ValueError("accident type codes must be unique")
        return self

    def find(self, code: str) -> AccidentType | None:
        return next((item for item in self.types if item.code == code), None)
