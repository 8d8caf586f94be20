"""SMS texts, in Chinese, with the variables each one needs."""

import string

from common.kafka_retry import PermanentMessageError

SIGNATURE = "【定责】"

TEMPLATES: dict[str, str] = {
    "evidence_received": (
        "您好，事故案件 {case_number}（车牌 {plate}）的现场视频已收到，"
        "您可以驶离现场。责任认定结果将以短信通知。"
    ),
    # The case is already submitted, so the party cannot upload again from the phone:
    # the message hands the case to officers instead of asking for a new video.
    "evidence_rejected": (
        "您好，事故案件 {case_number}（车牌 {plate}）的现场视频未通过核验，"
        "本案转由交警人工处理，民警将与您联系，请保持电话畅通。"
    ),
    "liability_ruled": (
        "您好，事故案件 {case_number}（车牌 {plate}）已完成责任认定，"
        "您承担 {share}% 责任。保险公司将与您联系理赔。"
    ),
    "claim_settled": (
        "您好，事故案件 {case_number}（车牌 {plate}）的理赔已办结，案件关闭。"
    ),
}


class TemplateError(PermanentMessageError):
    """An SMS request names an unknown template or lacks a variable."""


def required_variables(template: str) -> set[str]:
    return {
        field
        for _, field, _, _ in string.Formatter().parse(TEMPLATES[template])
        if field
    }


def render(template: str, variables: dict[str, str]) -> str:
    """Fill a template, refusing unknown templates and missing variables."""
    if template not in TEMPLATES:
        raise TemplateError(
            f"unknown SMS template {template!r}; known: {sorted(TEMPLATES)}"
        )
    missing = required_variables(template) - variables.keys()
    if missing:
        raise TemplateError(
            f"SMS template {template!r} misses variables {sorted(missing)}"
        )
    return SIGNATURE + TEMPLATES[template].format(**variables)
