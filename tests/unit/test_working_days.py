"""Working days and the reconsideration deadline, from the Chinese holiday calendar."""

from datetime import date, datetime

import pytest

from common.working_days import (
    CHINA_TIME,
    CalendarYearUnknownError,
    add_working_days,
    is_working_day,
    reconsideration_deadline,
)


def test_weekend_is_skipped() -> None:
    # Delivered on Friday 4 December 2026: Monday, Tuesday and Wednesday count.
    delivered = datetime(2026, 12, 4, 9, 30, tzinfo=CHINA_TIME)

    deadline = reconsideration_deadline(delivered)

    assert deadline == datetime(2026, 12, 10, 0, 0, tzinfo=CHINA_TIME)


def test_holiday_and_adjusted_saturday() -> None:
    # National Day 2026 runs from 1 to 7 October, and Saturday 10 October is
    # worked in its place, so 8, 9 and 10 October are the three working days.
    delivered = datetime(2026, 9, 30, 15, 0, tzinfo=CHINA_TIME)

    deadline = reconsideration_deadline(delivered)

    assert not is_working_day(date(2026, 10, 5))
    assert is_working_day(date(2026, 10, 10))
    assert deadline == datetime(2026, 10, 11, 0, 0, tzinfo=CHINA_TIME)


def test_delivery_day_in_china_time() -> None:
    # 20:00 UTC on Thursday is 04:00 on Friday in China, so Friday is the delivery
    # day and does not count.
    delivered = datetime.fromisoformat("2026-12-03T20:00:00+00:00")

    deadline = reconsideration_deadline(delivered)

    assert deadline == datetime(2026, 12, 10, 0, 0, tzinfo=CHINA_TIME)


def test_spring_festival_is_skipped() -> None:
    # Spring Festival 2026 is 15 to 23 February; Saturday 14 February is worked.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_unknown_year_fails_clearly() -> None:
    with pytest.raises(CalendarYearUnknownError, match=r"no holiday data for 2099"):
        is_working_day(date(2099, 1, 5))
