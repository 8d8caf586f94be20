"""Properties of the ruling rules, the accident-type checks and the ruling validator.

The rules are restated here independently of ``contracts/ruling.py`` (see
``_consistent``), and Hypothesis searches for a liability list on which the two
disagree.
"""

import string
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from contracts.accident_types import AccidentTypeTable
from contracts.ruling import PartyLiability, Ruling, RulingDraft
from contracts.workflow import RULING_REJECTED, CaseStage, SubmitRulingInput
from decision_support import AccidentTypeError, check_ruling_type, load_accident_types
from tests.support.rulings import (
    EQUAL,
    FULL,
    NONE,
    PRIMARY,
    SECONDARY,
    any_liabilities,
    party_ids,
    valid_liabilities,
)
from workflows.case.workflow import RemoteLiabilityCaseWorkflow

TABLE = load_accident_types()
PROBLEM_FIELDS = {"facts", "rule_applied", "liabilities", "officer_id"}


def _shares_valid(liabilities: list[PartyLiability]) -> bool:
    if len(liabilities) < 2 or sum(item.share for item in liabilities) != 100:
        return False
    if len({item.party_id for item in liabilities}) != len(liabilities):
        return False
    for item in liabilities:
        if item.category is FULL:
            valid = item.share == 100
        elif item.category is NONE:
            valid = item.share == 0
        else:
            valid = 0 < item.share < 100
        if not valid:
            return False
    return True


def _categories_agree(liable: list[PartyLiability]) -> bool:
    categories = [item.category for item in liable]
    if categories == [FULL]:
        return True
    if set(categories) == {EQUAL}:
        shares = [item.share for item in liable]
        return len(liable) >= 2 and max(shares) - min(shares) <= 1
    primaries = [item for item in liable if item.category is PRIMARY]
    secondaries = [item for item in liable if item.category is SECONDARY]
    if len(primaries) != 1 or len(primaries) + len(secondaries) != len(liable):
        return False
    return bool(secondaries) and all(
        item.share < primaries[0].share for item in secondaries
    )


def _consistent(liabilities: list[PartyLiability]) -> bool:
    """Restate the liability rules of the simplified procedure."""
    if not _shares_valid(liabilities):
        return False
    return _categories_agree(
        [item for item in liabilities if item.category is not NONE]
    )


def _draft(liabilities: list[PartyLiability], **fields: Any) -> RulingDraft:
    return RulingDraft(
        officer_id="330102",
        facts="B changed lanes into A.",
        rule_applied="道路交通安全法实施条例第四十四条",
        liabilities=liabilities,
        **fields,
    )


@given(any_liabilities())
def test_share_rules_match_restatement(liabilities: list[PartyLiability]) -> None:
    problems = _draft(liabilities).problems()

    assert (problems == []) == _consistent(liabilities), [p.code for p in problems]


@given(any_liabilities())
def test_ruling_builds_only_when_consistent(liabilities: list[PartyLiability]) -> None:
    draft = _draft(liabilities)
    try:
        Ruling.model_validate(draft.model_dump())
        built = True
    except ValidationError:
        built = False

    assert built == _consistent(liabilities)


@given(valid_liabilities())
def test_valid_liabilities_have_no_problems(liabilities: list[PartyLiability]) -> None:
    ruling = Ruling.model_validate(_draft(liabilities).model_dump())

    assert ruling.problems() == []
    assert sum(item.share for item in ruling.liabilities) == 100
    assert Ruling.model_validate_json(ruling.model_dump_json()) == ruling


@given(any_liabilities(), st.randoms(use_true_random=False))
def test_problems_ignore_party_order(
    liabilities: list[PartyLiability], random: Any
) -> None:
    shuffled = list(liabilities)
    random.shuffle(shuffled)

    codes = {problem.code for problem in _draft(liabilities).problems()}
    shuffled_codes = {problem.code for problem in _draft(shuffled).problems()}

    assert codes == shuffled_codes


@given(any_liabilities(), st.booleans(), st.booleans())
def test_every_problem_is_explained(
    liabilities: list[PartyLiability], has_facts: bool, has_rule: bool
) -> None:
    draft = RulingDraft(
        facts="A stopped; B hit A." if has_facts else "",
        rule_applied="第四十三条" if has_rule else "",
        liabilities=liabilities,
    )

    for problem in draft.problems():
        assert problem.code
        assert problem.field in PROBLEM_FIELDS
        assert problem.message
        assert problem.message_zh
    codes = {problem.code for problem in draft.problems()}
    assert ("facts_missing" in codes) == (not has_facts)
    assert ("rule_missing" in codes) == (not has_rule)


@given(st.integers().filter(lambda share: not 0 <= share <= 100))
def test_share_outside_percent_rejected(share: int) -> None:
    with pytest.raises(ValidationError):
        PartyLiability(party_id="A", category=PRIMARY, share=share)


# Accident types


