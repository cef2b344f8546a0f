"""A Parole Board review as the case workflow holds it (workflows/review_path.py): its
timetable, what was received and decided, its open tasks. IDs, dates and enums only: the VPS's
words stay in the case database (models/parole.py)."""

from datetime import date

from pydantic import BaseModel, Field

from models.tasks import OpenTask
from models.vocabulary import ParoleOutcome


class ParoleTimetable(BaseModel):
    """The Parole Board's timetable for a review, as the VLO records it."""

    referred_on: date
    vps_due_on: date  # for the VPS and representations on licence conditions
    hearing_on: date | None = None
    oral_hearing: bool = True


class VpsReceived(BaseModel):
    victim_id: int
    vps_id: int
    received_on: date
    late_reason: str | None = None


class ReadApplication(BaseModel):
    victim_id: int
    applied_on: date
    granted: bool | None = None  # None: the Board has not decided


class ParoleDecisionRecord(BaseModel):
    outcome: ParoleOutcome
    decided_on: date
    next_review_on: date | None = None


class ParoleState(BaseModel):
    timetable: ParoleTimetable
    invited: list[int] = Field(default_factory=list)
    statements: list[VpsReceived] = Field(default_factory=list)
    representation_ids: list[int] = Field(default_factory=list)
    read_applications: list[ReadApplication] = Field(default_factory=list)
    deadline_passed: bool = False
    adjournments: int = 0
    decision_chased: bool = False
    decision: ParoleDecisionRecord | None = None
    told: list[int] = Field(default_factory=list)  # victims told the outcome
    summaries: list[int] = Field(default_factory=list)  # victims who asked for a summary
    tasks: list[OpenTask] = Field(default_factory=list)
    finished: bool = False
