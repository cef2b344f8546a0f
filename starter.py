"""The VLO's tool: register cases and victims, record what victims say, drive the scheme.

    python starter.py --help

Every command checks its input before changing anything, and prints one clear line on error.
Personal data goes straight into the case database; Temporal only ever sees IDs.
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from models.case import CaseRegistration, OffenceBase
from models.db import create_tables, make_engine
from models.errors import VcsError
from models.messages import (
    ActionResult,
    AddVictims,
    CaseInput,
    CaseView,
    CompleteTask,
    OptIn,
    OptOut,
    RecordConditions,
    RecordKeyStage,
    RecordMilestones,
    RecordRelease,
    SubmitRepresentations,
    VictimView,
)
from models.policy import current_policy
from models.records import LicenceConditionBase
from models.repository import (
    add_conditions,
    add_representation,
    add_victim,
    case_by_ref,
    find_victim,
    history,
    open_tasks,
    register_case,
    task_by_id,
    victim_case_ref,
    victims_of,
    withdraw_conditions,
    withdraw_representation,
)
from models.case import MilestoneDates
from models.victim import VictimBase
from models.vocabulary import (
    Channel,
    ConditionKind,
    ContactLevel,
    DisposalKind,
    KeyStage,
    Language,
    OffenceCategory,
    Provider,
    SentenceType,
)
from worker import TASK_QUEUE, connect
from workflows.case import CaseWorkflow, case_workflow_id
from workflows.victim import VictimWorkflow, victim_workflow_id


def update_error(err: WorkflowUpdateFailedError) -> VcsError:
    """The workflow's own reason for refusing, as one line."""
    cause = err.cause
    while cause is not None and getattr(cause, "cause", None) is not None:
        cause = cause.cause
    return VcsError(str(cause or err))


class Vcs:
    """What a VLO can do. The CLI is a thin layer over this; tests drive it directly."""

    def __init__(self, client: Client, engine: Engine, task_queue: str = TASK_QUEUE) -> None:
        self.client = client
        self.engine = engine
        self.task_queue = task_queue

    async def _update(self, workflow_id: str, update: Any, arg: Any) -> Any:
        try:
            return await self.client.get_workflow_handle(workflow_id).execute_update(update, arg)
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None

    async def register_case(self, registration: CaseRegistration, by: str) -> tuple[str, list[str], bool]:
        """Register the case and start its workflow (or find both already there)."""
        registered = register_case(self.engine, registration, by)
        victim_wf_ids = await self._start_case(registration.case_ref, [], by)
        return case_workflow_id(registration.case_ref), victim_wf_ids, registered.created

    async def _start_case(self, case_ref: str, victim_ids: list[int], by: str) -> list[str]:
        """Update-with-start: the case workflow is started if it is not already running."""
        start = WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseInput(case_ref=case_ref, policy=current_policy()),
            id=case_workflow_id(case_ref),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Victim contact case {case_ref}",
        )
        try:
            result: list[str] = await self.client.execute_update_with_start_workflow(
                CaseWorkflow.add_victims,
                AddVictims(victim_ids=victim_ids, by=by),
                start_workflow_operation=start,
            )
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None
        return result

    async def add_victim(self, case_ref: str, victim: VictimBase, by: str) -> tuple[int, str]:
        row = add_victim(self.engine, case_ref, victim, by)
        assert row.id is not None
        await self._start_case(case_ref, [row.id], by)
        return row.id, victim_workflow_id(case_ref, row.id)

    async def ensure_victim(self, case_ref: str, victim: VictimBase, by: str) -> tuple[int, str]:
        """Add a victim unless already recorded (used by the demonstration, which re-runs)."""
        existing = find_victim(self.engine, case_ref, victim.full_name, victim.postcode)
        if existing is None:
            return await self.add_victim(case_ref, victim, by)
        assert existing.id is not None
        await self._start_case(case_ref, [existing.id], by)
        return existing.id, victim_workflow_id(case_ref, existing.id)

    def _victim_workflow(self, victim_id: int) -> str:
        return victim_workflow_id(victim_case_ref(self.engine, victim_id), victim_id)

    async def opt_in(self, victim_id: int, level: ContactLevel, by: str) -> ActionResult:
        return await self._update(self._victim_workflow(victim_id), VictimWorkflow.opt_in, OptIn(contact_level=level, by=by))  # type: ignore[no-any-return]

    async def opt_out(self, victim_id: int, by: str) -> ActionResult:
        return await self._update(self._victim_workflow(victim_id), VictimWorkflow.opt_out, OptOut(by=by))  # type: ignore[no-any-return]

    async def submit_representations(self, victim_id: int, text: str, by: str) -> ActionResult:
        workflow_id = self._victim_workflow(victim_id)
        rep_id = add_representation(self.engine, victim_id, text)
        try:
            return await self._update(  # type: ignore[no-any-return]
                workflow_id,
                VictimWorkflow.submit_representations,
                SubmitRepresentations(representation_id=rep_id, by=by),
            )
        except VcsError:
            withdraw_representation(self.engine, rep_id)
            raise

    async def record_conditions(
        self, case_ref: str, conditions: list[LicenceConditionBase], by: str
    ) -> ActionResult:
        ids = add_conditions(self.engine, case_ref, conditions)
        try:
            return await self._update(  # type: ignore[no-any-return]
                case_workflow_id(case_ref),
                CaseWorkflow.record_conditions,
                RecordConditions(condition_ids=ids, by=by),
            )
        except VcsError:
            withdraw_conditions(self.engine, ids)
            raise

    async def record_milestones(self, case_ref: str, changes: dict[str, date | None], by: str) -> ActionResult:
        current = MilestoneDates.model_validate(case_by_ref(self.engine, case_ref), from_attributes=True)
        milestones = current.model_copy(update=changes)
        return await self._update(  # type: ignore[no-any-return]
            case_workflow_id(case_ref),
            CaseWorkflow.record_milestones,
            RecordMilestones(milestones=milestones, by=by),
        )

    async def record_release(self, case_ref: str, on: date, by: str) -> ActionResult:
        case_by_ref(self.engine, case_ref)
        return await self._update(case_workflow_id(case_ref), CaseWorkflow.record_release, RecordRelease(on=on, by=by))  # type: ignore[no-any-return]

    async def record_key_stage(self, case_ref: str, stage: KeyStage, on: date, by: str) -> ActionResult:
        case_by_ref(self.engine, case_ref)
        return await self._update(  # type: ignore[no-any-return]
            case_workflow_id(case_ref), CaseWorkflow.record_key_stage, RecordKeyStage(key_stage=stage, on=on, by=by)
        )

    async def complete_task(self, task_id: int, by: str, outcome: str) -> ActionResult:
        task = task_by_id(self.engine, task_id)
        update = VictimWorkflow.complete_task if task.victim_id is not None else CaseWorkflow.complete_task
        return await self._update(task.workflow_id, update, CompleteTask(task_id=task_id, by=by, outcome=outcome))  # type: ignore[no-any-return]

    async def victim_view(self, victim_id: int) -> VictimView:
        return await self.client.get_workflow_handle(self._victim_workflow(victim_id)).query(VictimWorkflow.view)  # type: ignore[no-any-return]

    async def case_view(self, case_ref: str) -> CaseView:
        case_by_ref(self.engine, case_ref)
        return await self.client.get_workflow_handle(case_workflow_id(case_ref)).query(CaseWorkflow.view)  # type: ignore[no-any-return]
