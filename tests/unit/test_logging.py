import json

import pytest
import structlog

from common.logging import configure_logging, mask_phone_numbers


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
