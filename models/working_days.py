"""Working days and days in England and Wales, counted the same way on every replay.

Victims' Code deadlines are counted in working days: weekdays that are not bank holidays of
England and Wales (Wales shares England's). The bank holidays come from a `BankHolidays` value
made outside workflow code (models/bank_holidays.py says where the dates come from) and carried
in each workflow's input (on its `Policy`), so a new holiday published later, or an upgrade of
the package that lists them, never changes a deadline a recorded history already computed.

Days are Europe/London days: the scheme runs on British days, so "today" and a date's deadline
turn at midnight in London (BST in summer, GMT in winter); a workflow waiting for a date wakes
early in that day, at a time of its own (`wake_time`).
"""

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import BaseModel, field_serializer, field_validator

# Loaded here, outside Temporal's sandbox (workflows import this module passed through).
LONDON = ZoneInfo("Europe/London")

# Local policy: a workflow waiting for a date wakes on that date at a time of its own between
# 07:00 and 10:00 London time, fixed by its ID, so the cases due on one day do not all wake at
# midnight at once. Only the hour is spread: the date that falls due never moves.
WAKE_WINDOW_START = time(7, 0)
WAKE_WINDOW = timedelta(hours=3)


def dates_of(text: str) -> tuple[date, ...]:
    """Dates written a year at a time: "2026 01-01 04-03 ...; 2027 01-01 ..." (or a line a
    year)."""
    rows = [row.split() for row in text.replace(";", "\n").splitlines() if row.strip()]
    return tuple(date.fromisoformat(f"{row[0]}-{day}") for row in rows for day in row[1:])


def text_of(dates: tuple[date, ...]) -> str:
    years: dict[int, list[str]] = {}
    for day in dates:
        years.setdefault(day.year, []).append(day.strftime("%m-%d"))
    return "; ".join(f"{year} {' '.join(days)}" for year, days in years.items())


class BankHolidays(BaseModel, frozen=True):
    """England and Wales bank holidays from `first_year` to `last_year` (ascending dates).
    In a workflow's input the dates are written a year at a time (`text_of`), to stay small."""

    first_year: int
    last_year: int
    dates: tuple[date, ...]
    source: str = ""  # where the dates came from, for the record (models/bank_holidays.py)

    @field_validator("dates", mode="before")
    @classmethod
    def _read(cls, value: object) -> object:
        return dates_of(value) if isinstance(value, str) else value

    @field_serializer("dates")
    def _write(self, dates: tuple[date, ...]) -> str:
        return text_of(dates)

    def covers(self, day: date) -> bool:
        return self.first_year <= day.year <= self.last_year

    @cached_property
    def holidays(self) -> frozenset[date]:
        return frozenset(self.dates)


def required(calendar: BankHolidays | None) -> BankHolidays:
    """The calendar a workflow input carries. Whoever starts the work sets it
    (models/bank_holidays.py); an input without one is a programming error, never a guess."""
    if calendar is None:
        raise ValueError("no bank-holiday calendar: set one where the work starts")
    return calendar


def is_working_day(day: date, calendar: BankHolidays) -> bool:
    """A weekday that is not a bank holiday. Outside the calendar's years only weekends are known:
    a deadline counted there may fall a day or two early, never late."""
    return day.weekday() < 5 and day not in calendar.holidays


def add_working_days(start: date, count: int, calendar: BankHolidays) -> date:
    """The date `count` working days after `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day, calendar):
            remaining -= 1
    return day


def london_date(instant: datetime) -> date:
    """The date in London at `instant` (an aware datetime)."""
    return instant.astimezone(LONDON).date()


def london_midnight(day: date) -> datetime:
    """The instant `day` begins in London, in UTC (00:00 GMT in winter, 23:00 UTC before in
    summer)."""
    return datetime.combine(day, time.min, tzinfo=LONDON).astimezone(UTC)


def wake_time(day: date, key: str) -> datetime:
    """When the workflow `key` (its ID) wakes for `day`, in UTC: a second of the wake window
    on that London day, the same for that key on every run and replay (a stable hash, not
    Python's salted hash())."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    offset = timedelta(seconds=int.from_bytes(digest) % int(WAKE_WINDOW.total_seconds()))
    return (datetime.combine(day, WAKE_WINDOW_START, tzinfo=LONDON) + offset).astimezone(UTC)


def london_today() -> date:
    """Today in London, for code outside workflows (workflows use workflows.common.today)."""
    return london_date(datetime.now(UTC))
