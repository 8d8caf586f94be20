"""Who may settle an accident remotely: the simplified procedure's rules in one table.

Intake evaluates every rule when a case is opened, before it stores a video or
queues anything. A case that matches one or more rules is recorded as sent to
on-scene handling, and the reporter gets each matching rule's message.
"""

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from contracts.case import EligibilityAnswers

# The phone's text ends with what to do instead of waiting for a remote ruling.
ON_SCENE_ADVICE = (
    "stay at the scene and call 122; a traffic police officer will handle it there"
)
ON_SCENE_ADVICE_ZH = "请留在现场并拨打 122 报警，由交通民警到现场处理。"


@dataclass(frozen=True)
class Situation:
    """What the rules look at: the reporter's answers and the vehicles involved."""

    answers: EligibilityAnswers
    vehicles: int
    max_vehicles: int


@dataclass(frozen=True)
class EligibilityRule:
    """One reason that sends a case to on-scene handling.

    The messages may name ``{vehicles}`` and ``{max_vehicles}``.
    """

    code: str
    applies: Callable[[Situation], bool]
    message: str
    message_zh: str


def _injured(situation: Situation) -> bool:
    answers = situation.answers
    return answers.anyone_injured and not answers.injuries_slight_and_accepted


# The rules of the simplified procedure, in the order the reporter reads them.
RULES: tuple[EligibilityRule, ...] = (
    EligibilityRule(
        "injury",
        _injured,
        "someone is injured, beyond a slight injury that all parties accept",
        "有人受伤（且不是各方都认可的轻微伤）。",
    ),
    EligibilityRule(
        "impaired_driving",
        lambda situation: situation.answers.suspected_impaired_driving,
        "a driver is suspected of driving after drinking or taking drugs",
        "有驾驶人涉嫌酒后或吸毒后驾驶。",
    ),
    EligibilityRule(
        "licence_invalid",
        lambda situation: not situation.answers.licences_valid,
        "a driver has no valid licence for the vehicle driven",
        "有驾驶人无有效驾驶证或准驾车型不符。",
    ),
    EligibilityRule(
        "plates_missing",
        lambda situation: not situation.answers.plates_present,
        "a vehicle has no plates",
        "有车辆未悬挂号牌。",
    ),
    EligibilityRule(
        "vehicle_immobile",
        lambda situation: not situation.answers.vehicles_can_move,
        "a vehicle cannot be driven away",
        "有车辆无法移动。",
    ),
    EligibilityRule(
        "too_many_vehicles",
        lambda situation: situation.vehicles > situation.max_vehicles,
        "{vehicles} vehicles are involved and the remote process takes at most "
        "{max_vehicles}",
        "涉及 {vehicles} 辆车，远程处理最多 {max_vehicles} 辆。",
    ),
    EligibilityRule(
        "public_facilities_damaged",
        lambda situation: situation.answers.public_facilities_damaged,
        "public facilities are damaged",
        "有公共设施受损。",
    ),
    EligibilityRule(
        "party_left",
        lambda situation: situation.answers.party_left_scene,
        "a party has left the scene",
        "有当事人已离开现场。",
    ),
    EligibilityRule(
        "suspected_deliberate",
        lambda situation: situation.answers.suspected_deliberate,
        "the collision is suspected to be deliberate",
        "涉嫌故意碰撞。",
    ),
)


class OnSceneReason(BaseModel):
    """A rule that the case matched, worded for the API and for the phone."""

    code: str
    message: str
    message_zh: str


class EligibilityDecision(BaseModel):
    """Whether the case may go to the remote queue, and why not."""

    eligible: bool
    reasons: list[OnSceneReason]
    message: str = ""
    message_zh: str = ""


def decide(
    answers: EligibilityAnswers, vehicles: int, max_vehicles: int
) -> EligibilityDecision:
    """Evaluate every rule; the case is eligible when none of them applies."""
    situation = Situation(answers, vehicles, max_vehicles)
    values = {"vehicles": vehicles, "max_vehicles": max_vehicles}
    reasons = [
        OnSceneReason(
            code=rule.code,
            message=rule.message.format(**values),
            message_zh=rule.message_zh.format(**values),
        )
        for rule in RULES
        if rule.applies(situation)
    ]
    if not reasons:
        return EligibilityDecision(eligible=True, reasons=[])
    return EligibilityDecision(
        eligible=False,
        reasons=reasons,
        message="This accident cannot be settled remotely: "
        + "; ".join(reason.message for reason in reasons)
        + f". Please {ON_SCENE_ADVICE}.",
        message_zh="本事故不能远程处理："
        + "".join(reason.message_zh for reason in reasons)
        + ON_SCENE_ADVICE_ZH,
    )
