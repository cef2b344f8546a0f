"""What the case workflow carries (workflows/case.py, with each victim's path in it): its input,
its state and each victim's, the events the case tells its victims, a hospital path's status.
IDs, dates and stages only: never a victim's name, address or words (those stay in the case
database)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from models.case import MilestoneDates
from models.eligibility import hospital_path
from models.handoff_state import HandoffState
from models.policy import Policy
from models.review import ParoleState
from models.tasks import OpenTask
from models.vocabulary import (
    ContactLevel,
    DischargeKind,
    DisposalKind,
    HospitalPath,
    KeyStage,
    LetterKind,
    Stage,
)

# ---- hospital paths (models/hospital.py has the rules) -------------------------------------


class HospitalStatus(BaseModel):
    """Where a hospital-path case stands, as workflows carry it: IDs, flags and dates only (the
    hospital's name and address stay in the Hospital table)."""

    disposal: DisposalKind
    restricted: bool  # restriction order / limitation direction / restriction direction
    restriction_ends_on: date | None = None
    hospital_id: int | None = None  # None: not yet recorded (s 36A / s 42A notices wait)
    placement: int = 0  # 1 for the first hospital recorded, +1 per move: keys re-notification
    discharge: DischargeKind | None = None
    discharged_on: date | None = None

    @property
    def path(self) -> HospitalPath:
        """DVCVA 2004: s 36 hospital order, s 39 hospital direction, s 42 transfer direction."""
        path = hospital_path(self.disposal, self.restricted)
        assert path is not None, "a hospital status has a hospital disposal"
        return path

    def restriction_in_force(self, on: date) -> bool:
        """DVCVA s 37 / s 40 / s 43: the restriction applies until the date it ceases."""
        ends = self.restriction_ends_on
        return self.restricted and (ends is None or on < ends)


# ---- case events fanned out to victims ---------------------------------------------------


class ConditionNotice(BaseModel):
    condition_id: int
    victim_related: bool
    ends_on: date | None = None
    starts_on: date | None = None  # None in histories recorded before it was carried


class CaseEvent(BaseModel):
    kind: Literal[
        "milestones_changed", "conditions_imposed", "released", "key_stage", "ended", "hospital"
    ]
    sequence: int  # per case, so every letter a victim gets from it has a stable key
    milestones: MilestoneDates
    conditions: list[ConditionNotice] = Field(default_factory=list)
    key_stage: KeyStage | None = None
    on: date | None = None
    re_release: bool = False  # "released": released again after a recall
    # "hospital": the case's hospital status now (None: remitted to prison, custodial again)
    hospital: HospitalStatus | None = None
    # "hospital": news passed on under DVCVA s 37(4)-(7) (ss 40, 43): models/hospital.py
    hospital_news: Literal["restriction_lifted", "restriction_varied", "tribunal_application"] | (
        None
    ) = None


# ---- workflow inputs and state -------------------------------------------------------------


class HeldLetter(BaseModel):
    """A letter whose sending day could give away a release (or discharge) day, to be sent on
    `send_on`, a day that depends on the month alone; the other fields go into the letter."""

    key: str
    kind: LetterKind
    send_on: date
    release_on: date | None = None
    discharge: DischargeKind | None = None
    restriction_ends_on: date | None = None
    condition_ids: list[int] = Field(default_factory=list)


class VictimState(BaseModel):
    stage: Stage = Stage.IDENTIFIED
    milestones: MilestoneDates
    conditions: list[ConditionNotice] = Field(default_factory=list)
    offer_due: date
    offered_on: date | None = None
    chase_on: date | None = None
    chased: bool = False
    close_offer_on: date | None = None
    contact_level: ContactLevel | None = None
    opted_in_on: date | None = None
    opt_ins: int = 0  # how many times the victim has opted in (they may leave and come back)
    representations_invited_on: date | None = None
    representations_due: date | None = None  # the VLO's deadline (never shown to the victim)
    representations_reply_by: date | None = None  # the date the victim was given
    representations_reply_by_given_on: date | None = None  # the day they were given it
    representations_redated: int = 0  # letters giving a new reply-by date
    representation_ids: list[int] = Field(default_factory=list)
    conditions_told: list[int] = Field(default_factory=list)
    condition_ends_told: list[int] = Field(default_factory=list)
    release_told: bool = False
    # Letters about a release or discharge, held until a day that depends on its month only
    # (models/release_month.py).
    held_letters: list[HeldLetter] = Field(default_factory=list)
    next_annual_letter: date | None = None
    tasks: list[OpenTask] = Field(default_factory=list)
    # Hospital paths (DVCVA ss 36-44A): the status, the s 36A / s 42A notices to the hospital
    # managers already made (their keys), and the placements whose details the victim has had.
    hospital: HospitalStatus | None = None
    hospital_notices: list[str] = Field(default_factory=list)
    hospital_details_told: list[int] = Field(default_factory=list)
    hospital_notice_requests: int = 0
    discharges_told: list[date] = Field(default_factory=list)


class VictimInput(BaseModel):
    case_ref: str
    case_id: int
    victim_id: int
    responsible_vlo: str
    provider: str = "NPS"
    region: str = ""
    policy: Policy
    milestones: MilestoneDates
    conditions: list[ConditionNotice] = Field(default_factory=list)
    state: VictimState | None = None  # set when the workflow continues as new
    hospital: HospitalStatus | None = None  # a hospital-path case (DVCVA ss 36-44A)


class CaseState(BaseModel):
    milestones: MilestoneDates
    victim_ids: list[int] = Field(default_factory=list)
    # Each victim's path (workflows/victim_path.py): IDs, stages and dates only.
    victims: dict[int, VictimState] = Field(default_factory=dict)
    conditions: list[ConditionNotice] = Field(default_factory=list)
    key_stages: list[tuple[KeyStage, date]] = Field(default_factory=list)
    event_sequence: int = 0
    tasks: list[OpenTask] = Field(default_factory=list)
    closed: bool = False
    open_handoff: str | None = None  # hand-offs (workflows/handoff_path.py): the open one's ID,
    handoff_requests: int = 0  # how many were asked for,
    handoff: HandoffState | None = None  # and the latest, open or ended
    # CRC-reported key events already recorded: (kind, occurred on).
    crc_events: list[tuple[str, date]] = Field(default_factory=list)
    # Hospital paths (models/hospital.py): the status now (None: custodial), and how many
    # hospitals the patient has been placed in (each placement is notified once).
    hospital: HospitalStatus | None = None
    hospital_placements: int = 0
    # Where the offender is (models/key_stages.py): recalled to custody since (until released
    # again); unlawfully at large since an escape or absconding (until returned to custody).
    recalled_on: date | None = None
    at_large_since: date | None = None
    # Parole Board reviews (workflows/case_parole.py, held in this state): how many were
    # referred, the one open now, each decision (review ID, outcome, decided on), and the next
    # review's date.
    parole_reviews: int = 0
    open_parole_review: str | None = None
    # Each review the case holds (workflows/review_path.py), by its ID, until it has ended.
    reviews: dict[str, ParoleState] = Field(default_factory=dict)
    parole_decisions: list[tuple[str, str, date]] = Field(default_factory=list)
    next_parole_review_on: date | None = None
    # The task preparing victims for the review due at the parole eligibility date (tariff
    # expiry) has been opened, or was not needed (a review open then): once in a case
    # (workflows/case.py).
    parole_preparation_done: bool = False


class CaseInput(BaseModel):
    case_ref: str
    policy: Policy
    state: CaseState | None = None
    case_id: int | None = None
    responsible_vlo: str | None = None
    provider: str = "NPS"
    region: str = ""


class CaseSnapshot(BaseModel):
    case_id: int
    case_ref: str
    responsible_vlo: str
    provider: str
    region: str
    milestones: MilestoneDates
    victim_ids: list[int]
    hospital: HospitalStatus | None = None
