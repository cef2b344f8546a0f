"""What a victim may learn about a release: its month, never its day.

Victims are told the month of release, never the exact date (Victims' Code; domain.md 'Never
disclosed to a victim'). Telling the month in words is not enough: a date printed in a letter
or the day a letter is sent, if either is the release day shifted by a fixed offset, gives the
day away. So every date a victim sees about a release, and every day such a letter is sent, is
computed here from a `ReleaseMonth`, which holds no day: a rule given only the month cannot
depend on the day. The same holds for a discharge from hospital and a release after recall.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from models.working_days import BankHolidays, is_working_day


@dataclass(frozen=True, order=True)
class ReleaseMonth:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> "ReleaseMonth":
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def following(self) -> "ReleaseMonth":
        return ReleaseMonth(self.year + self.month // 12, self.month % 12 + 1)


def working_day_on_or_after(day: date, calendar: BankHolidays) -> date:
    while not is_working_day(day, calendar):
        day += timedelta(days=1)
    return day


def working_day_on_or_before(day: date, calendar: BankHolidays) -> date:
    while not is_working_day(day, calendar):
        day -= timedelta(days=1)
    return day


def release_told_on(month: ReleaseMonth, learned_on: date, calendar: BankHolidays) -> date:
    """The day a victim is told that a release (or discharge) in `month` has happened.

    Local policy, for the rule above: the first working day of the following month, or the day
    the engine learned of it if that is later (a release recorded late). Sent on the day it was
    recorded, an email's sending time would be the release day. The victim already knows the
    month from the representations invitation ('around May 2028')."""
    return max(working_day_on_or_after(month.following().first_day, calendar), learned_on)
