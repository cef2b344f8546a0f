"""What the service and the case workflow exchange: the VLO's actions (updates), their
results, and the views (queries). IDs, dates and stages only: never a victim's name, address or
words (those stay in the case database)."""

from datetime import date

from pydantic import BaseModel, Field

from models.case import MilestoneDates
from models.tasks import OpenTask
from models.vocabulary import (
    ContactLevel,
    KeyStage,
    Stage,
)
from models.workflow_state import (
    HospitalStatus,
)

# ---- VLO actions (updates) -------------------------------------------------------------------


class VloAction(BaseModel):
    by: str = Field(min_length=2, max_length=60)


class AddVictims(VloAction):
    """Add each new victim to the case (their path opens the offer task); an empty list
    changes nothing."""

    victim_ids: list[int] = Field(default_factory=list)


class VictimAdded(BaseModel):
    """A victim on the case, as adding them answered: the offer task their path opened (None
    once it is done) and when it is due (Victims' Code Right 11)."""

    victim_id: int
    offer_task_id: int | None = None
    offer_due: date | None = None


class RecordMilestones(VloAction):
    milestones: MilestoneDates


class RecordRelease(VloAction):
    on: date


class RecordConditions(VloAction):
    condition_ids: list[int] = Field(min_length=1)


class RecordKeyStage(VloAction):
    key_stage: KeyStage
    on: date


class VictimAction(VloAction):
    """A VLO's action for one victim of the case (workflows/victim_path.py)."""

    victim_id: int


class OptIn(VictimAction):
    contact_level: ContactLevel


class OptOut(VictimAction):
    pass


class SubmitRepresentations(VictimAction):
    representation_id: int


class CompleteTask(VloAction):
    task_id: int
    outcome: str = Field(default="done", max_length=500)
    # A victim's task (the case's workflow holds the victim: workflows/case_victims.py).
    victim_id: int | None = None


class ActionResult(BaseModel):
    message: str


# ---- queries ------------------------------------------------------------------------------


class Scheduled(BaseModel):
    on: date
    what: str


class VictimView(BaseModel):
    victim_id: int
    stage: Stage
    contact_level: ContactLevel | None
    open_tasks: list[OpenTask]
    scheduled: list[Scheduled]
    # who is responsible now (a provider hand-off switches them)
    responsible_vlo: str = ""
    provider: str = ""
    region: str = ""
    hospital: HospitalStatus | None = None  # a hospital path (DVCVA ss 36-44A)
    representation_ids: list[int] = Field(default_factory=list)
    hospital_notices: list[str] = Field(default_factory=list)


class CaseView(BaseModel):
    case_ref: str
    milestones: MilestoneDates
    victim_ids: list[int]
    open_tasks: list[OpenTask]
    scheduled: list[Scheduled]
    closed: bool
    responsible_vlo: str = ""
    provider: str = ""
    region: str = ""
    open_handoff: str | None = None
    hospital: HospitalStatus | None = None  # a hospital path (DVCVA ss 36-44A)
    custody: str = ""  # in_custody, on_licence, unlawfully_at_large (models/key_stages.py)
    key_stages: list[tuple[KeyStage, date]] = Field(default_factory=list)
    # Parole Board reviews: the one open now, and the latest (open or decided).
    open_parole_review: str | None = None
    latest_parole_review: str | None = None
