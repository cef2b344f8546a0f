"""Working days and the deadlines counted in them.

Victims' Code deadlines are in working days: weekdays that are not bank holidays of England and
Wales (Wales shares England's). Every expected date below was worked out by hand from the
calendar and the bank holidays listed here, never by calling the code under test.
"""

from datetime import date, timedelta

import pytest

from models.bank_holidays import england_and_wales
from models.deadlines import chase_and_close, escalation_due, offer_due
from models.policy import CODE_EDITIONS, Policy, policy_for
from models.working_days import add_working_days, is_working_day

# The calendar a case registered in June 2026 carries (GOV.UK's published list).
CODE_2020 = policy_for("2020", date(2026, 6, 1))
CODE_2013 = policy_for("2013", date(2026, 6, 1))
CALENDAR = england_and_wales(2026, 2027)

# England and Wales bank holidays 2026-2027 (gov.uk/bank-holidays), as they fall on weekdays.
# 2026: 1 Jan is a Thursday; Easter Sunday is 5 April; Christmas Day is a Friday, so Boxing Day
# (Saturday) is substituted by Monday 28 December.
# 2027: 1 Jan is a Friday; Easter Sunday is 28 March; Christmas Day is a Saturday and Boxing
# Day a Sunday, so Monday 27 and Tuesday 28 December are the substitute days.
BANK_HOLIDAYS_2026_2027 = frozenset(
    {
        date(2026, 1, 1),  # New Year's Day (Thu)
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # Early May bank holiday
        date(2026, 5, 25),  # Spring bank holiday
        date(2026, 8, 31),  # Summer bank holiday
        date(2026, 12, 25),  # Christmas Day (Fri)
        date(2026, 12, 28),  # Boxing Day (substitute day)
        date(2027, 1, 1),  # New Year's Day (Fri)
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 3),  # Early May bank holiday
        date(2027, 5, 31),  # Spring bank holiday
        date(2027, 8, 30),  # Summer bank holiday
        date(2027, 12, 27),  # Christmas Day (substitute day)
        date(2027, 12, 28),  # Boxing Day (substitute day)
    }
)


def reference_add_working_days(start: date, count: int) -> date:
    """An independent oracle: count forward over the hand-listed holidays above."""
    assert date(2026, 1, 1) <= start and start + timedelta(days=2 * count + 14) < date(2028, 1, 1)
    day = start
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS_2026_2027:
            count -= 1
    return day


# --- add_working_days -----------------------------------------------------------------------


def test_the_calendar_facts_these_tests_rely_on() -> None:
    """Guard the hand reasoning: the weekdays assumed in this file."""
    assert date(2026, 12, 25).strftime("%A") == "Friday"
    assert date(2026, 12, 26).strftime("%A") == "Saturday"
    assert date(2026, 12, 28).strftime("%A") == "Monday"
    assert date(2027, 12, 25).strftime("%A") == "Saturday"
    assert date(2026, 4, 6).strftime("%A") == "Monday"
    assert date(2026, 5, 4).strftime("%A") == "Monday"


def test_friday_plus_one_working_day_is_monday() -> None:
    """Victims' Code: working days exclude weekends."""
    assert add_working_days(date(2026, 1, 16), 1, CALENDAR) == date(2026, 1, 19)  # Fri -> Mon


def test_weekend_start_counts_from_the_next_monday() -> None:
    """Victims' Code: working days exclude weekends; a Saturday start gives Monday as day 1."""
    assert add_working_days(date(2026, 1, 17), 1, CALENDAR) == date(2026, 1, 19)  # Sat -> Mon
    assert add_working_days(date(2026, 1, 18), 5, CALENDAR) == date(2026, 1, 23)  # Sun -> Fri


def test_zero_working_days_is_the_start_itself() -> None:
    """Victims' Code working days: the start day itself never counts."""
    assert add_working_days(date(2026, 1, 17), 0, CALENDAR) == date(2026, 1, 17)


def test_a_full_week_is_five_working_days() -> None:
    """Victims' Code: five working days in a week with no bank holiday."""
    assert add_working_days(date(2026, 2, 4), 5, CALENDAR) == date(2026, 2, 11)  # Wed -> next Wed


