"""Whether the dates a VLO gives are plausible. One place for each rule: the command line checks
them before it writes anything, and the case workflow's updates check them again, so a refusal
changes nothing whichever way the action arrives. Each problem says what is wrong and why.

(The order of the sentence milestones among themselves is MilestoneDates.problems().)
"""

from datetime import date

from models.case import MilestoneDates
from models.policy import NEW_REFERRAL_MAX_YEARS


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def referral_problems(m: MilestoneDates, today: date, custodial: bool) -> list[str]:
    """A new case: sentenced already, not implausibly long ago, and (on the custodial path)
    with its scheme not yet over, else its workflow would close as soon as it started."""
    found: list[str] = []
    if m.sentence_date > today:
        found.append(
            f"sentence date {m.sentence_date} is in the future: a case is referred after "
            "sentence (Victims' Code 2020, Right 11)"
        )
    oldest = _years_before(today, NEW_REFERRAL_MAX_YEARS)
    if m.sentence_date < oldest:
        found.append(
            f"sentence date {m.sentence_date} is more than {NEW_REFERRAL_MAX_YEARS} years ago: "
            "no one sentenced then is still in custody or on licence (local policy, "
            "models/policy.py); check the year"
        )
    end = m.scheme_end()
    if custodial and end is not None and end < today and not found:
        found.append(
            f"the scheme for this case ended on {end} (it runs until licence and supervision "
            "end): there is nothing to register"
        )
    return found


def release_date_problems(m: MilestoneDates, on: date, today: date) -> list[str]:
    """An actual release: after the sentence, not yet to come, and within the licence."""
    if on < m.sentence_date:
        return [f"release date {on} is before the sentence date {m.sentence_date}"]
    if on > today:
        return [
            f"release date {on} is in the future: record an expected release as the "
            "conditional release date"
        ]
    if m.licence_expiry_date and on > m.licence_expiry_date:
        return [f"release date {on} is after licence expiry {m.licence_expiry_date}"]
    return []


def condition_problems(
    m: MilestoneDates, starts_on: date, ends_on: date | None, hospital: bool
) -> list[str]:
    """A licence condition runs within the licence period: not before the sentence, and not
    after the licence and any supervision end (DVCVA s 35(7): victims are told the conditions
    and when they cease). Conditions of discharge from hospital have no licence period."""
    found: list[str] = []
    if starts_on < m.sentence_date:
        found.append(f"condition starts {starts_on}, before the sentence date {m.sentence_date}")
    end = None if hospital else m.scheme_end()
    if end is None:
        return found
    for what, day in (("starts", starts_on), ("ends", ends_on)):
        if day is not None and day > end:
            found.append(
                f"condition {what} {day}, after the licence and supervision end {end}: "
                "conditions run within the licence period"
            )
    return found
