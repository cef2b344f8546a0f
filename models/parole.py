"""Parole Board reviews: the rules and their sources, the Victim Personal Statement table (its
words encrypted at rest), and the messages the review workflow exchanges (IDs, dates, enums).

Sources: domain.md 'Parole'; 000_5a1d5e000983110f.txt ('Victims'): "victims in the Victim
Contact Scheme are entitled to make a Victim Personal Statement (VPS) explaining the impact
that the offence has had on them or their family and to apply to the Parole Board to attend an
oral hearing to read their VPS aloud in cases where the Parole Board decides that it is
appropriate to hold an oral hearing".
"""

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import Column
from sqlmodel import Field as DbField
from sqlmodel import SQLModel

from models.messages import VloAction
from models.policy import Policy
from models.review import (
    ParoleDecisionRecord as ParoleDecisionRecord,
)
from models.review import (
    ParoleState as ParoleState,
)
from models.review import (
    ParoleTimetable as ParoleTimetable,
)
from models.review import (
    ReadApplication as ReadApplication,
)
from models.review import (
    VpsReceived as VpsReceived,
)
from models.sealed import SealedText
from models.tasks import OpenTask
from models.vocabulary import ParoleOutcome

# Who a VPS and parole-case representations go to.
PAROLE_BOARD = "Parole Board"
# The longest VPS accepted: the same limit as representations (about 10 pages). A VPS "should
# take under 10 minutes to read" (domain.md): READ_ALOUD_WORDS is roughly that, said as a note.
MAX_VPS_CHARS = 20_000
READ_ALOUD_WORDS = 1_300


class ParolePolicy(BaseModel):
    """Time limits of a review. Each names its source."""

    # domain.md 'Parole': the VLO sends the VPS to the Parole Board at least 28 days before the
    # hearing. A VPS sent later is still sent, marked late: the panel decides whether to
    # consider it. (domain.md gives the 28 days only; sending a late VPS, marked, for the panel
    # to decide is local practice following the Parole Board's guidance *(confirm)*.)
    vps_days_before_hearing: int = 28
    # domain.md 'Parole': the decision is usually issued within 14 days of the hearing; with
    # none recorded by then the VLO asks the Board (a task).
    decision_expected_days: int = 14
    # Local policy: the VLO chases a missing decision, and sends a summary asked for, within
    # this many working days.
    chase_decision_working_days: int = 5
    summary_working_days: int = 5
    # Local policy: a decided review stays open this long for victims to ask for a summary of
    # the Board's reasons (domain.md 'Parole'), then ends (once its tasks are done).
    summary_requests_open_days: int = 90


def vps_lateness(
    forwarded_on: date, vps_due_on: date, hearing_on: date | None, policy: ParolePolicy
) -> str | None:
    """Why a VPS forwarded on `forwarded_on` is late, or None when it is in time: after the
    deadline in the Board's timetable, or less than 28 days before the hearing (domain.md
    'Parole'). A late VPS is still sent, marked late, for the panel to decide (ParolePolicy)."""
    reasons = []
    if forwarded_on > vps_due_on:
        reasons.append(f"after the deadline of {vps_due_on}")
    if hearing_on is not None:
        latest = hearing_on - timedelta(days=policy.vps_days_before_hearing)
        if forwarded_on > latest:
            reasons.append(
                f"less than {policy.vps_days_before_hearing} days before the hearing on "
                f"{hearing_on}"
            )
    return " and ".join(reasons) or None


def parole_review_id(case_ref: str, number: int) -> str:
    return f"vcs-parole-{case_ref}-{number}"


class VictimPersonalStatement(SQLModel, table=True):
    """A victim's VPS for one parole review. The words are encrypted at rest (models/sealed.py)
    and never leave the database except to the Parole Board: workflows carry only the ID."""

    id: int | None = DbField(default=None, primary_key=True)
    review_id: str = DbField(index=True, max_length=160)  # the review's workflow ID
    case_id: int = DbField(foreign_key="offendercase.id", index=True)
    victim_id: int = DbField(foreign_key="victim.id", index=True)
    text: str = DbField(sa_column=Column(SealedText("victim personal statement"), nullable=False))
    received_at: datetime
    received_by: str = DbField(max_length=60)
    forwarded_to: str | None = DbField(default=None, max_length=60)
    forwarded_at: datetime | None = None
    late: bool | None = None  # set when forwarded
    late_reason: str | None = DbField(default=None, max_length=200)  # dates only


