"""The scheduled jobs' records and messages: the daily reconciliation of VLO tasks and the
retention job's proof of erasure.

Neither table holds personal data: task IDs, case references, task kinds, dates, assignees,
counts and row IDs only. The messages are what the two workflows and their activities exchange,
so they too carry IDs, dates and counts, never a victim's name, address or words.
"""

from datetime import date, datetime

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.vocabulary import TaskKind

# What an erased personal field reads afterwards (a field that may be empty becomes None).
ERASED = "[erased]"


# ---- tables ----------------------------------------------------------------------------------


class ReconciliationReport(SQLModel, table=True):
    """One row per open VLO task due on or before the report date, per daily run. A re-run for
    the same date replaces that date's rows (the unique key forbids duplicates)."""

    __table_args__ = (UniqueConstraint("report_date", "task_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_date: date = Field(index=True)
    region: str = Field(index=True, max_length=60)
    task_id: int = Field(foreign_key="vlotask.id")
    case_ref: str = Field(max_length=40)
    kind: TaskKind
    due_on: date
    assigned_to: str = Field(max_length=60)
    escalation_level: int = 0
    escalated: bool = False
    overdue: bool  # due before the report date (a task falls overdue the day after it is due)
    days_overdue: int = 0  # calendar days
    generated_at: datetime


class ErasureRecord(SQLModel, table=True):
    """Proof of what the retention job erased for one closed case, and the check made after:
    every row was re-read and no personal field was left."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", unique=True)
    case_ref: str = Field(max_length=40)
    closed_at: datetime
    retention_days: int
    erased_at: datetime
    erased_by: str = Field(max_length=60)
    victims: int = 0
    representations: int = 0
    licence_conditions: int = 0
    correspondence: int = 0
    victim_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    representation_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    licence_condition_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    correspondence_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    verified: bool | None = None  # None: erased, not yet checked
    verified_at: datetime | None = None
    verification: str = Field(default="pending", max_length=2000)  # field names and IDs only


# ---- the daily reconciliation ----------------------------------------------------------------


class ReconciliationInput(BaseModel):
    """None: the workflow's today (in London, like every deadline in the engine)."""

    report_date: date | None = None


class RegionSummary(BaseModel):
    region: str
    due_today: int
    overdue: int
    files: list[str] = PydanticField(default_factory=list)  # CSV file names (no folder)


class ReconciliationResult(BaseModel):
    report_date: date
    tasks: int
    overdue: int
    regions: list[RegionSummary]


# ---- retention --------------------------------------------------------------------------------


class RetentionProgress(BaseModel):
    """Totals carried across continue-as-new."""

    cases_erased: int = 0
    victims: int = 0
    representations: int = 0
    licence_conditions: int = 0
    correspondence: int = 0
    failed_case_ids: list[int] = PydanticField(default_factory=list)


class RetentionInput(BaseModel):
    """All optional: a scheduled run uses the configured period and the workflow's clock."""

    retention_days: int | None = PydanticField(default=None, ge=1)
    as_of: datetime | None = None
    batch_size: int = PydanticField(default=50, ge=1, le=1000)
    after_case_id: int = 0  # cursor: cases are visited in ID order, each once per run
    progress: RetentionProgress = PydanticField(default_factory=RetentionProgress)


class ExpiredCasesQuery(BaseModel):
    as_of: datetime
    retention_days: int | None = None
    after_case_id: int = 0
    limit: int = 50


class ExpiredCases(BaseModel):
    retention_days: int
    cutoff: datetime  # cases closed at or before this are past the retention period
    case_ids: list[int]


class ErasureRequest(BaseModel):
    case_id: int
    retention_days: int
    cutoff: datetime
    by: str


class ErasureOutcome(BaseModel):
    case_id: int
    skipped: bool  # already erased and verified
    victims: int = 0
    representations: int = 0
    licence_conditions: int = 0
    correspondence: int = 0


class VerificationOutcome(BaseModel):
    case_id: int
    verified: bool
    problems: list[str]  # "victim 12: address not erased": field names and IDs only


class RetentionResult(BaseModel):
    retention_days: int
    cutoff: datetime
    progress: RetentionProgress