def test_christmas_2026_substitute_boxing_day_is_skipped() -> None:
    """Banking and Financial Dealings Act 1971 s 1(3)-(4): Christmas Day 2026 is a Friday and Boxing
    Day a Saturday, so Monday 28 December is the substitute bank holiday. Thursday 24 December
    plus one working day is therefore Tuesday 29 December."""
    assert add_working_days(date(2026, 12, 24), 1, CALENDAR) == date(2026, 12, 29)
    assert not is_working_day(date(2026, 12, 28), CALENDAR)


def test_christmas_2027_has_two_substitute_days() -> None:
    """Banking and Financial Dealings Act 1971 Sch 1 and s 1(3): Christmas 2027 falls
    Sat/Sun: Monday 27 and Tuesday 28 December are both bank holidays, so Friday 24 December plus
    one working day is Wednesday 29 December."""
    assert add_working_days(date(2027, 12, 24), 1, CALENDAR) == date(2027, 12, 29)


def test_good_friday_and_easter_monday_are_skipped() -> None:
    """Banking and Financial Dealings Act 1971 Sch 1 (Easter Monday) and common law (Good Friday):
    Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays in England
    and Wales (Easter Monday is not one in Scotland: the list must be England's)."""
    assert add_working_days(date(2026, 4, 2), 1, CALENDAR) == date(2026, 4, 7)  # Thu -> Tue
    assert not is_working_day(date(2026, 4, 6), CALENDAR)


def test_early_may_bank_holiday_is_skipped() -> None:
    """Banking and Financial Dealings Act 1971 s 1(3) (royal proclamation): the early May bank
    holiday 2026 is Monday 4 May: Friday 1 May + 1 is Tuesday 5 May."""
    assert add_working_days(date(2026, 5, 1), 1, CALENDAR) == date(2026, 5, 5)


def test_scottish_only_holidays_are_working_days() -> None:
    """Victims' Code (domain.md): the bank holidays of England and Wales, not Scotland: 2 January
    and St Andrew's Day are working days here."""
    assert is_working_day(date(2026, 1, 2), CALENDAR)  # Friday 2 January 2026
    assert is_working_day(date(2026, 11, 30), CALENDAR)  # Monday, St Andrew's Day


def test_negative_count_raises() -> None:
    """Victims' Code deadlines run forward from an event; a negative count is a caller error."""
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 1, 5), -1, CALENDAR)


def test_outside_the_carried_years_only_weekends_are_known() -> None:
    """Local policy (models/working_days.py): past the years a calendar carries, a count skips
    weekends only, so a deadline there is early rather than late. Christmas Day 2028 (a Monday)
    is outside a 2026-2027 calendar."""
    assert not CALENDAR.covers(date(2028, 12, 25))
    assert is_working_day(date(2028, 12, 25), CALENDAR)
    assert not is_working_day(date(2028, 12, 23), CALENDAR)  # a Saturday


def test_a_policy_without_bank_holidays_counts_no_days() -> None:
    """Working days are counted only over a calendar set where the work starts
    (models/bank_holidays.py): an edition template without one refuses, never guesses."""
    assert CODE_EDITIONS["2020"].calendar is None
    with pytest.raises(ValueError, match="no bank-holiday calendar"):
        offer_due(date(2026, 12, 14), CODE_EDITIONS["2020"])


@pytest.mark.parametrize("count", [1, 2, 5, 10, 20, 40])
def test_agrees_with_a_hand_listed_calendar_for_every_start_in_2026(count: int) -> None:
    """Victims' Code working days (weekends and E&W bank holidays excluded): every start day of
    2026 against the independent oracle above."""
    start = date(2026, 1, 1)
    while start.year == 2026:
        assert add_working_days(start, count, CALENDAR) == reference_add_working_days(
            start, count
        ), start
        start += timedelta(days=1)


# --- offer_due: Victims' Code -----------------------------------------------------------------


