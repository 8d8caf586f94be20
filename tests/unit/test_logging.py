import json
import logging

import pytest
import structlog

from common.logging import (
    RepeatFilter,
    configure_logging,
    mask_personal_numbers,
    mask_phone_numbers,
)


def test_mobile_number_is_masked() -> None:
    assert mask_phone_numbers("call 13812345678 now") == "call 138****5678 now"


def test_longer_digit_run_is_left_alone() -> None:
    assert mask_phone_numbers("policy 913812345678123") == "policy 913812345678123"


def test_log_line_is_json_without_full_phone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test")
    structlog.contextvars.bind_contextvars(case_id="c-1")

    structlog.get_logger("t").info(
        "sms sent", phone="13987654321", body="致 13987654321"
    )
    structlog.contextvars.unbind_contextvars("case_id")

    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["event"] == "sms sent"
    assert record["case_id"] == "c-1"
    assert record["phone"] == "139****4321"
    assert "13987654321" not in json.dumps(record, ensure_ascii=False)


def test_nested_phone_number_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test")

    structlog.get_logger("t").info("party", party={"phones": ["13912345678"]})

    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["party"] == {"phones": ["139****5678"]}


def test_repeated_line_is_held_back_and_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("common.logging.time.monotonic", lambda: clock[0])
    repeat_filter = RepeatFilter(window_seconds=10)

    def record(address: str) -> logging.LogRecord:
        return logging.LogRecord(
            "aiokafka", logging.ERROR, "", 0, "Unable connect to %r", (address,), None
        )

    passed = [repeat_filter.filter(record("k")) for _ in range(5)]
    other_passed = repeat_filter.filter(record("j"))
    clock[0] += 11
    after_window = record("k")
    after_window_passed = repeat_filter.filter(after_window)

    assert passed == [True, False, False, False, False]
    assert other_passed
    assert after_window_passed
    assert after_window.getMessage() == "Unable connect to 'k' (repeated 4 times)"


def test_identity_card_number_is_masked() -> None:
    assert (
        mask_personal_numbers("id 11010519491231002X ok") == "id 1101**********002X ok"
    )


def test_account_number_keeps_last_four_digits() -> None:
    assert mask_personal_numbers("acct 6222021234567890123") == "acct ****0123"


def test_short_digit_runs_and_hex_ids_are_left_alone() -> None:
    text = "claim 20261204 case 1a2b3c4d5e6f7a8b9c0d1e2f"

    assert mask_personal_numbers(text) == text


def test_log_line_masks_every_personal_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("test")

    structlog.get_logger("t").info(
        "payee", note="身份证110105194912310021 账号6222021234567890 电话13912345678"
    )

    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["note"] == "身份证1101**********0021 账号****7890 电话139****5678"
