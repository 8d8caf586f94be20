"""Working days in mainland China and the reconsideration deadline counted on them.

Each year's public holidays, and the weekend days worked in their place, come from
the first of these that covers the year:

1. a JSON file that the deployment supplies (``DINGZE_WORKING_DAYS_FILE``);
2. the chinese-calendar package, which carries the State Council's notices one year
   at a time (release 1.11.0 covers 2004 to 2026);
3. Monday to Friday, with a logged warning, because neither source knows the year.
"""

import json
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import Any, Self

import chinese_calendar
import structlog
from pydantic import BaseModel, Field, ValidationError, model_validator

log = structlog.get_logger(__name__)

# China keeps one time zone without daylight saving.
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
RECONSIDERATION_WORKING_DAYS = 3
SATURDAY = 5


class CalendarSource(StrEnum):
    """The source of a year's working days."""

    SUPPLIED = "supplied"
    PACKAGE = "chinese-calendar"
    WEEKDAYS = "weekdays"


class YearCalendar(BaseModel):
    """One year's days off and the weekend days worked in their place."""

    holidays: list[date] = Field(
        min_length=1, description="Every day off for a public holiday"
    )
    adjusted_working_days: list[date] = Field(
        default_factory=list,
        description="Saturdays and Sundays worked in place of a holiday",
    )


class WorkingDaysFile(BaseModel):
    """The file a deployment supplies: ``{"years": {"2027": {...}}}``."""

    years: dict[int, YearCalendar] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_days(self) -> Self:
        for year, calendar in self.years.items():
            for day in [*calendar.holidays, *calendar.adjusted_working_days]:
                if day.year != year:
                    raise ValueError(f"{day} is listed under year {year}")
            both = set(calendar.holidays) & set(calendar.adjusted_working_days)
            if both:
                listed = ", ".join(str(day) for day in sorted(both))
                raise ValueError(f"{listed} listed as holiday and as working day")
            for day in calendar.adjusted_working_days:
                if day.weekday() < SATURDAY:
                    raise ValueError(
                        f"adjusted working day {day} is a {day:%A}, which is a "
                        "working day anyway; list only Saturdays and Sundays"
                    )
        return self


class WorkingDaysFileError(ValueError):
    """The supplied working-days file is missing or invalid."""


def _package_years() -> frozenset[int]:
    return frozenset(day.year for day in chinese_calendar.holidays)


class WorkingDayCalendar:
    """Working days from the supplied years, the package, or weekdays, in order."""

    def __init__(
        self, supplied: dict[int, YearCalendar] | None = None, origin: str = ""
    ) -> None:
        self._holidays: dict[int, frozenset[date]] = {}
        self._adjusted: dict[int, frozenset[date]] = {}
        for year, calendar in (supplied or {}).items():
            self._holidays[year] = frozenset(calendar.holidays)
            self._adjusted[year] = frozenset(calendar.adjusted_working_days)
        self._origin = origin
        self._package_years = _package_years()

    def source(self, year: int) -> CalendarSource:
        if year in self._holidays:
            return CalendarSource.SUPPLIED
        if year in self._package_years:
            return CalendarSource.PACKAGE
        return CalendarSource.WEEKDAYS

    def is_working_day(self, day: date) -> bool:
        source = self.source(day.year)
        if source is CalendarSource.SUPPLIED:
            if day in self._adjusted[day.year]:
                return True
            return day.weekday() < SATURDAY and day not in self._holidays[day.year]
        if source is CalendarSource.PACKAGE:
            return bool(chinese_calendar.is_workday(day))
        # NOTE: a holiday counted as a working day here shortens a party's period,
        # so a deployment supplies each new year's days before the year begins.
        return day.weekday() < SATURDAY

    def add_working_days(self, start: date, count: int) -> date:
        """Return the count-th working day after start; start itself does not count."""
        day = start
        found = 0
        while found < count:
            day += timedelta(days=1)
            if self.is_working_day(day):
                found += 1
        return day

    def reconsideration_deadline(
        self, delivered_at: datetime, **log_fields: Any
    ) -> datetime:
        """Return the end of the last day on which a delivered ruling can be contested.

        The delivery day does not count, as with other periods counted in days. The
        deadline is midnight after the third working day, China time. A count that
        had to use weekdays logs a warning with ``log_fields``.
        """
        delivered_on = delivered_at.astimezone(CHINA_TIME).date()
        last_day = self.add_working_days(delivered_on, RECONSIDERATION_WORKING_DAYS)
        deadline = datetime.combine(
            last_day + timedelta(days=1), time(0), tzinfo=CHINA_TIME
        )
        guessed = [
            year
            for year in range(delivered_on.year, last_day.year + 1)
            if self.source(year) is CalendarSource.WEEKDAYS
        ]
        if guessed:
            self._warn_weekdays(guessed, deadline, log_fields)
        return deadline

    def _warn_weekdays(
        self, years: list[int], deadline: datetime, log_fields: dict[str, Any]
    ) -> None:
        first, last = min(self._package_years), max(self._package_years)
        supplied = sorted(self._holidays)
        log.warning(
            "reconsideration deadline counted on weekdays only",
            years=years,
            deadline=deadline.isoformat(),
            package=f"chinese-calendar {version('chinese-calendar')} covers "
            f"{first} to {last}",
            supplied_years=supplied,
            supplied_file=self._origin or "DINGZE_WORKING_DAYS_FILE is unset",
            action="add the year's holidays and adjusted working days to the "
            "working-days file, or upgrade chinese-calendar, then restart the "
            "case worker",
            **log_fields,
        )


def load_working_day_calendar(path: Path | None) -> WorkingDayCalendar:
    """Build the calendar, reading the supplied file when a path is given.

    Raises WorkingDaysFileError naming the file and the fault, so a worker with a
    broken file stops at start-up instead of counting deadlines wrongly.
    """
    if path is None:
        return WorkingDayCalendar()
    try:
        parsed = WorkingDaysFile.model_validate(json.loads(path.read_text("utf-8")))
    except FileNotFoundError:
        raise WorkingDaysFileError(
            f"working-days file {path} is missing; create it or unset "
            "DINGZE_WORKING_DAYS_FILE"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WorkingDaysFileError(
            f"working-days file {path} is not valid JSON: {error}"
        ) from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'file'}: {item['msg']}"
            for item in error.errors()
        )
        raise WorkingDaysFileError(
            f"working-days file {path} is invalid: {problems}"
        ) from None
    calendar = WorkingDayCalendar(parsed.years, origin=str(path))
    log.info(
        "working-days file loaded",
        path=str(path),
        years=sorted(parsed.years),
        replaces_package_years=sorted(set(parsed.years) & _package_years()),
    )
    return calendar
