"""Statutory and local deadlines, computed from dates and the policy in force for a case."""

from datetime import date, timedelta

from models.policy import Policy
from models.release_month import ReleaseMonth, working_day_on_or_after, working_day_on_or_before
from models.working_days import add_working_days


def offer_due(sentence_date: date, policy: Policy, referred_on: date | None = None) -> date:
    """When the VLO must have contacted the victim to offer the scheme.

    Victims' Code 2020 Right 11: referral within 10 working days of sentence, contact within
    20 working days of referral. 2013 Code: contact within 40 working days of sentence.
    Without a recorded referral date we assume the latest lawful referral.
    """
    if policy.code_edition == "2013":
        return add_working_days(sentence_date, policy.contact_working_days, policy.bank_holidays)
    referral = referred_on or add_working_days(
        sentence_date, policy.referral_working_days, policy.bank_holidays
    )
    return add_working_days(referral, policy.contact_working_days, policy.bank_holidays)


def chase_and_close(offered_on: date, policy: Policy) -> tuple[date, date]:
    """Local policy: chase an unanswered offer, then close it (domain.md 'No answer')."""
    chase_on = add_working_days(offered_on, policy.chase_after_working_days, policy.bank_holidays)
    return chase_on, add_working_days(
        chase_on, policy.close_after_chase_working_days, policy.bank_holidays
    )


def representations_opens(month: ReleaseMonth, policy: Policy) -> date:
    """The working day the invitation to make representations on licence conditions is sent
    (DVCVA s 35(3)-(4): in good time for the releasing authority to consider them).

    Local policy: the first working day on or after 120 days before the release month begins.
    Computed from the month alone (models/release_month.py): the day of sending reveals nothing
    of the release day."""
    start = month.first_day - timedelta(days=policy.representations_open_days_before_release)
    return working_day_on_or_after(start, policy.bank_holidays)


def representations_reply_by(month: ReleaseMonth, invited_on: date, policy: Policy) -> date:
    """The 'please reply by' date the victim is given: the same for every release day in the
    month (local policy: the working day on or before 42 days before the month begins), and
    never less than the minimum notice from the day of the invitation (local policy: 10
    working days), whenever the victim is invited (late opt-in, release brought forward).

    It is not cut short by the release day, which would reveal it: where release comes sooner,
    the VLO's own deadline (representations_task_due) is earlier and the VLO phones."""
    month_due = working_day_on_or_before(
        month.first_day - timedelta(days=policy.representations_due_days_before_release),
        policy.bank_holidays,
    )
    minimum = add_working_days(
        invited_on, policy.representations_minimum_working_days, policy.bank_holidays
    )
    return max(month_due, minimum)


def representations_task_due(reply_by: date, release: date, today: date) -> date:
    """The VLO's deadline for the representations (never shown to a victim): the victim's
    reply-by date, but the day before release at the latest (DVCVA s 35(4): representations
    are useless after release) and never a day already gone."""
    return max(min(reply_by, release - timedelta(days=1)), today)


def escalation_due(today: date, policy: Policy) -> date:
    return add_working_days(today, policy.escalation_due_working_days, policy.bank_holidays)


def parole_preparation(eligible_on: date, policy: Policy) -> tuple[date, date]:
    """When the VLO's task to prepare victims for the Parole Board review opens, and when it
    is due: the review's start, some weeks before the tariff expiry / parole eligibility date
    (both local policy, models/policy.py)."""
    due = eligible_on - timedelta(weeks=policy.parole_review_weeks_before_eligibility)
    return due - timedelta(days=policy.parole_preparation_notice_days), due
