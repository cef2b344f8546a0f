"""A victim is told the release month, never the day (Victims' Code; domain.md 'Never disclosed
to a victim'), and nothing they receive may let them work the day out.

The property: for any two release days in the same month, everything the victim receives about
the release is the same: the words of every letter and message (English and Welsh, by post,
email and text), every date printed in them, and the day each is sent. The rules are checked
here over many release dates; tests/test_lifecycle.py runs two cases through the engine.
"""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from models.activity_requests import LetterRequest
from models.db import create_tables, make_engine
from models.deadlines import (
    representations_opens,
    representations_reply_by,
    representations_task_due,
)
from models.policy import policy_for
from models.release_month import ReleaseMonth, release_told_on
from models.victim import Victim
from models.vocabulary import Channel, DischargeKind, Language, LetterKind
from models.working_days import add_working_days, is_working_day

POLICY = policy_for("2020", date(2026, 12, 6))
CALENDAR = POLICY.bank_holidays
ENGINE: Engine = make_engine("sqlite://")
create_tables(ENGINE)

release_days = st.dates(min_value=date(2027, 6, 1), max_value=date(2040, 12, 31))


def rendered(request: LetterRequest) -> list[str]:
    """The letter as every victim would receive it: each language, by post, email and text."""
    from activities.letter_render import render

    bodies: list[str] = []
    with Session(ENGINE) as session:
        for language in Language:
            victim = Victim(
                case_id=1,
                full_name="A Victim",
                address="1 Street",
                postcode="LS1 1AA",
                language=language,
                added_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            bodies.extend(render(session, victim, request, channel) for channel in Channel)
    return bodies


def what_the_victim_receives(release: date, opted_in_on: date) -> list[object]:
    """Every date and word about the release that reaches a victim who opted in on
    `opted_in_on`, when the VLO records the release on the day it happens."""
    month = ReleaseMonth.of(release)
    invited_on = max(representations_opens(month, POLICY), opted_in_on)
    reply_by = representations_reply_by(month, invited_on, POLICY)
    invitation = LetterRequest(
        idempotency_key="k",
        case_id=1,
        victim_id=1,
        kind=LetterKind.REPRESENTATIONS_INVITED,
        release_on=release,
        due_on=reply_by,
    )
    told_on = release_told_on(month, release, CALENDAR)
    letters = [
        LetterRequest(
            idempotency_key="k", case_id=1, victim_id=1, kind=kind, release_on=release, **extra
        )
        for kind, extra in (
            (LetterKind.RELEASE, {}),
            (LetterKind.DISCHARGED, {"discharge": DischargeKind.CONDITIONAL}),
        )
    ]
    return [invited_on, reply_by, rendered(invitation), told_on] + [rendered(r) for r in letters]


@settings(max_examples=150, deadline=None)
@given(
    release=release_days,
    other_day=st.integers(min_value=1, max_value=31),
    months_before=st.integers(min_value=0, max_value=30),
)
def test_nothing_a_victim_receives_narrows_the_release_below_its_month(
    release: date, other_day: int, months_before: int
) -> None:
    other = release.replace(day=other_day if other_day <= 28 else 1)
    opted_in_on = release.replace(day=1) - timedelta(days=30 * months_before + 1)
    assert what_the_victim_receives(release, opted_in_on) == what_the_victim_receives(
        other, opted_in_on
    )


@settings(max_examples=150, deadline=None)
@given(release=release_days, invited_days_before=st.integers(min_value=0, max_value=200))
def test_the_reply_by_date_gives_at_least_the_minimum_notice_and_the_vlo_acts_before_release(
    release: date, invited_days_before: int
) -> None:
    """Local policy (models/policy.py): at least 10 working days from the invitation, whenever
    it is sent; the VLO's own deadline is never after the day before release (DVCVA s 35(4))
    nor in the past."""
    invited_on = release - timedelta(days=invited_days_before)
    reply_by = representations_reply_by(ReleaseMonth.of(release), invited_on, POLICY)
    assert reply_by >= add_working_days(
        invited_on, POLICY.representations_minimum_working_days, CALENDAR
    )
    assert is_working_day(reply_by, CALENDAR)
    due = representations_task_due(reply_by, release, invited_on)
    assert invited_on <= due <= max(release - timedelta(days=1), invited_on)
    assert due <= reply_by


def test_the_invitation_and_reply_by_date_follow_the_month_worked_by_hand() -> None:
    """Local policy under DVCVA s 35(3)-(4): invited on the first working day on or after 120
    days before the release month begins, reply by the working day on or before 42 days before
    it. Release in September 2027 (any day): 1 Sep - 120 days = Thursday 4 May 2027; 1 Sep - 42
    days = Thursday 21 July 2027."""
    month = ReleaseMonth(2027, 9)
    assert representations_opens(month, POLICY) == date(2027, 5, 4)
    assert representations_reply_by(month, date(2027, 5, 4), POLICY) == date(2027, 7, 21)
    # Release in August 2027: 1 Aug - 120 days = Saturday 3 April -> Monday 5 April (Easter
    # Monday 2027 is 29 March); 1 Aug - 42 days = Sunday 20 June -> Friday 18 June.
    august = ReleaseMonth(2027, 8)
    assert representations_opens(august, POLICY) == date(2027, 4, 5)
    assert representations_reply_by(august, date(2027, 4, 5), POLICY) == date(2027, 6, 18)


def test_a_release_is_told_on_the_first_working_day_of_the_next_month() -> None:
    """Local policy (models/release_month.py): released any day in December 2026, the letter
    goes on Monday 4 January 2027 (1 January is a bank holiday, 2-3 a weekend); recorded only
    on 12 January, it goes that day."""
    december = ReleaseMonth(2026, 12)
    assert release_told_on(december, date(2026, 12, 1), CALENDAR) == date(2027, 1, 4)
    assert release_told_on(december, date(2026, 12, 31), CALENDAR) == date(2027, 1, 4)
    assert release_told_on(december, date(2027, 1, 12), CALENDAR) == date(2027, 1, 12)


def test_a_late_invitation_gets_the_minimum_notice_even_past_the_month_date() -> None:
    """Invited Monday 23 August 2027 for a release in September: 24-27 Aug (4), 30 Aug is the
    summer bank holiday, 31 Aug (5), 1-3 Sep (8), 6-7 Sep (10): reply by Tuesday 7 September
    (the month date, 21 July, is gone). The VLO's deadline is the day before release when the
    release comes sooner (release 3 September: due 2 September)."""
    reply_by = representations_reply_by(ReleaseMonth(2027, 9), date(2027, 8, 23), POLICY)
    assert reply_by == date(2027, 9, 7)
    assert representations_task_due(reply_by, date(2027, 9, 3), date(2027, 8, 23)) == date(
        2027, 9, 2
    )
    assert representations_task_due(reply_by, date(2027, 9, 30), date(2027, 8, 23)) == reply_by
