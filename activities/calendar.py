"""The bank holidays a long-running workflow renews its calendar with (workflows/common.py
`renewed`). An activity, so the list it returns is recorded in the workflow's history."""

from datetime import date

from temporalio import activity

from models.working_days import BankHolidays

# A calendar is renewed when it ends within this many years: longer than a run spans (four
# years at most), so no run outlives the years it carries.
RENEW_WITHIN_YEARS = 5


def running_out(calendar: BankHolidays | None, today: date) -> bool:
    """Whether a carried calendar (None: none yet) ends too soon to start a run with."""
    return calendar is None or calendar.last_year < today.year + RENEW_WITHIN_YEARS


def fresh_calendar(today: date | None = None) -> BankHolidays:
    """The calendar a workflow starting `today` (default: today in London) carries."""
    from models.bank_holidays import calendar_for_new_work  # not imported by workflow code

    return calendar_for_new_work(today)


class CalendarActivities:
    @activity.defn
    def bank_holidays(self, today: date) -> BankHolidays:
        """The calendar a workflow starting `today` would carry (models/bank_holidays.py)."""
        return fresh_calendar(today)
