"""A VLO's work on a case: register it, add victims, record what they say and what happens."""

import asyncio
from datetime import date
from typing import Any

from models.case import CaseRegistration, MilestoneDates
from models.case_repository import (
    add_conditions,
    eligibility_of,
    register_case,
    withdraw_conditions,
)
from models.eligibility import EligibilityDecision
from models.errors import UnavailableError, VcsError
from models.handoff import (
    bulk_workflow_id,
    handoff_of_task,
)
from models.lookups import record_victim, task_and_case
from models.messages import (
    ActionResult,
    CompleteTask,
    OptIn,
    OptOut,
    RecordConditions,
    RecordKeyStage,
    RecordMilestones,
    RecordRelease,
    SubmitRepresentations,
    VictimAdded,
)
from models.records import LicenceConditionBase
from models.representation_repository import (
    add_representation,
    find_representation,
    withdraw_representation,
)
from models.sharing import (
    RecordDhrDirection,
)
from models.task_repository import task_by_id
from models.victim import VictimBase
from models.vocabulary import (
    ContactLevel,
    KeyStage,
    TaskKind,
    TaskStatus,
)
from service.access import Action
from service.actor import Actor
from service.queries import checked
from service.temporal import ServiceBase
from workflows.bulk_transfer import BulkTransferWorkflow
from workflows.case import CaseWorkflow, case_workflow_id

TASK_SETTLE_ATTEMPTS = 8  # about 3.6 s in all


