"""Refusals of the settlement API, and the checks of the payee form.

Each refusal has its own code and a Chinese message that the phone page shows.
"""

import re
from typing import Any
from uuid import UUID

from fastapi import HTTPException
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from common.http import problem
from contracts.settlement import PayeeAccount
from contracts.text import OneLine
from services.intake.problems import problem_response

_ONE_LINE: TypeAdapter[str] = TypeAdapter(OneLine)
# Spaces and hyphens are how people group digits when copying a card number.
_GROUPING = re.compile(r"[\s-]")
ACCOUNT_DIGITS_MIN = 12
ACCOUNT_DIGITS_MAX = 19


class PayeeForm(BaseModel):
    """The settlement form as the phone sends it, checked field by field later.

    Only the lengths are limited here, so that every other mistake comes back as a
    problem with its field and a Chinese message.
    """

    claim_number: str = Field(min_length=1, max_length=64)
    consent: bool = False
    account_holder: str = Field(default="", max_length=100)
    bank: str = Field(default="", max_length=100)
    account_number: str = Field(default="", max_length=64)


class PayeeProblem(BaseModel):
    """One mistake in the payee form: a code, the field, and messages."""

    code: str
    field: str
    message: str
    message_zh: str


def payee_problems(form: PayeeForm) -> tuple[PayeeAccount | None, list[PayeeProblem]]:
    """Check the form; return the payee account, or None and every problem."""
    problems: list[PayeeProblem] = []
    if not form.consent:
        problems.append(
            PayeeProblem(
                code="consent_missing",
                field="consent",
                message="confirm the assessed amount and agree that the insurer "
                "receives the payee account",
                message_zh="请勾选确认定损金额，并同意将收款账户提供给保险公司。",
            )
        )
    holder = _line_problem(form.account_holder, "account_holder", "开户人姓名")
    bank = _line_problem(form.bank, "bank", "开户银行")
    problems += [found for found in (holder, bank) if found is not None]
    number = _GROUPING.sub("", form.account_number)
    number_problem = _account_number_problem(number)
    if number_problem is not None:
        problems.append(number_problem)
    if problems:
        return None, problems
    payee = PayeeAccount(
        account_holder=form.account_holder,
        bank=form.bank,
        account_number=number,
    )
    return payee, []


def _line_problem(value: str, field: str, name_zh: str) -> PayeeProblem | None:
    if not value.strip():
        return PayeeProblem(
            code=f"{field}_missing",
            field=field,
            message=f"{field.replace('_', ' ')} is missing",
            message_zh=f"请填写{name_zh}。",
        )
    try:
        _ONE_LINE.validate_python(value)
    except ValidationError:
        return PayeeProblem(
            code=f"{field}_invalid",
            field=field,
            message=f"{field.replace('_', ' ')} contains characters that are not "
            "allowed; type it again",
            message_zh=f"{name_zh}包含无效字符，请重新输入。",
        )
    return None


def _account_number_problem(number: str) -> PayeeProblem | None:
    if not number:
        return PayeeProblem(
            code="account_number_missing",
            field="account_number",
            message="the account number is missing",
            message_zh="请填写银行卡号。",
        )
    if not number.isascii() or not number.isdigit():
        return PayeeProblem(
            code="account_number_invalid",
            field="account_number",
            message="the account number may contain only the digits 0-9",
            message_zh="银行卡号只能包含数字，请核对后重新输入。",
        )
    if not ACCOUNT_DIGITS_MIN <= len(number) <= ACCOUNT_DIGITS_MAX:
        return PayeeProblem(
            code="account_number_invalid",
            field="account_number",
            message=f"the account number has {len(number)} digits; a bank account "
            f"has {ACCOUNT_DIGITS_MIN} to {ACCOUNT_DIGITS_MAX}",
            message_zh=f"银行卡号应为 {ACCOUNT_DIGITS_MIN} 至 {ACCOUNT_DIGITS_MAX} "
            f"位数字，您输入了 {len(number)} 位，请核对。",
        )
    return None


def payee_invalid(problems: list[PayeeProblem]) -> HTTPException:
    """Return the 422 that lists each problem with its field, for the form."""
    detail: dict[str, Any] = problem(
        "settlement_invalid",
        "; ".join(item.message for item in problems),
        "收款信息有误，请按提示修改。",
    )
    detail["problems"] = [item.model_dump() for item in problems]
    return HTTPException(422, detail=detail)


def party_only() -> HTTPException:
    return problem_response(
        403,
        "party_only",
        "only a party of the case can confirm its settlement",
        "只有事故当事人本人可以确认理赔。",
    )


def not_yours(party_id: str) -> HTTPException:
    return problem_response(
        403,
        "settlement_not_yours",
        f"this settlement is party {party_id}'s; open the link from your own SMS",
        "这是另一方当事人的理赔确认页面，请打开您本人收到的短信链接。",
    )


def settlement_not_found(case_id: UUID) -> HTTPException:
    return problem_response(
        404,
        "settlement_not_found",
        f"case {case_id} has no claims yet; wait for the insurer's SMS",
        "本案件尚无理赔信息，请等待保险公司的短信通知。",
    )


def claim_not_found(claim_number: str) -> HTTPException:
    return problem_response(
        404,
        "claim_not_found",
        f"no claim {claim_number} of yours is known; open the link from the SMS again",
        "未找到您的这笔理赔，请重新打开短信中的链接。",
    )


def claim_not_assessed(claim_number: str) -> HTTPException:
    return problem_response(
        409,
        "claim_not_assessed",
        f"claim {claim_number} is not assessed yet; confirm it once the insurer "
        "texts the assessed amount",
        "保险公司尚未完成定损，请收到定损短信后再确认。",
    )


def already_confirmed(claim_number: str) -> HTTPException:
    return problem_response(
        409,
        "settlement_already_confirmed",
        f"claim {claim_number} is already confirmed; the insurer has the payee account",
        "您已确认过这笔理赔，无需重复提交。",
    )


def case_closed(case_id: UUID) -> HTTPException:
    return problem_response(
        409,
        "case_closed",
        f"case {case_id} is closed, so its claims take no confirmation",
        "本案件已关闭，不能再确认理赔。如有疑问请联系保险公司。",
    )


def claim_closed(claim_number: str, status: str) -> HTTPException:
    return problem_response(
        409,
        "claim_closed",
        f"claim {claim_number} is already {status} by the insurer",
        "保险公司已办结这笔理赔，不能再确认。",
    )
