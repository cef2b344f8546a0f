"""A workflow task's database steps in one transaction (workflows/steps.py): one local
activity, one commit, the audit entries chained and sealed once (activities/audit_batch.py).

Each step is the activity it names, run unchanged inside this one transaction (its own
`session_scope` joins it: models/db.py `one_transaction`) and idempotent by its own key, so the
whole list tried again after a failure or a worker kill writes nothing twice. Letters are sent
through Notify only after the commit, each exactly once as `send_letter` sends it; one Notify
refused (a bad address or number) is reported for the workflow to open the undelivered task.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit_batch import audit_batch
from activities.case_store import CaseStoreActivities
from activities.hospital import HospitalActivities
from activities.letters import LetterActivities
from activities.notify import DEFAULT_TIMEOUT_SECONDS
from activities.parole import ParoleActivities
from activities.tasks import TaskActivities
from models.activity_requests import (
    AuditRecord,
    CaseClosure,
    ForwardRepresentations,
    LetterRequest,
    NewTask,
    SaveMilestones,
    StageChange,
    TaskClosure,
    TaskReschedule,
)
from models.db import one_transaction
from models.hospital import DisposalChange
from models.parole import ForwardVps
from models.steps import Step, StepResult
from models.vocabulary import Channel

# The activities a workflow may take as steps, with their requests' types: writes whose only
# result, if any, is an ID.
REQUESTS: dict[str, type[BaseModel]] = {
    "open_task": NewTask,
    "close_tasks": TaskClosure,
    "reschedule_task": TaskReschedule,
    "record_stage": StageChange,
    "save_milestones": SaveMilestones,
    "forward_representations": ForwardRepresentations,
    "record_audit": AuditRecord,
    "close_case": CaseClosure,
    "forward_vps": ForwardVps,
    "change_disposal": DisposalChange,
    "send_letter": LetterRequest,
}


def letters_time(steps: list[Step]) -> timedelta:
    """How much longer than a database transaction `apply` may take: each letter may wait for
    Notify twice (the look-up by reference, then the send), each up to its timeout, one after
    another after the commit. Without it a release told to many victims by email or text would
    outrun the steps' timeout and be tried again (sending nothing twice, but slowly)."""
    letters = sum(1 for step in steps if step.activity == "send_letter")
    return letters * 2 * timedelta(seconds=DEFAULT_TIMEOUT_SECONDS)


class StepsActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.letters = LetterActivities(engine)
        owners = [
            TaskActivities(engine),
            CaseStoreActivities(engine),
            ParoleActivities(engine),
            HospitalActivities(engine),
        ]
        self.writes: dict[str, Callable[[Any], int | None]] = {
            name: getattr(owner, name)
            for owner in owners
            for name in REQUESTS
            if hasattr(owner, name)
        }

    @activity.defn
    def apply(self, steps: list[Step]) -> list[StepResult]:
        results: list[StepResult] = []
        # Letters, sent after the commit.
        queued: list[tuple[StepResult, int, Channel, bool]] = []
        with one_transaction(self.engine) as session, audit_batch(session):
            for step in steps:
                request = REQUESTS[step.activity].model_validate(step.request)
                if isinstance(request, LetterRequest):
                    letter_id, channel, sent = self.letters.queue(request)
                    results.append(StepResult(value=letter_id))
                    queued.append((results[-1], letter_id, channel, sent))
                else:
                    results.append(StepResult(value=self.writes[step.activity](request)))
        for result, letter_id, channel, sent in queued:
            try:
                self.letters.deliver(letter_id, channel, sent)
            except ApplicationError as err:
                if err.type != "NotifyRejected":
                    raise  # retried: the letters already sent are found sent, none goes twice
                result.rejected = True
        return results
