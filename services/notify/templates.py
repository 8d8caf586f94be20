"""SMS texts, in Chinese, with the variables each one needs."""

import string

from common.kafka_retry import PermanentMessageError

SIGNATURE = "【定责】"

TEMPLATES: dict[str, str] = {
    "evidence_received": (
        "您好，事故案件 {case_number}（车牌 {plate}）的现场视频已收到，"
        "您可以驶离现场。责任认定结果将以短信通知。"
    ),
    # The case is already submitted, so the party cannot upload again from the phone,
    # and no officer is queued for it: the message sends the party to a station.
    "evidence_rejected": (
        "您好，事故案件 {case_number}（车牌 {plate}）的现场视频未通过核验，"
        "无法远程认定责任。请携带驾驶证、行驶证到就近交警队办理。"
    ),
    # The party can replace the video from the phone page until the deadline.
    "evidence_resubmission_requested": (
        "您好，事故案件 {case_number}（车牌 {plate}）的现场视频未通过核验：{reason}"
        "请在 {deadline} 前打开链接重新上传：{link}"
    ),
    "evidence_sent_on_scene": (
        "您好，事故案件 {case_number}（车牌 {plate}）未能在规定时间内提供合格的"
        "现场视频，无法远程认定责任。请携带驾驶证、行驶证到就近交警队办理。"
    ),
    "liability_ruled": (
        "您好，事故案件 {case_number}（车牌 {plate}）已完成责任认定，"
        "您承担 {share}% 责任。保险公司将与您联系理赔。"
    ),
    "ruling_issued": (
        "您好，事故案件 {case_number}（车牌 {plate}）已完成责任认定，您承担 {share}% "
        "责任，认定书编号 {document_number}。请打开 {link} 查看并签收；如有异议，"
        "可在{deadline}申请复核。"
    ),
    # Sent by intake on request of the reporter: the phone page, with the party's link.
    "case_link": (
        "您好，事故案件 {case_number}（车牌 {plate}）请用手机打开以下链接，"
        "上传现场视频和照片：{link}"
    ),
    "party_access_code": (
        "您的验证码是 {code}，{minutes} 分钟内有效，用于事故案件 {case_number}。"
        "请勿告诉他人。"
    ),
    "reconsideration_decided": (
        "您好，事故案件 {case_number}（车牌 {plate}）的复核已办结：{outcome}，"
        "复核结论书编号 {document_number}。"
    ),
    # Sent by the case workflow when an insurer assesses a claim with an amount to
    # pay: the party the claim concerns confirms it and names the payee account.
    "settlement_link": (
        "您好，事故案件 {case_number}（车牌 {plate}）的理赔已定损：{insurer}，"
        "理赔编号 {claim_number}，核定金额 {amount} 元。请在{deadline}前打开 {link} "
        "确认并填写收款账户。"
    ),
    "claim_refused": (
        "您好，事故案件 {case_number}（车牌 {plate}）的理赔未能办结：{reason}"
        "案件已关闭，如有疑问请联系保险公司。"
    ),
    "claim_settled": (
        "您好，事故案件 {case_number}（车牌 {plate}）的理赔已办结，案件关闭。"
    ),
}


# Every variable a template may use, with the sender that fills it in.
KNOWN_VARIABLES = frozenset(
    {
        "case_number",  # every sender
        "plate",  # every sender
        "share",  # the workflow's liability_ruled
        "link",  # intake's case_link
        "code",  # intake's party_access_code
        "minutes",  # intake's party_access_code
        "reason",  # the workflow's evidence_resubmission_requested, claim_refused
        "deadline",  # the workflow's evidence_resubmission_requested, settlement_link
        "document_number",  # the ruling's ruling_issued, reconsideration_decided
        "outcome",  # the ruling review's reconsideration_decided
        "insurer",  # the workflow's settlement_link
        "claim_number",  # the workflow's settlement_link
        "amount",  # the workflow's settlement_link, in CNY with two decimals
    }
)


class TemplateError(PermanentMessageError):
    """An SMS request names an unknown template or lacks a variable."""


def required_variables(template: str) -> set[str]:
    return {
        field
        for _, field, _, _ in string.Formatter().parse(TEMPLATES[template])
        if field
    }


def check_templates() -> None:
    """Raise ValueError unless every template parses and uses only known variables."""
    for name in TEMPLATES:
        try:
            variables = required_variables(name)
        except ValueError as error:
            raise ValueError(
                f"SMS template {name!r} does not parse: {error}"
            ) from error
        unknown = variables - KNOWN_VARIABLES
        if unknown:
            raise ValueError(
                f"SMS template {name!r} uses unknown variables {sorted(unknown)}; "
                f"known: {sorted(KNOWN_VARIABLES)}"
            )


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


# Variables that grant access to a case: only the phone may see them.
SECRET_VARIABLES = frozenset({"code", "link"})
HIDDEN = "******"


def render_for_record(template: str, variables: dict[str, str]) -> str:
    """Fill a template as the message store keeps it, with the secrets hidden."""
    hidden = {
        name: HIDDEN if name in SECRET_VARIABLES else value
        for name, value in variables.items()
    }
    return render(template, hidden)
