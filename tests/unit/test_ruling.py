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
    ],
    ids=["full-none", "primary-secondary", "equal", "three-parties"],
)
def test_consistent_ruling_is_accepted(
    liabilities: tuple[tuple[str, str, int], ...],
) -> None:
    ruling = Ruling.model_validate(_ruling(*liabilities))

    assert sum(item.share for item in ruling.liabilities) == 100


@pytest.mark.parametrize(
    ("liabilities", "message"),
    [
        ((("A", "primary", 60), ("B", "secondary", 30)), "must add up to 100, got 90"),
        (
            (("A", "full", 90), ("B", "secondary", 10)),
            "full liability needs a share between 100",
        ),
        (
            (("A", "none", 10), ("B", "primary", 90)),
            "none liability needs a share between 0",
        ),
        (
            (("A", "secondary", 60), ("B", "none", 40)),
            "secondary liability needs a share",
        ),
        (
            (("A", "equal", 60), ("B", "equal", 40)),
            "equal liability must have the same share",
        ),
        ((("A", "full", 100), ("A", "none", 0)), "only once"),
    ],
    ids=[
        "sum-90",
        "full-not-100",
        "none-not-0",
        "secondary-over-49",
        "equal-unequal",
        "twice",
    ],
)
def test_inconsistent_ruling_is_rejected(
    liabilities: tuple[tuple[str, str, int], ...], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        Ruling.model_validate(_ruling(*liabilities))

    assert message in str(error.value)


def test_ruling_needs_facts_and_rule() -> None:
    payload = _ruling(("A", "full", 100), ("B", "none", 0))
    payload["facts"] = ""
    payload["rule_applied"] = ""

    with pytest.raises(ValidationError) as error:
        Ruling.model_validate(payload)

    fields = {item["loc"][0] for item in error.value.errors()}
    assert fields == {"facts", "rule_applied"}
