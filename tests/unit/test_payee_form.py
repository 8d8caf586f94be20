"""The settlement form's checks: each mistake named with its field, in Chinese too."""

import pytest

from contracts.settlement import PayeeAccount, mask_account_number
from services.intake.settlement_problems import PayeeForm, payee_problems


def _form(**changes: object) -> PayeeForm:
    fields: dict[str, object] = {
        "claim_number": "PAIC-1",
        "consent": True,
        "account_holder": "李娜",
        "bank": "招商银行",
        "account_number": "6214 8301-0000 0123",
        **changes,
    }
    return PayeeForm.model_validate(fields)


def test_grouped_account_number_is_accepted() -> None:
    payee, problems = payee_problems(_form())

    assert problems == []
    assert payee == PayeeAccount(
        account_holder="李娜", bank="招商银行", account_number="6214830100000123"
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"consent": False}, "consent_missing", "consent"),
        ({"account_holder": "  "}, "account_holder_missing", "account_holder"),
        ({"account_holder": "李\u200b娜"}, "account_holder_invalid", "account_holder"),
        ({"bank": ""}, "bank_missing", "bank"),
        ({"account_number": ""}, "account_number_missing", "account_number"),
        (
            {"account_number": "6214O30100000123"},
            "account_number_invalid",
            "account_number",
        ),
        (
            {"account_number": "６２１４８３０１０００００１２３"},
            "account_number_invalid",
            "account_number",
        ),
        ({"account_number": "12345678901"}, "account_number_invalid", "account_number"),
        ({"account_number": "1" * 20}, "account_number_invalid", "account_number"),
    ],
)
def test_form_mistake_is_named(
    changes: dict[str, object], code: str, field: str
) -> None:
    payee, problems = payee_problems(_form(**changes))

    assert payee is None
    assert [(item.code, item.field) for item in problems] == [(code, field)]
    assert problems[0].message_zh


def test_every_mistake_is_listed_at_once() -> None:
    payee, problems = payee_problems(
        _form(consent=False, bank="", account_number="abc")
    )

    assert payee is None
    assert [item.code for item in problems] == [
        "consent_missing",
        "bank_missing",
        "account_number_invalid",
    ]


def test_masked_account_keeps_last_four_digits() -> None:
    payee = PayeeAccount(
        account_holder="李娜", bank="招商银行", account_number="6214830100000123"
    )

    masked = payee.masked()

    assert masked.account_number_masked == "****0123"
    assert mask_account_number("123456789012") == "****9012"
    assert "6214830100000123" not in masked.model_dump_json()
