"""A provider hand-off as its case's workflow holds it (workflows/handoff_path.py): IDs, steps,
VLO user names and dates only. The rules it follows are in models/handoff.py."""

from datetime import date

from pydantic import BaseModel

from models.handoff import HandoffEscalation, HandoffInput, WithdrawalReason
from models.vocabulary import HandoffStep


class HandoffState(BaseModel):
    params: HandoffInput
    step: HandoffStep = HandoffStep.REQUESTED
    step_due: date | None = None
    step_task_id: int | None = None  # the current step's task (supply, or accept)
    open_task_ids: list[int] = []  # that task and its escalations, while open
    escalations: list[HandoffEscalation] = []
    history: list[str] = []
    withdrawn_reason: WithdrawalReason | None = None

    @property
    def handoff_id(self) -> str:
        return self.params.handoff_id