# ---- messages --------------------------------------------------------------------------------


class ReferParole(VloAction):
    timetable: ParoleTimetable


def timetable_problems(
    timetable: ParoleTimetable,
    today: date,
    sentence_date: date,
    policy: ParolePolicy | None = None,
) -> list[str]:
    """Every way a referral's timetable cannot be right; empty when it can."""
    t = timetable
    found = []
    if t.referred_on > today:
        found.append(f"referral date {t.referred_on} is in the future")
    if t.referred_on < sentence_date:
        found.append(f"referral date {t.referred_on} is before the sentence date {sentence_date}")
    if t.vps_due_on < today:
        found.append(f"the VPS deadline {t.vps_due_on} has passed")
    if t.hearing_on is not None:
        found += hearing_problems(t.hearing_on, t.vps_due_on, today, policy or ParolePolicy())
    return found


def hearing_problems(
    hearing_on: date, vps_due_on: date, today: date, policy: ParolePolicy
) -> list[str]:
    """A hearing is listed for a day to come, at least 28 days after the VPS deadline: the VLO
    sends the VPS to the Board at least 28 days before the hearing (domain.md 'Parole'), so a
    deadline closer to the hearing would mark late every VPS sent by it."""
    if hearing_on < today:
        return [f"hearing date {hearing_on} is in the past"]
    days = policy.vps_days_before_hearing
    latest = hearing_on - timedelta(days=days)
    if vps_due_on > latest:
        return [
            f"the VPS deadline {vps_due_on} is less than {days} days before the hearing on "
            f"{hearing_on}: a VPS goes to the Parole Board at least {days} days before the "
            f"hearing (domain.md 'Parole'), so the deadline must be {latest} or earlier"
        ]
    return []


class ReviewAction(VloAction):
    """A step on one of a case's Parole Board reviews: the case's workflow holds them."""

    review_id: str = Field(min_length=1, max_length=160)


class SubmitVps(ReviewAction):
    victim_id: int
    vps_id: int
    # A VPS must not say whether the prisoner should be released (domain.md 'Parole'): no
    # program can tell, so the VLO confirms they have read it and it does not.
    checked_no_release_view: bool


class SubmitParoleRepresentations(ReviewAction):
    victim_id: int
    representation_id: int


class ParoleVictimAction(ReviewAction):
    victim_id: int


class RecordReadDecision(ReviewAction):
    victim_id: int
    granted: bool


class SetHearing(ReviewAction):
    hearing_on: date
    oral_hearing: bool = True


class AdjournHearing(ReviewAction):
    # The new hearing date; None when no hearing is listed yet and the Board defers only the
    # deadline (then vps_due_on is required).
    hearing_on: date | None = None
    vps_due_on: date | None = None  # a new deadline, if the Board set one


class RecordParoleDecision(ReviewAction):
    outcome: ParoleOutcome
    decided_on: date
    next_review_on: date | None = None  # no release: when the next review is


class ParoleDecided(BaseModel):
    """The review tells its case the outcome (signal `parole_outcome`)."""

    review_id: str
    outcome: ParoleOutcome
    decided_on: date
    next_review_on: date | None = None


class ForwardVps(BaseModel):
    idempotency_key: str
    case_id: int
    review_id: str
    victim_id: int
    vps_id: int
    late_reason: str | None
    by: str


class ParoleInput(BaseModel):
    case_ref: str
    case_id: int
    case_workflow_id: str
    responsible_vlo: str
    provider: str = "NPS"
    region: str = ""
    referred_by: str
    policy: Policy
    parole: ParolePolicy = Field(default_factory=ParolePolicy)
    timetable: ParoleTimetable
    state: ParoleState | None = None  # set when the workflow continues as new


class ParoleView(BaseModel):
    review_id: str
    case_ref: str
    timetable: ParoleTimetable
    invited: list[int]
    statements: list[VpsReceived]
    read_applications: list[ReadApplication]
    deadline_passed: bool
    adjournments: int
    decision: ParoleDecisionRecord | None
    told: list[int]
    summaries: list[int]
    open_tasks: list[OpenTask]
    scheduled: list[tuple[date, str]]
    finished: bool
