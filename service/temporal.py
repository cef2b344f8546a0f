"""The service's footing: the Temporal calls every action makes, and how their failures read."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.service import RPCError, RPCStatusCode

from models.case import MilestoneDates, OffenderCase
from models.case_repository import case_by_ref
from models.db import session_scope
from models.errors import UnavailableError, VcsError
from models.handoff import (
    CaseHandoff,
)
from models.hospital import status_of
from models.key_stages import case_stage
from models.lookups import case_of_victim, task_and_case
from models.messages import ActionResult, AddVictims, CaseView, VictimAdded, VictimView
from models.policy import current_policy
from models.records import VloTask
from models.search import initial_search_attributes
from models.workflow_state import CaseInput, CaseState
from models.working_days import london_today
from service.access import Action
from service.actor import Actor
from service.queries import checked
from worker import TASK_QUEUE
from workflows.case import CaseWorkflow, case_workflow_id

# How long a VLO waits for the engine to take an action before being told to try again.
UPDATE_TIMEOUT = timedelta(seconds=30)
NO_WORKER = (
    "no worker answered within 30 s: the action may still be carried out when the worker "
    "runs; start it (bin/run-demo), then check or repeat the command (repeating is safe)"
)


def update_error(err: WorkflowUpdateFailedError) -> VcsError:
    """The workflow's own reason for refusing, as one line."""
    cause: BaseException | None = err.cause
    while isinstance(cause, TemporalError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return VcsError(cause.message)
    return VcsError(str(cause or err))


BUSY = "the case is busy with other actions: nothing was changed; try again in a moment"


def unavailable(err: RPCError, workflow_id: str) -> VcsError:
    if err.status is RPCStatusCode.NOT_FOUND:
        return VcsError(f"workflow {workflow_id} is not running (closed, or never started)")
    if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        return UnavailableError(NO_WORKER)
    if err.status is RPCStatusCode.RESOURCE_EXHAUSTED:
        # Temporal takes at most 10 updates in flight per workflow: a case's victims share one,
        # so many VLOs acting on one case at once can meet it. Not an outage.
        return UnavailableError(BUSY)
    return UnavailableError(f"cannot reach Temporal ({err.message}): nothing was changed")


class ServiceBase:
    """The Temporal client and the case database every action uses."""

    def __init__(self, client: Client, engine: Engine, task_queue: str = TASK_QUEUE) -> None:
        self.client = client
        self.engine = engine
        self.task_queue = task_queue

    async def today(self) -> date:
        """The day as the workflows see it (Europe/London); a test on a time-skipping server
        follows its clock instead (tests/conftest.py)."""
        return london_today()

    async def _update(self, workflow_id: str, update: Any, arg: Any) -> ActionResult:
        try:
            result = await self.client.get_workflow_handle(workflow_id).execute_update(
                update, arg, rpc_timeout=UPDATE_TIMEOUT
            )
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise UnavailableError(NO_WORKER) from None
        except RPCError as err:
            raise unavailable(err, workflow_id) from None
        assert isinstance(result, ActionResult)
        return result

    async def _start_case(
        self, case_ref: str, victim_ids: list[int], actor: Actor, case: OffenderCase
    ) -> list[VictimAdded]:
        """Update-with-start: the case workflow is started if it is not already running; each
        victim named is added to it (the answer: their offer task and its due date). `case`:
        its row, as the action just read it."""
        start = WithStartWorkflowOperation(
            CaseWorkflow.run,
            CaseInput(case_ref=case_ref, policy=current_policy()),
            id=case_workflow_id(case_ref),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Victim contact case {case_ref}",
            search_attributes=self._first_search_attributes(case),
        )
        try:
            result: list[VictimAdded] = await self.client.execute_update_with_start_workflow(
                CaseWorkflow.add_victims,
                AddVictims(victim_ids=victim_ids, by=actor.id),
                start_workflow_operation=start,
                rpc_timeout=UPDATE_TIMEOUT,
            )
        except WorkflowUpdateFailedError as err:
            raise update_error(err) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise UnavailableError(NO_WORKER) from None
        except RPCError as err:
            raise unavailable(err, case_workflow_id(case_ref)) from None
        return result

    def _first_search_attributes(self, case: OffenderCase) -> TypedSearchAttributes:
        """What the case's workflow would publish first (models/search.py), set as it starts:
        no upsert until something changes. Ignored when the workflow is running already."""
        state = CaseState(
            milestones=MilestoneDates.model_validate(case, from_attributes=True),
            hospital=status_of(case),
        )
        return initial_search_attributes(
            case_ref=case.case_ref,
            stage=case_stage(state),
            provider=case.provider.value,
            region=case.region,
            next_deadline=None,
        )

    def _case(self, actor: Actor, action: Action, case_ref: str) -> OffenderCase:
        """The case, once the actor is allowed this action on it (service/access.py)."""
        case = case_by_ref(self.engine, case_ref)
        checked(self.engine, actor, action, case)
        return case

    def _case_by_id(self, actor: Actor, action: Action, case_id: int) -> OffenderCase:
        with session_scope(self.engine) as session:
            case = session.get(OffenderCase, case_id)
            if case is None:
                raise VcsError(f"no case {case_id}")
            session.expunge(case)
        checked(self.engine, actor, action, case)
        return case

    def _victim(self, actor: Actor, action: Action, victim_id: int) -> str:
        """The workflow holding the victim (their case's), once the actor is allowed this
        action on their case."""
        case = case_of_victim(self.engine, victim_id)
        checked(self.engine, actor, action, case)
        return case_workflow_id(case.case_ref)

    def _task(self, actor: Actor, action: Action, task_id: int) -> VloTask:
        """The task, once the actor is allowed this action on its case."""
        task, case = task_and_case(self.engine, task_id)
        checked(self.engine, actor, action, case)
        return task

    def _allowed(self, actor: Actor, action: Action) -> Callable[[OffenderCase], None]:
        """The access check of an action that reads the case in its own transaction."""
        return lambda case: checked(self.engine, actor, action, case)

    def _refuse_if_ended(self, handoff_id: str, doing: str) -> None:
        """A hand-off that switched or was withdrawn has ended: say so from its row (its case
        holds only its latest hand-off)."""
        with session_scope(self.engine) as session:
            row = session.exec(
                select(CaseHandoff).where(CaseHandoff.handoff_id == handoff_id)
            ).first()
        refusal = row.ended_refusal(doing) if row is not None else None
        if refusal is not None:
            raise VcsError(refusal)

    def _handoff_row(self, handoff_id: str) -> tuple[CaseHandoff, str] | None:
        """The hand-off's row and its case's reference."""
        with session_scope(self.engine) as session:
            found = session.exec(
                select(CaseHandoff, OffenderCase.case_ref)
                .join(OffenderCase, col(OffenderCase.id) == col(CaseHandoff.case_id))
                .where(CaseHandoff.handoff_id == handoff_id)
            ).first()
            if found is not None:
                session.expunge(found[0])
        return (found[0], found[1]) if found is not None else None

    def _handoff_case(
        self, actor: Actor, action: Action, handoff_id: str, *, receiving: bool = False
    ) -> str:
        """The workflow of the hand-off's case, once the actor is checked against that case,
        or (`receiving`) against the region it goes to: the receiving side accepts it (local
        policy). An unknown hand-off is refused once the actor may take the action at all."""
        row = self._handoff_row(handoff_id)
        if row is None:
            checked(self.engine, actor, action)
            raise VcsError(f"no hand-off {handoff_id}")
        handoff, case_ref = row
        if receiving:
            checked(self.engine, actor, action, region=handoff.to_region)
        else:
            self._case_by_id(actor, action, handoff.case_id)
        return case_workflow_id(case_ref)

    def _handoff_supplier(self, actor: Actor, handoff_id: str) -> str:
        """The workflow of the hand-off's case, once the actor may supply its case information
        (the sending side): by `handoff supply` or by completing its supply task alike."""
        return self._handoff_case(actor, Action.HAND_OFF, handoff_id)

    def _handoff_accepter(self, actor: Actor, handoff_id: str) -> str:
        """The workflow of the hand-off's case, once the actor may accept it (the receiving
        side): by `handoff accept` or by completing its accept task alike."""
        return self._handoff_case(actor, Action.ACCEPT_HANDOFF, handoff_id, receiving=True)

    async def victim_view(self, victim_id: int, actor: Actor) -> VictimView:
        workflow_id = self._victim(actor, Action.VIEW_CASE, victim_id)
        try:
            view: VictimView = await self.client.get_workflow_handle(workflow_id).query(
                CaseWorkflow.victim_view, victim_id
            )
        except WorkflowQueryFailedError as err:
            # Recorded, but not yet taken in by the case (the worker was down): add-victim again.
            raise VcsError(str(err)) from None
        return view

    async def case_view(self, case_ref: str, actor: Actor) -> CaseView:
        self._case(actor, Action.VIEW_CASE, case_ref)
        return await self._case_view(case_ref)

    async def _case_view(self, case_ref: str) -> CaseView:
        return await self.client.get_workflow_handle(case_workflow_id(case_ref)).query(
            CaseWorkflow.view
        )