@st.composite
def suggested_liabilities(draw: st.DrawFn) -> tuple[str, list[PartyLiability]]:
    """A type's suggestion, given to two parties in either order."""
    accident_type = draw(st.sampled_from(TABLE.types))
    parties = draw(
        st.lists(
            st.sampled_from(string.ascii_uppercase), min_size=2, max_size=2, unique=True
        )
    )
    roles = draw(st.permutations(accident_type.suggested))
    liabilities = [
        PartyLiability(party_id=party, category=role.category, share=role.share)
        for party, role in zip(parties, roles, strict=True)
    ]
    return accident_type.code, liabilities


@given(suggested_liabilities())
def test_suggestion_needs_no_reason(case: tuple[str, list[PartyLiability]]) -> None:
    code, liabilities = case
    accident_type = TABLE.find(code)
    assert accident_type is not None

    assert not accident_type.departs_from_suggestion(liabilities)
    check_ruling_type(_draft(liabilities, accident_type=code), TABLE)


@given(suggested_liabilities(), valid_liabilities())
def test_departure_needs_reason(
    case: tuple[str, list[PartyLiability]], ruled: list[PartyLiability]
) -> None:
    code, suggested = case
    accident_type = TABLE.find(code)
    assert accident_type is not None
    assume(
        sorted((item.category, item.share) for item in ruled)
        != sorted((item.category, item.share) for item in suggested)
    )

    assert accident_type.departs_from_suggestion(ruled)
    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(_draft(ruled, accident_type=code), TABLE)
    assert error.value.code == "departure_reason_required"
    assert error.value.message_zh
    check_ruling_type(
        _draft(ruled, accident_type=code, departure_reason="B braked hard first."),
        TABLE,
    )


@given(st.from_regex(r"^[a-z][a-z0-9_]{1,39}$", fullmatch=True), valid_liabilities())
def test_unknown_type_rejected(code: str, liabilities: list[PartyLiability]) -> None:
    assume(TABLE.find(code) is None)

    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(_draft(liabilities, accident_type=code), TABLE)

    assert error.value.code == "accident_type_unknown"
    assert error.value.field == "accident_type"


@given(valid_liabilities())
def test_missing_type_rejected(liabilities: list[PartyLiability]) -> None:
    with pytest.raises(AccidentTypeError) as error:
        check_ruling_type(_draft(liabilities), TABLE)

    assert error.value.code == "accident_type_required"


@given(st.text(max_size=60))
def test_type_code_pattern_enforced(code: str) -> None:
    assume(not code.isascii() or not code[:1].islower() or " " in code or "-" in code)

    with pytest.raises(ValidationError):
        _draft([], accident_type=code)


@given(st.lists(st.integers(0, 100), min_size=2, max_size=4))
def test_table_rejects_shares_not_100(shares: list[int]) -> None:
    assume(sum(shares) != 100)
    table = TABLE.model_dump()
    table["types"][0]["suggested"] = [
        {"role_zh": "甲", "role_en": "one", "category": "primary", "share": share}
        for share in shares
    ]

    with pytest.raises(ValidationError):
        AccidentTypeTable.model_validate(table)


# The case workflow's update validator


def _waiting_workflow(party_list: list[str], claimed_by: str | None) -> Any:
    """A workflow's state as it waits for a ruling, for its validator alone."""
    state = SimpleNamespace(
        _stage=CaseStage.AWAITING_RULING,
        _ruling=None,
        _evidence_request=None,
        _claimed_by=claimed_by,
        _request=SimpleNamespace(
            case=SimpleNamespace(
                case_id="00000000-0000-0000-0000-000000000001",
                party_ids=lambda: set(party_list),
            )
        ),
    )
    for name in ("_check_awaiting_ruling", "_claim_problems", "_party_problems"):
        method = getattr(RemoteLiabilityCaseWorkflow, name)
        setattr(state, name, method.__get__(state))
    return state


@settings(max_examples=200)
@given(
    any_liabilities(),
    party_ids,
    st.sampled_from([None, "330102", "330199"]),
    st.sampled_from(["330102", "330199", ""]),
)
def test_validator_lists_every_problem(
    liabilities: list[PartyLiability],
    case_parties: list[str],
    claimed_by: str | None,
    officer_id: str,
) -> None:
    workflow = _waiting_workflow(case_parties, claimed_by)
    draft = RulingDraft(
        officer_id=officer_id,
        facts="A stopped; B hit A.",
        rule_applied="第四十三条",
        liabilities=liabilities,
    )
    expected = {problem.code for problem in draft.problems()}
    if claimed_by is None:
        expected.add("case_not_claimed")
    elif officer_id != claimed_by:
        expected.add("wrong_officer")
    if {item.party_id for item in liabilities} != set(case_parties):
        expected.add("parties_mismatch")

    request = SubmitRulingInput(ruling=draft)

    if not expected:
        RemoteLiabilityCaseWorkflow._validate_ruling(workflow, request)
        return
    with pytest.raises(ApplicationError) as error:
        RemoteLiabilityCaseWorkflow._validate_ruling(workflow, request)
    assert error.value.type == RULING_REJECTED
    assert {detail["code"] for detail in error.value.details} == expected
