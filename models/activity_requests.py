"""What workflows ask activities to write: tasks opened, closed and rescheduled, stage
changes, letters, forwarded representations, audit entries, milestones, a case closing. IDs,
dates and stages only: never a victim's name, address or words (those stay in the case
database)."""

from datetime import date

from pydantic import BaseModel, Field

from models.audit import AuditDetail
from models.case import MilestoneDates
from models.tasks import TaskOwner
from models.vocabulary import (
    ContactLevel,
    DischargeKind,
    KeyStage,
    LetterKind,
    Stage,
    TaskKind,
)

# ---- tasks ----------------------------------------------------------------------------------


class NewTask(BaseModel):
    owner: TaskOwner
    task_key: str
    kind: TaskKind
    title: str
    assigned_to: str
    due_on: date
    escalation_level: int = 0
    escalates_task_id: int | None = None


class TaskClosure(BaseModel):
    idempotency_key: str
    case_id: int
    task_ids: list[int]
    by: str
    outcome: str


class TaskReschedule(BaseModel):
    idempotency_key: str
    case_id: int
    task_id: int
    due_on: date
    reason: str


# ---- activity requests ------------------------------------------------------------------


class StageChange(BaseModel):
    idempotency_key: str
    case_id: int
    victim_id: int
    workflow_id: str
    stage: Stage
    by: str
    contact_level: ContactLevel | None = None
    offer_due: date | None = None
    offered_on: date | None = None
    opted_in_on: date | None = None
    opted_out_on: date | None = None
    note: str = ""


class LetterRequest(BaseModel):
    idempotency_key: str
    case_id: int
    victim_id: int
    kind: LetterKind
    release_on: date | None = None  # rendered as a month only: exact dates are never disclosed
    due_on: date | None = None
    condition_ids: list[int] = Field(default_factory=list)
    key_stage: KeyStage | None = None
    # Hospital paths: the hospital named (s 36A / s 42A), the date a restriction ceases (told
    # as a month: s 41(3), s 44(3)), and the kind of discharge.
    hospital_id: int | None = None
    restriction_ends_on: date | None = None
    discharge: DischargeKind | None = None
    # A Parole Board review refusing release: when the next review is (told as a month).
    next_review_on: date | None = None
    # A representations invitation giving a new reply-by date (the release date moved).
    redated: bool = False


class ForwardRepresentations(BaseModel):
    idempotency_key: str
    case_id: int
    victim_id: int
    representation_id: int
    decided_by: str
    by: str


class AuditRecord(BaseModel):
    idempotency_key: str
    case_id: int
    victim_id: int | None = None
    actor: str
    action: str
    detail: AuditDetail = Field(default_factory=AuditDetail)  # IDs, kinds and dates only
    note: str = ""  # words, if any: kept as a CaseNote the retention job erases


class SaveMilestones(BaseModel):
    idempotency_key: str
    case_id: int
    milestones: MilestoneDates
    by: str


class CaseClosure(BaseModel):
    idempotency_key: str
    case_id: int
    by: str
    reason: str = "licence and supervision ended"
