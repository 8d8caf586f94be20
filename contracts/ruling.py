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


class RulingProblem(BaseModel):
    """One reason a ruling is rejected: a stable code, the field, and messages."""

    code: str
    field: str
    message: str
    message_zh: str


class RulingDraft(BaseModel):
    """A ruling as an officer submits it, before its consistency is checked.

    :meth:`problems` lists every rule it breaks, so the officer gets them all at
    once. An empty officer id is filled in from the signed-in officer's badge.
    """

    officer_id: MultiLine = Field(
        default="", max_length=32, description="Officer badge number"
    )
    facts: MultiLine = Field(default="", max_length=4000)
    rule_applied: MultiLine = Field(default="", max_length=500)
    liabilities: list[PartyLiability] = Field(default_factory=list, max_length=26)
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

    def problems(self) -> list[RulingProblem]:
        """Return every rule this draft breaks, or an empty list."""
        found: list[RulingProblem] = []
        if not self.facts:
            found.append(_FACTS_MISSING)
        if not self.rule_applied:
            found.append(_RULE_MISSING)
        found += _share_problems(self.liabilities)
        return found


class Ruling(RulingDraft):
    """An officer's ruling on a case, consistent by construction.

    Among the liable parties (share above 0) the categories must agree. Either one
    party has full liability, or every liable party has equal liability with shares
    that differ by at most 1 (three parties share 34/33/33). Otherwise one party has
    primary liability and a larger share than each party with secondary liability.
    """

    officer_id: OneLine = Field(max_length=32, description="Officer badge number")
    facts: MultiLine = Field(min_length=1, max_length=4000)
    rule_applied: OneLine = Field(max_length=500)
    liabilities: list[PartyLiability] = Field(min_length=2, max_length=26)

    @model_validator(mode="after")
    def _shares_are_consistent(self) -> Self:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problem.message for problem in problems))
        return self

    def share_of(self, party_id: str) -> int:
        return next(
            item.share for item in self.liabilities if item.party_id == party_id
        )


_FACTS_MISSING = RulingProblem(
    code="facts_missing",
    field="facts",
    message="the facts are missing; describe what happened",
    message_zh="请填写事故事实。",
)
_RULE_MISSING = RulingProblem(
    code="rule_missing",
    field="rule_applied",
    message="the rule applied is missing; name the article of law",
    message_zh="请填写适用的法律条款。",
)


def _problem(code: str, message: str, message_zh: str) -> RulingProblem:
    return RulingProblem(
        code=code, field="liabilities", message=message, message_zh=message_zh
    )


def _share_problems(liabilities: list[PartyLiability]) -> list[RulingProblem]:
    if len(liabilities) < 2:
        return [
            _problem(
                "liabilities_missing",
                "give a liability for each party of the case",
                "请为每一方当事人认定责任。",
            )
        ]
    party_ids = [item.party_id for item in liabilities]
    if len(set(party_ids)) != len(party_ids):
        return [
            _problem(
                "party_repeated",
                "each party may appear only once in liabilities",
                "同一当事人只能认定一次责任。",
            )
        ]
    found = [problem for item in liabilities for problem in _party_problems(item)]
    total = sum(item.share for item in liabilities)
    if total != 100:
        found.append(
            _problem(
                "shares_not_100",
                f"liability shares must add up to 100, got {total}",
                f"各方责任比例之和应为 100，当前为 {total}。",
            )
        )
    if not found:
        found += _category_problems(liabilities)
    return found


def _party_problems(item: PartyLiability) -> list[RulingProblem]:
    party = item.party_id
    if item.category is LiabilityCategory.FULL and item.share != 100:
        return [
            _problem(
                "full_needs_100",
                f"party {party}: full liability needs a share of 100, got {item.share}",
                f"{party} 方为全部责任，比例应为 100。",
            )
        ]
    if item.category is LiabilityCategory.NONE and item.share != 0:
        return [
            _problem(
                "none_needs_0",
                f"party {party}: no liability needs a share of 0, got {item.share}",
                f"{party} 方为无责任，比例应为 0。",
            )
        ]
    liable = item.category not in {LiabilityCategory.FULL, LiabilityCategory.NONE}
    if liable and not 1 <= item.share <= 99:
        return [
            _problem(
                "share_out_of_range",
                f"party {party}: {item.category.value} liability needs a share "
                f"between 1 and 99, got {item.share}",
                f"{party} 方的责任比例应在 1 至 99 之间。",
            )
        ]
    return []


def _category_problems(liabilities: list[PartyLiability]) -> list[RulingProblem]:
    liable = [
        item for item in liabilities if item.category is not LiabilityCategory.NONE
    ]
    categories = {item.category for item in liable}
    if categories == {LiabilityCategory.FULL}:
        return []
    if LiabilityCategory.EQUAL in categories:
        if categories != {LiabilityCategory.EQUAL} or len(liable) < 2:
            return [
                _problem(
                    "equal_mixed",
                    "equal liability applies only when every liable party has equal "
                    "liability; use primary and secondary otherwise",
                    "同等责任适用于所有有责方均为同等责任的情形。",
                )
            ]
        shares = [item.share for item in liable]
        if max(shares) - min(shares) > 1:
            return [
                _problem(
                    "equal_shares_differ",
                    "parties with equal liability must have the same share, "
                    "or shares that differ by 1 where 100 does not divide evenly",
                    "同等责任各方的比例应相同。",
                )
            ]
        return []
    primaries = [item for item in liable if item.category is LiabilityCategory.PRIMARY]
    secondaries = [
        item for item in liable if item.category is LiabilityCategory.SECONDARY
    ]
    if len(primaries) != 1 or not secondaries:
        return [
            _problem(
                "primary_secondary_mismatch",
                "a ruling without full or equal liability needs exactly one party "
                "with primary liability and at least one with secondary liability",
                "应认定一方主要责任、其余有责方次要责任。",
            )
        ]
    primary = primaries[0]
    return [
        _problem(
            "secondary_not_below_primary",
            f"party {item.party_id} has secondary liability but a share of "
            f"{item.share}, not less than the primary party's {primary.share}",
            f"{item.party_id} 方为次要责任，比例应低于主要责任方。",
        )
        for item in secondaries
        if item.share >= primary.share
    ]
