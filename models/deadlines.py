"""Statutory and local deadlines, computed from dates and the policy in force for a case."""

from datetime import date, timedelta

from models.policy import Policy
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


def representations_window(release: date, today: date, policy: Policy) -> tuple[date, date]:
    """When to invite representations on licence conditions and when they are due
    (DVCVA s 35(3)-(4): in good time for the releasing authority to consider them).

    A victim invited late (release brought forward, late opt-in) still gets the minimum notice,
    but never past the day before release.
    """
    opens = release - timedelta(days=policy.representations_open_days_before_release)
    due = release - timedelta(days=policy.representations_due_days_before_release)
    invited = max(opens, today)
    minimum = add_working_days(
        invited, policy.representations_minimum_working_days, policy.bank_holidays
    )
    due = max(due, minimum)
    latest = release - timedelta(days=1)
    return opens, max(min(due, latest), invited)


def escalation_due(today: date, policy: Policy) -> date:
    return add_working_days(today, policy.escalation_due_working_days, policy.bank_holidays)
