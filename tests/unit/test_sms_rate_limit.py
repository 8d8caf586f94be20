"""The per-number rate limit and the start-up check of the SMS templates."""

from datetime import UTC, datetime, timedelta

import pytest

from services.notify import templates
from services.notify.rate_limit import wait_before_send

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=60)


def test_number_under_limit_sends_at_once() -> None:
    sends = [NOW - timedelta(seconds=10)] * 4

    assert wait_before_send(sends, NOW, 5, WINDOW) == timedelta(0)


def test_number_at_limit_waits_for_oldest_send() -> None:
    sends = [NOW - timedelta(seconds=s) for s in (50, 40, 30, 20, 10)]

    assert wait_before_send(sends, NOW, 5, WINDOW) == timedelta(seconds=10)


def test_sends_outside_window_do_not_count() -> None:
    sends = [NOW - timedelta(seconds=s) for s in (120, 90, 61, 30)]

    assert wait_before_send(sends, NOW, 2, WINDOW) == timedelta(0)


def test_templates_pass_start_up_check() -> None:
    templates.check_templates()


def test_template_with_unknown_variable_fails_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(templates.TEMPLATES, "broken", "您好 {nobody_sets_this}")

    with pytest.raises(ValueError, match="nobody_sets_this"):
        templates.check_templates()
