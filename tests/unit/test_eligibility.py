"""The simplified procedure's eligibility rules and the messages a reporter sees."""

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.case import EligibilityAnswers, NewCase
from demo.client import eligible_answers, sample_case
from services.intake.eligibility import RULES, decide

MAX_VEHICLES = 3


def _answers(**changes: bool) -> EligibilityAnswers:
    return EligibilityAnswers.model_validate({**eligible_answers(), **changes})


def test_eligible_answers_pass_every_rule() -> None:
    decision = decide(_answers(), vehicles=2, max_vehicles=MAX_VEHICLES)

    assert decision.eligible
    assert decision.reasons == []
    assert decision.message == ""


@pytest.mark.parametrize(
    ("changes", "vehicles", "code", "message", "message_zh"),
    [
        (
            {"anyone_injured": True},
            2,
            "injury",
            "someone is injured, beyond a slight injury that all parties accept",
            "有人受伤（且不是各方都认可的轻微伤）。",
        ),
        (
            {"suspected_impaired_driving": True},
            2,
            "impaired_driving",
            "a driver is suspected of driving after drinking or taking drugs",
            "有驾驶人涉嫌酒后或吸毒后驾驶。",
        ),
        (
            {"licences_valid": False},
            2,
            "licence_invalid",
            "a driver has no valid licence for the vehicle driven",
            "有驾驶人无有效驾驶证或准驾车型不符。",
        ),
        (
            {"plates_present": False},
            2,
            "plates_missing",
            "a vehicle has no plates",
            "有车辆未悬挂号牌。",
        ),
        (
            {"vehicles_can_move": False},
            2,
            "vehicle_immobile",
            "a vehicle cannot be driven away",
            "有车辆无法移动。",
        ),
        (
            {},
            4,
            "too_many_vehicles",
            "4 vehicles are involved and the remote process takes at most 3",
            "涉及 4 辆车，远程处理最多 3 辆。",
        ),
        (
            {"public_facilities_damaged": True},
            2,
            "public_facilities_damaged",
            "public facilities are damaged",
            "有公共设施受损。",
        ),
        (
            {"party_left_scene": True},
            2,
            "party_left",
            "a party has left the scene",
            "有当事人已离开现场。",
        ),
        (
            {"suspected_deliberate": True},
            2,
            "suspected_deliberate",
            "the collision is suspected to be deliberate",
            "涉嫌故意碰撞。",
        ),
    ],
    ids=[
        "injury",
        "impaired-driving",
        "licence-invalid",
        "plates-missing",
        "vehicle-immobile",
        "too-many-vehicles",
        "public-facilities",
        "party-left",
        "deliberate",
    ],
)
def test_each_rule_sends_case_on_scene(
    changes: dict[str, bool],
    vehicles: int,
    code: str,
    message: str,
    message_zh: str,
) -> None:
    decision = decide(_answers(**changes), vehicles, MAX_VEHICLES)

    assert not decision.eligible
    assert [reason.code for reason in decision.reasons] == [code]
    assert decision.reasons[0].message == message
    assert decision.reasons[0].message_zh == message_zh
    assert decision.message == (
        f"This accident cannot be settled remotely: {message}. Please stay at the "
        "scene and call 122; a traffic police officer will handle it there."
    )
    assert decision.message_zh == (
        f"本事故不能远程处理：{message_zh}"
        "请留在现场并拨打 122 报警，由交通民警到现场处理。"
    )


def test_every_rule_is_covered() -> None:
    codes = {rule.code for rule in RULES}

    assert len(codes) == len(RULES) == 9


def test_slight_injury_accepted_by_all_stays_remote() -> None:
    answers = _answers(anyone_injured=True, injuries_slight_and_accepted=True)

    decision = decide(answers, vehicles=2, max_vehicles=MAX_VEHICLES)

    assert decision.eligible


def test_vehicle_limit_follows_setting() -> None:
    at_limit = decide(_answers(), vehicles=3, max_vehicles=3)
    raised = decide(_answers(), vehicles=4, max_vehicles=5)

    assert at_limit.eligible
    assert raised.eligible


def test_several_reasons_are_all_listed() -> None:
    answers = _answers(suspected_impaired_driving=True, party_left_scene=True)

    decision = decide(answers, vehicles=5, max_vehicles=MAX_VEHICLES)

    assert [reason.code for reason in decision.reasons] == [
        "impaired_driving",
        "too_many_vehicles",
        "party_left",
    ]
    assert "drinking" in decision.message
    assert "5 vehicles" in decision.message
    assert "离开现场" in decision.message_zh


def test_case_without_eligibility_answers_is_rejected() -> None:
    payload: dict[str, Any] = sample_case()
    del payload["eligibility"]

    with pytest.raises(ValidationError) as error:
        NewCase.model_validate(payload)

    assert error.value.errors()[0]["loc"] == ("eligibility",)
