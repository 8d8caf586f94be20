"""Working days in mainland China, from the chinese-calendar package.

The package carries the State Council's public holidays and the weekend days that
are worked in their place, one year at a time. A date in a year it has no data for
raises CalendarYearUnknownError rather than guessing from weekdays.
"""

from datetime import date, datetime, time, timedelta, timezone
from importlib.metadata import version

import chinese_calendar

# China keeps one time zone without daylight saving.
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
RECONSIDERATION_WORKING_DAYS = 3


class CalendarYearUnknownError(LookupError):
    """The holiday calendar has no data for a year the computation needs."""


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        first, last = _known_years()
        raise CalendarYearUnknownError(
            f"chinese-calendar {version('chinese-calendar')} has no holiday data for "
            f"{day.year} (it covers {first} to {last}); upgrade the package once "
            "that year's holidays are published, then restart the case worker"
        ) from None


def add_working_days(start: date, count: int) -> date:
    """Return the count-th working day after start; start itself does not count."""
    day = start
    found = 0
    while found < count:
        day += timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def reconsideration_deadline(delivered_at: datetime) -> datetime:
    """Return the end of the last day on which a delivered ruling can be contested.

    The delivery day does not count, as with other periods counted in days. The
    deadline is midnight after the third working day, China time.
    """
    delivered_on = delivered_at.astimezone(CHINA_TIME).date()
    last_day = add_working_days(delivered_on, RECONSIDERATION_WORKING_DAYS)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=CHINA_TIME)


def _known_years() -> tuple[int, int]:
    years = {day.year for day in chinese_calendar.holidays}
    return min(years), max(years)
