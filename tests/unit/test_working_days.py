"""Working days and the reconsideration deadline: the package's years, a supplied
year's file, and weekdays for a year neither covers.
"""

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from common.settings import PlatformSettings
from common.working_days import (
    CHINA_TIME,
    CalendarSource,
    WorkingDayCalendar,
    WorkingDaysFileError,
    load_working_day_calendar,
)

PACKAGE = WorkingDayCalendar()
# Invented for these tests, not the State Council's 2027 notice: New Year's Day off
# from Friday 1 to Sunday 3 January, and Saturday 9 January worked.
SUPPLIED_2027 = {
    "years": {
        "2027": {
            "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
            "adjusted_working_days": ["2027-01-09"],
        }
    }
}


def _write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "working-days.json"
    text = content if isinstance(content, str) else json.dumps(content)
    path.write_text(text, encoding="utf-8")
    return path


def test_weekend_is_skipped() -> None:
    # Delivered on Friday 4 December 2026: Monday, Tuesday and Wednesday count.
    delivered = datetime(2026, 12, 4, 9, 30, tzinfo=CHINA_TIME)

    deadline = PACKAGE.reconsideration_deadline(delivered)

    assert deadline == datetime(2026, 12, 10, 0, 0, tzinfo=CHINA_TIME)


def test_holiday_and_adjusted_saturday() -> None:
    # National Day 2026 runs from 1 to 7 October, and Saturday 10 October is
    # worked in its place, so 8, 9 and 10 October are the three working days.
    delivered = datetime(2026, 9, 30, 15, 0, tzinfo=CHINA_TIME)

    deadline = PACKAGE.reconsideration_deadline(delivered)

    assert not PACKAGE.is_working_day(date(2026, 10, 5))
    assert PACKAGE.is_working_day(date(2026, 10, 10))
    assert deadline == datetime(2026, 10, 11, 0, 0, tzinfo=CHINA_TIME)


def test_delivery_day_in_china_time() -> None:
    # 20:00 UTC on Thursday is 04:00 on Friday in China, so Friday is the delivery
    # day and does not count.
    delivered = datetime.fromisoformat("2026-12-03T20:00:00+00:00")

    deadline = PACKAGE.reconsideration_deadline(delivered)

    assert deadline == datetime(2026, 12, 10, 0, 0, tzinfo=CHINA_TIME)


def test_spring_festival_is_skipped() -> None:
    # Spring Festival 2026 is 15 to 23 February; Saturday 14 February is worked.
    assert PACKAGE.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert PACKAGE.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_unknown_year_counts_weekdays() -> None:
    # Delivered on Thursday 31 December 2026, with no data for 2027: Friday
    # 1 January, Monday 4 and Tuesday 5 January count.
    delivered = datetime(2026, 12, 31, 10, 0, tzinfo=CHINA_TIME)

    with capture_logs() as logs:
        deadline = PACKAGE.reconsideration_deadline(delivered, case_id="case-1")

    assert PACKAGE.source(2027) is CalendarSource.WEEKDAYS
    assert PACKAGE.source(2026) is CalendarSource.PACKAGE
    assert deadline == datetime(2027, 1, 6, 0, 0, tzinfo=CHINA_TIME)
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["event"] == "reconsideration deadline counted on weekdays only"
    assert warnings[0]["years"] == [2027]
    assert warnings[0]["case_id"] == "case-1"
    assert "DINGZE_WORKING_DAYS_FILE is unset" in warnings[0]["supplied_file"]
    assert "chinese-calendar" in warnings[0]["package"]


def test_known_year_logs_no_warning() -> None:
    delivered = datetime(2026, 12, 4, 9, 30, tzinfo=CHINA_TIME)

    with capture_logs() as logs:
        PACKAGE.reconsideration_deadline(delivered)

    assert [entry for entry in logs if entry["log_level"] == "warning"] == []


def test_supplied_year_counts_its_holidays(tmp_path: Path) -> None:
    calendar = load_working_day_calendar(_write(tmp_path, SUPPLIED_2027))
    delivered = datetime(2026, 12, 31, 10, 0, tzinfo=CHINA_TIME)

    with capture_logs() as logs:
        deadline = calendar.reconsideration_deadline(delivered)

    # 1 to 3 January are off, so Monday 4, Tuesday 5 and Wednesday 6 count.
    assert calendar.source(2027) is CalendarSource.SUPPLIED
    assert deadline == datetime(2027, 1, 7, 0, 0, tzinfo=CHINA_TIME)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 9))
    assert not calendar.is_working_day(date(2027, 1, 10))
    assert calendar.is_working_day(date(2027, 1, 11))
    assert [entry for entry in logs if entry["log_level"] == "warning"] == []


def test_supplied_year_replaces_package(tmp_path: Path) -> None:
    # A deployment may correct a year the package covers: here Monday 7
    # December 2026 is declared off.
    days = {"years": {"2026": {"holidays": ["2026-12-07"]}}}
    calendar = load_working_day_calendar(_write(tmp_path, days))

    assert calendar.source(2026) is CalendarSource.SUPPLIED
    assert not calendar.is_working_day(date(2026, 12, 7))
    assert PACKAGE.is_working_day(date(2026, 12, 7))


def test_setting_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, SUPPLIED_2027)
    monkeypatch.setenv("DINGZE_WORKING_DAYS_FILE", str(path))

    settings = PlatformSettings()
    calendar = load_working_day_calendar(settings.working_days_file)

    assert settings.working_days_file == path
    assert calendar.source(2027) is CalendarSource.SUPPLIED


def test_no_file_uses_package() -> None:
    calendar = load_working_day_calendar(None)

    assert calendar.source(2026) is CalendarSource.PACKAGE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ({"years": {}}, "years"),
        ({"years": {"2027": {"holidays": []}}}, "years.2027.holidays"),
        (
            {"years": {"2027": {"holidays": ["2028-01-01"]}}},
            "2028-01-01 is listed under year 2027",
        ),
        (
            {
                "years": {
                    "2027": {
                        "holidays": ["2027-01-02"],
                        "adjusted_working_days": ["2027-01-02"],
                    }
                }
            },
            "2027-01-02 listed as holiday and as working day",
        ),
        (
            {
                "years": {
                    "2027": {
                        "holidays": ["2027-01-01"],
                        "adjusted_working_days": ["2027-01-04"],
                    }
                }
            },
            "adjusted working day 2027-01-04 is a Monday",
        ),
        ({"years": {"2027": {"holidays": ["1 January"]}}}, "years.2027.holidays.0"),
    ],
    ids=[
        "not-json",
        "no-years",
        "no-holidays",
        "wrong-year",
        "both-lists",
        "weekday-adjusted",
        "not-a-date",
    ],
)
def test_invalid_file_rejected(tmp_path: Path, content: Any, message: str) -> None:
    path = _write(tmp_path, content)

    with pytest.raises(WorkingDaysFileError) as raised:
        load_working_day_calendar(path)

    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(WorkingDaysFileError, match="is missing"):
        load_working_day_calendar(tmp_path / "absent.json")