def test_offer_due_2020_code_is_referral_plus_contact() -> None:
    """Victims' Code 2020 Right 11: referral within 10 working days of sentence, then the VLO
    contacts the victim within 20 working days of the referral.

    Sentence Monday 14 December 2026. Ten working days: 15-18 Dec (4), 21-24 Dec (8), then
    25 and 28 Dec are bank holidays, 29 Dec (9), 30 Dec (10): referral Wednesday 30 December.
    Twenty more: 31 Dec (1), 1 Jan 2027 is a bank holiday, 4-8 Jan (6), 11-15 Jan (11),
    18-22 Jan (16), 25-28 Jan (20): contact due Thursday 28 January 2027.
    """
    assert offer_due(date(2026, 12, 14), CODE_2020) == date(2027, 1, 28)
    assert reference_add_working_days(
        reference_add_working_days(date(2026, 12, 14), 10), 20
    ) == date(2027, 1, 28)


def test_offer_due_2020_code_counts_from_a_recorded_referral() -> None:
    """Victims' Code 2020 Right 11: the 20 working days run from the actual referral.
    Referral Monday 21 December 2026: 22-24 Dec (3), 29-31 Dec (6), 4-8 Jan (11),
    11-15 Jan (16), 18-21 Jan (20): Thursday 21 January 2027."""
    due = offer_due(date(2026, 12, 14), CODE_2020, referred_on=date(2026, 12, 21))
    assert due == date(2027, 1, 21)


def test_offer_due_2013_code_is_forty_working_days_from_sentence() -> None:
    """Victims' Code 2013: contact within 40 working days ("eight weeks") of sentence.
    Sentence Monday 14 December 2026: 15-24 Dec (8), 29-31 Dec (11), 4-8 Jan (16),
    11-15 Jan (21), 18-22 Jan (26), 25-29 Jan (31), 1-5 Feb (36), 8-11 Feb (40):
    Thursday 11 February 2027. A recorded referral does not change it."""
    assert offer_due(date(2026, 12, 14), CODE_2013) == date(2027, 2, 11)
    assert offer_due(date(2026, 12, 14), CODE_2013, referred_on=date(2026, 12, 15)) == date(
        2027, 2, 11
    )


def test_policy_figures_match_the_codes() -> None:
    """Victims' Code 2020 Right 11: 10 and 20 working days; 2013 Code: 20 and 40."""
    assert (CODE_2020.referral_working_days, CODE_2020.contact_working_days) == (10, 20)
    assert (CODE_2013.referral_working_days, CODE_2013.contact_working_days) == (20, 40)


# The representations window (month-based): tests/test_release_month.py.


# --- chase_and_close and escalation (local policy) ------------------------------------------


def test_chase_and_close_counts_working_days_over_christmas() -> None:
    """Local policy under DVCVA s 35(3) ("all reasonable steps"): chase an unanswered offer after
    20 working days, close 20 working days after the chase. Offered Monday 7 December 2026:
    8-11 Dec (4), 14-18 Dec (9), 21-24 Dec (13), 29-31 Dec (16), 4-7 Jan (20): chase
    Thursday 7 January 2027. Then 8 Jan (1), 11-15 (6), 18-22 (11), 25-29 (16), 1-4 Feb (20):
    close Thursday 4 February 2027."""
    assert (CODE_2020.chase_after_working_days, CODE_2020.close_after_chase_working_days) == (
        20,
        20,
    )
    assert chase_and_close(date(2026, 12, 7), CODE_2020) == (date(2027, 1, 7), date(2027, 2, 4))


def test_chase_and_close_follows_the_policy_figures() -> None:
    """Local policy (domain.md 'No answer'): the figures are configuration, not constants: 1 and 2
    working days from Friday 24 December 2027 are Wednesday 29 and Friday 31 December (27, 28 Dec
    are holidays)."""
    policy = Policy(
        code_edition="2020",
        referral_working_days=10,
        contact_working_days=20,
        chase_after_working_days=1,
        close_after_chase_working_days=2,
        calendar=CALENDAR,
    )
    assert chase_and_close(date(2027, 12, 24), policy) == (date(2027, 12, 29), date(2027, 12, 31))


def test_escalation_due_is_five_working_days_later() -> None:
    """Local policy: an escalation is due 5 working days on. Wednesday 23 December 2026:
    24 Dec (1), 29-31 Dec (4), 1 Jan is a holiday, Monday 4 January 2027 (5)."""
    assert escalation_due(date(2026, 12, 23), CODE_2020) == date(2027, 1, 4)
