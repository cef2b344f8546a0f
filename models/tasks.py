"""A VLO task as a workflow holds it (its row is in the VloTask table): IDs, kinds and dates."""

from datetime import date

from pydantic import BaseModel

from models.vocabulary import TaskKind


class OpenTask(BaseModel):
    key: str  # unique within its workflow
    task_id: int  # row in the VloTask table
    kind: TaskKind
    due_on: date
    escalation_level: int = 0
    escalated: bool = False
    escalates: str | None = None  # key of the task this one escalates


class TaskOwner(BaseModel):
    workflow_id: str
    case_id: int
    victim_id: int | None = None
    responsible_vlo: str
