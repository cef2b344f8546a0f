"""A workflow task's database steps, sent to the worker as one local activity
(activities/steps.py; workflows/steps.py): each names the activity that writes it and carries
that activity's request (IDs, kinds, dates only, as every activity's input)."""

from typing import Any

from pydantic import BaseModel


class Step(BaseModel):
    activity: str  # the name of the activity whose write this is, e.g. "close_tasks"
    request: dict[str, Any]  # its request, as JSON


class StepResult(BaseModel):
    value: int | None = None  # what the activity returns, if anything (a task's or letter's ID)
    rejected: bool = False  # a letter Notify refused (bad address or number): a VLO posts it
