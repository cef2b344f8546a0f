"""Where the bank holidays of England and Wales come from. Never imported by workflow code.

Authoritative source: the list GOV.UK publishes (https://www.gov.uk/bank-holidays.json), as
bundled in the `govuk-bank-holidays` package (its cached copy: nothing is fetched at run time;
a new list arrives with a new, pinned version of the package). It includes one-off days such as
the 2022 state funeral and the 2023 coronation. For years GOV.UK has not yet published, the
`holidays` package's rules for England stand in (the usual days and substitutes, no one-offs).

The result is a `BankHolidays` value (models/working_days.py) that a workflow carries in its
input: a case registered today keeps the dates it was registered with (a long one renews them
through an activity as a run continues as new, workflows/common.py `renewed`), so a later list
never changes a deadline its history already computed.
"""

from datetime import date
from importlib.metadata import version

import holidays
from govuk_bank_holidays.bank_holidays import BankHolidays as GovUk

from models.working_days import BankHolidays, london_today

# A case carries its calendar for this many years either side of the year it starts in: a run
# re-counts each deadline when it falls due, and beyond these years only weekends are known.
YEARS_BEFORE = 2
YEARS_AFTER = 15


def govuk_bank_holidays() -> dict[int, tuple[date, ...]]:
    """GOV.UK's England and Wales bank holidays by year, from the package's bundled copy."""
    events = GovUk.load_backup_data()[GovUk.ENGLAND_AND_WALES]["events"]
    by_year: dict[int, list[date]] = {}
    for event in events:
        day = date.fromisoformat(event["date"])
        by_year.setdefault(day.year, []).append(day)
    return {year: tuple(sorted(days)) for year, days in by_year.items()}


def england_and_wales(first_year: int, last_year: int) -> BankHolidays:
    """The bank holidays of `first_year`..`last_year`: GOV.UK's where published, else the rules."""
    published = govuk_bank_holidays()
    rules = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    dates: list[date] = []
    for year in range(first_year, last_year + 1):
        # The rules list a holiday on its weekend day as well as the substitute: weekdays only.
        dates += published.get(year) or sorted(
            d for d in rules if d.year == year and d.weekday() < 5
        )
    govuk = [y for y in range(first_year, last_year + 1) if y in published]
    source = "gov.uk " + (f"{govuk[0]}-{govuk[-1]}" if govuk else "none")
    source += f"; holidays {version('holidays')} rules otherwise"
    return BankHolidays(
        first_year=first_year, last_year=last_year, dates=tuple(dates), source=source
    )


def calendar_for_new_work(today: date | None = None) -> BankHolidays:
    """The calendar a workflow starting today carries."""
    year = (today or london_today()).year
    return england_and_wales(year - YEARS_BEFORE, year + YEARS_AFTER)
