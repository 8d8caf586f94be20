import pytest
from pydantic import ValidationError

from contracts.ruling import Ruling


def _ruling(*liabilities: tuple[str, str, int]) -> dict[str, object]:
    return {
        "officer_id": "330102",
        "facts": "追尾",
        "rule_applied": "第四十三条",
        "liabilities": [
            {"party_id": party, "category": category, "share": share}
            for party, category, share in liabilities
        ],
    }


@pytest.mark.parametrize(
    "liabilities",
    [
        (("A", "full", 100), ("B", "none", 0)),
        (("A", "primary", 70), ("B", "secondary", 30)),
        (("A", "equal", 50), ("B", "equal", 50)),
        (("A", "primary", 60), ("B", "secondary", 20), ("C", "secondary", 20)),
        (("A", "primary", 40), ("B", "secondary", 30), ("C", "secondary", 30)),
        (("A", "equal", 34), ("B", "equal", 33), ("C", "equal", 33)),
        (("A", "equal", 50), ("B", "equal", 50), ("C", "none", 0)),
    ],
    ids=[
        "full-none",
        "primary-secondary",
        "equal",
        "three-parties",
        "primary-below-half",
        "equal-three-ways",
        "equal-with-blameless",
    ],
)
def test_consistent_ruling_is_accepted(
    liabilities: tuple[tuple[str, str, int], ...],
) -> None:
    ruling = Ruling.model_validate(_ruling(*liabilities))

    assert sum(item.share for item in ruling.liabilities) == 100


REJECTED = {
    "sum-90": ((("A", "primary", 60), ("B", "secondary", 30)), "add up to 100, got 90"),
    "full-not-100": ((("A", "full", 90), ("B", "secondary", 10)), "share of 100"),
    "none-not-0": ((("A", "none", 10), ("B", "primary", 90)), "share of 0"),
    "primary-100": ((("A", "primary", 100), ("B", "none", 0)), "between 1 and 99"),
    "secondary-above-primary": (
        (("A", "secondary", 60), ("B", "primary", 40)),
        "not less than the primary",
    ),
    "equal-unequal": ((("A", "equal", 60), ("B", "equal", 40)), "the same share"),
    "equal-with-secondary": (
        (("A", "equal", 51), ("B", "secondary", 49)),
        "every liable party has equal",
    ),
    "primary-with-equal": (
        (("A", "primary", 70), ("B", "equal", 30)),
        "every liable party has equal",
    ),
    "no-primary": (
        (("A", "secondary", 40), ("B", "secondary", 30), ("C", "secondary", 30)),
        "exactly one party with primary",
    ),
    "two-primaries": (
        (("A", "primary", 50), ("B", "primary", 50)),
        "exactly one party with primary",
    ),
    "equal-alone": ((("A", "equal", 100), ("B", "none", 0)), "between 1 and 99"),
    "twice": ((("A", "full", 100), ("A", "none", 0)), "only once"),
}


@pytest.mark.parametrize(
    ("liabilities", "message"), list(REJECTED.values()), ids=list(REJECTED)
)
def test_inconsistent_ruling_is_rejected(
    liabilities: tuple[tuple[str, str, int], ...], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Ruling.model_validate(_ruling(*liabilities))

    assert message in str(error.value)


def test_ruling_needs_facts_and_rule() -> None:
    payload = _ruling(("A", "full", 100), ("B", "none", 0))
    payload["facts"] = "  "
    payload["rule_applied"] = ""

    with pytest.raises(ValidationError) as error:
        Ruling.model_validate(payload)

    fields = {item["loc"][0] for item in error.value.errors()}
    assert fields == {"facts", "rule_applied"}


@pytest.mark.parametrize(
    "facts",
    ["追尾\u0000", "\u200b", "a\u202eb"],
    ids=["nul", "zero-width-space", "right-to-left-override"],
)
def test_ruling_with_control_characters_is_rejected(facts: str) -> None:
    payload = _ruling(("A", "full", 100), ("B", "none", 0))
    payload["facts"] = facts

    with pytest.raises(ValidationError) as error:
        Ruling.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("facts",)
    assert "control character" in str(error.value)
