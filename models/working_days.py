"""Working days in England and Wales: weekdays that are not bank holidays.

Victims' Code deadlines are counted in working days. Wales shares England's bank holidays;
the `holidays` package keeps the list (including one-off days such as coronations).
"""

from datetime import date, timedelta

import holidays

# Built once at import, for every year a sentence could reach, so workflow code (which runs
# in Temporal's sandbox) only ever looks dates up and never triggers the package's lazy loading.
YEARS = range(2000, 2101)
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=YEARS)


def is_working_day(day: date) -> bool:
    if day.year not in YEARS:
        raise ValueError(f"{day} is outside the supported calendar {YEARS.start}-{YEARS.stop - 1}")
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def add_working_days(start: date, count: int) -> date:
    """The date `count` working days after `start` (start itself never counts)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