class CaseActions(ServiceBase):
    async def register_case(
        self, registration: CaseRegistration, actor: Actor
    ) -> tuple[str, list[VictimAdded], bool]:
        """Register the case and start its workflow (or find both already there): the
        workflow's ID, the victims added (none yet), and whether the case is new."""
        checked(self.engine, actor, Action.REGISTER_CASE, region=registration.region)
        registered = register_case(self.engine, registration, actor.id, await self.today())
        added = await self._start_case(registration.case_ref, [], actor, registered.case)
        return case_workflow_id(registration.case_ref), added, registered.created

    async def check_eligibility(
        self, registration: CaseRegistration, actor: Actor
    ) -> EligibilityDecision:
        """What registering would decide, and why, without registering (nothing is written)."""
        checked(self.engine, actor, Action.REGISTER_CASE, region=registration.region)
        return eligibility_of(registration, await self.today())

    async def add_victim(
        self, case_ref: str, victim: VictimBase, actor: Actor
    ) -> tuple[int, VictimAdded]:
        """Add a victim to the case and its workflow: the victim's ID, and the offer task their
        path opened with its due date. A victim recorded by an earlier attempt the workflow
        never took in (the worker was down) is picked up; other duplicates are refused."""
        victim_id, case = record_victim(
            self.engine, case_ref, victim, actor.id, self._allowed(actor, Action.ADD_VICTIM)
        )
        [added] = await self._start_case(case_ref, [victim_id], actor, case)
        return victim_id, added

    async def ensure_victim(
        self, case_ref: str, victim: VictimBase, actor: Actor
    ) -> tuple[int, VictimAdded]:
        """Add a victim unless already recorded (used by the demonstration, which re-runs)."""
        victim_id, case = record_victim(
            self.engine,
            case_ref,
            victim,
            actor.id,
            self._allowed(actor, Action.ADD_VICTIM),
            keep_existing=True,
        )
        [added] = await self._start_case(case_ref, [victim_id], actor, case)
        return victim_id, added

    async def opt_in(self, victim_id: int, level: ContactLevel, actor: Actor) -> ActionResult:
        return await self._update(
            self._victim(actor, Action.OPT_IN, victim_id),
            CaseWorkflow.opt_in,
            OptIn(victim_id=victim_id, contact_level=level, by=actor.id),
        )

    async def opt_out(self, victim_id: int, actor: Actor) -> ActionResult:
        return await self._update(
            self._victim(actor, Action.OPT_OUT, victim_id),
            CaseWorkflow.opt_out,
            OptOut(victim_id=victim_id, by=actor.id),
        )

    async def submit_representations(self, victim_id: int, text: str, actor: Actor) -> ActionResult:
        workflow_id = self._victim(actor, Action.SUBMIT_REPRESENTATIONS, victim_id)
        # A VLO repeating the command after a time-out must not forward the words twice: the
        # same words from the same victim, not yet refused, are the same representation.
        rep_id = find_representation(self.engine, victim_id, text)
        if rep_id is None:
            rep_id = add_representation(self.engine, victim_id, text)
        try:
            return await self._update(
                workflow_id,
                CaseWorkflow.submit_representations,
                SubmitRepresentations(victim_id=victim_id, representation_id=rep_id, by=actor.id),
            )
        except UnavailableError:
            raise  # the update may still land: keep the row it refers to
        except VcsError as err:
            if "already submitted" in str(err):
                return ActionResult(message=f"representation {rep_id} was already submitted")
            withdraw_representation(self.engine, rep_id)
            raise

    async def record_conditions(
        self, case_ref: str, conditions: list[LicenceConditionBase], actor: Actor
    ) -> ActionResult:
        self._case(actor, Action.RECORD_CONDITIONS, case_ref)
        ids = add_conditions(self.engine, case_ref, conditions)
        try:
            return await self._update(
                case_workflow_id(case_ref),
                CaseWorkflow.record_conditions,
                RecordConditions(condition_ids=ids, by=actor.id),
            )
        except UnavailableError:
            raise  # the update may still land: keep the rows it refers to
        except VcsError:
            withdraw_conditions(self.engine, ids)
            raise

    async def record_milestones(
        self, case_ref: str, changes: dict[str, date | None], actor: Actor
    ) -> ActionResult:
        current = MilestoneDates.model_validate(
            self._case(actor, Action.RECORD_MILESTONES, case_ref), from_attributes=True
        )
        milestones = current.model_copy(update=changes)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_milestones,
            RecordMilestones(milestones=milestones, by=actor.id),
        )

    async def record_release(self, case_ref: str, on: date, actor: Actor) -> ActionResult:
        self._case(actor, Action.RECORD_RELEASE, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_release,
            RecordRelease(on=on, by=actor.id),
        )

    async def record_key_stage(
        self, case_ref: str, stage: KeyStage, on: date, actor: Actor
    ) -> ActionResult:
        self._case(actor, Action.RECORD_KEY_STAGE, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_key_stage,
            RecordKeyStage(key_stage=stage, on=on, by=actor.id),
        )

    async def complete_task(self, task_id: int, actor: Actor, outcome: str) -> ActionResult:
        task, case = task_and_case(self.engine, task_id)
        # A task of a victim, a parole review or a hand-off (completing its supply or accept
        # task does that step, so it is checked as that step is) is answered by the case's
        # workflow; a bulk transfer's escalation (which says what closes it) by the bulk's.
        update: Any = CaseWorkflow.complete_task
        handoff_id = handoff_of_task(task.task_key)
        if handoff_id is not None and task.kind is TaskKind.HANDOFF_SUPPLY:
            self._handoff_supplier(actor, handoff_id)
        elif handoff_id is not None and task.kind is TaskKind.HANDOFF_ACCEPT:
            self._handoff_accepter(actor, handoff_id)
        else:
            checked(self.engine, actor, Action.COMPLETE_TASK, case)
        if handoff_id is not None:
            self._refuse_if_ended(handoff_id, "completed")
        elif task.workflow_id.startswith(bulk_workflow_id("")):
            update = BulkTransferWorkflow.complete_task
        action = CompleteTask(
            task_id=task_id, by=actor.id, outcome=outcome, victim_id=task.victim_id
        )
        # A task is listed as soon as its row is committed, a moment before its workflow has
        # taken in the activity's result: a VLO acting at once is not refused for that.
        for attempt in range(TASK_SETTLE_ATTEMPTS):
            try:
                return await self._update(task.workflow_id, update, action)
            except UnavailableError:
                raise
            except VcsError as err:
                still_open = task_by_id(self.engine, task_id).status is TaskStatus.OPEN
                last = attempt == TASK_SETTLE_ATTEMPTS - 1
                if "not an open task" not in str(err) or not still_open or last:
                    raise
                await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    async def record_dhr_direction(
        self, case_ref: str, reviewed_by: str, directed_on: date, due_on: date, actor: Actor
    ) -> ActionResult:
        """DVCVA 2004 s 9: a direction to take part in a domestic homicide review."""
        self._case(actor, Action.RECORD_DHR, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_dhr_direction,
            RecordDhrDirection(
                reviewed_by=reviewed_by, directed_on=directed_on, due_on=due_on, by=actor.id
            ),
        )
