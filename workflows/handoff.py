"""One provider hand-off of a case (ID vcs-handoff-<case ref>-<n>).

requested -> the sending provider supplies the case information the VLO needs -> the receiving
provider accepts -> responsibility switches on the case row, the case workflow and every victim
on it, and every open VLO task moves to the new VLO with its due date unchanged.

Each step has a service level (local policy, models/handoff.py HandoffPolicy). A missed one
opens an escalation task for the receiving provider's hand-off manager, then the next level
when that is missed too: the hand-off keeps waiting, but never silently.

A VLO may withdraw an open hand-off with a reason (the receiving provider refusing it is a
withdrawal with reason refused_by_receiver): its open tasks and their escalations close with
that reason, nothing switches, and the case may have another hand-off. Once responsibility is
switching (accepted) or switched it cannot be withdrawn: a new hand-off moves the case back.

A bulk transfer (the 2021 unification) starts hand-offs with `bulk_id` set: supply and accept
are then done at once by the engine, recorded as "bulk: unification".
Sources: domain.md "Providers and hand-offs"; 000_5a1d5e000983110f.txt; 003_532a1c7aa3a81105.txt.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStoreActivities
    from activities.tasks import TaskActivities
    from models.handoff import (
        BULK_ACTOR,
        ENDED_STEPS,
        HandoffAction,
        HandoffEscalation,
        HandoffFinished,
        HandoffInput,
        HandoffOpened,
        HandoffStepRecord,
        HandoffView,
        HandoffWithdrawal,
        HandoffWithdrawalRecord,
        HandoffWithdrawn,
        ResponsibilityChange,
        ResponsibilitySwitch,
        WithdrawalReason,
        handoff_manager,
        switched_refusal,
        withdrawn_refusal,
    )
    from models.messages import (
        ActionResult,
        CompleteTask,
        NewTask,
        OpenTask,
        TaskClosure,
        TaskOwner,
    )
    from models.vocabulary import HandoffStep, TaskKind
    from models.working_days import add_working_days, required

from workflows.case import case_workflow_id
from workflows.common import call, rejected, start_of, today

STEP_TASK = {
    HandoffStep.REQUESTED: (TaskKind.HANDOFF_SUPPLY, "Supply the case information for hand-off"),
    HandoffStep.SUPPLIED: (TaskKind.HANDOFF_ACCEPT, "Accept the case handed off"),
}


@workflow.defn(name="ProviderHandoff")
class HandoffWorkflow:
    @workflow.init
    def __init__(self, params: HandoffInput) -> None:
        self.params = params
        self.step = HandoffStep.REQUESTED
        self.step_due: date | None = None
        self.tasks: list[OpenTask] = []  # the current step's task and its escalations
        self.escalations: list[HandoffEscalation] = []
        self.history: list[str] = []
        self.lock = asyncio.Lock()
        self.changed = False
        self.started = False
        self.withdrawn_reason: WithdrawalReason | None = None

    @workflow.run
    async def run(self, params: HandoffInput) -> HandoffStep:
        case_handle = workflow.get_external_workflow_handle(case_workflow_id(params.case_ref))
        async with self.lock:
            self.history.append(f"{today()} requested by {params.requested_by}")
            with contextlib.suppress(Exception):  # the case has ended: the hand-off still runs
                await case_handle.signal("handoff_opened", HandoffOpened(handoff_id=self._id()))
            if params.bulk_id is not None:
                # A bulk transfer moves cases already agreed between providers: the steps are
                # recorded, by the engine, with no VLO work (003_532a1c7aa3a81105.txt).
                await self._supplied(BULK_ACTOR)
                await self._accepted(BULK_ACTOR)
            else:
                await self._open_step_task()
            self.started = True
        while self.step not in ENDED_STEPS:
            wake = self._next_escalation()
            timeout = start_of(wake) - workflow.now() if wake is not None else None
            if timeout is None or timeout > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self.changed, timeout=timeout)
            async with self.lock:
                self.changed = False
                await self._escalate_overdue()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if params.notify_workflow_id is not None:
            with contextlib.suppress(Exception):
                await workflow.get_external_workflow_handle(params.notify_workflow_id).signal(
                    "handoff_finished",
                    HandoffFinished(
                        handoff_id=self._id(),
                        case_ref=params.case_ref,
                        switched=self.step is HandoffStep.SWITCHED,
                        withdrawn=self.step is HandoffStep.WITHDRAWN,
                    ),
                )
        return self.step

    def _id(self) -> str:
        return workflow.info().workflow_id

    def _owner(self, vlo: str) -> TaskOwner:
        return TaskOwner(workflow_id=self._id(), case_id=self.params.case_id, responsible_vlo=vlo)

    # ---- steps -------------------------------------------------------------------------------

    async def _open_step_task(self) -> None:
        """The current step's task: the sender supplies, the receiver accepts, each by its SLA."""
        policy = self.params.policy
        if self.step is HandoffStep.REQUESTED:
            who, days = self.params.sender.vlo, policy.supply_working_days
        else:
            who, days = self.params.receiver.vlo, policy.accept_working_days
        kind, title = STEP_TASK[self.step]
        self.step_due = add_working_days(today(), days, required(self.params.calendar))
        key = f"{self.step.value}"
        task_id = await call(
            TaskActivities.open_task,
            NewTask(
                owner=self._owner(who),
                task_key=f"{self._id()}:{key}",
                kind=kind,
                title=f"{title} ({self.params.reason.value})",
                assigned_to=who,
                due_on=self.step_due,
            ),
            summary=f"open task {kind.value}",
        )
        self.tasks = [OpenTask(key=key, task_id=task_id, kind=kind, due_on=self.step_due)]

    async def _close_step_tasks(self, by: str, outcome: str) -> None:
        if not self.tasks:
            return
        await call(
            TaskActivities.close_tasks,
            TaskClosure(
                idempotency_key=f"{self._id()}:{self.step.value}:closed",
                case_id=self.params.case_id,
                task_ids=[t.task_id for t in self.tasks],
                by=by,
                outcome=outcome,
            ),
            summary=f"close {self.step.value} tasks",
        )
        self.tasks = []

    async def _record(self, step: HandoffStep, by: str) -> None:
        await call(
            HandoffStoreActivities.record_handoff_step,
            HandoffStepRecord(
                idempotency_key=f"{self._id()}:step:{step.value}",
                handoff_id=self._id(),
                case_id=self.params.case_id,
                step=step,
                by=by,
            ),
            summary=f"hand-off {step.value}",
        )
        self.history.append(f"{today()} {step.value} by {by}")

    async def _supplied(self, by: str) -> None:
        await self._close_step_tasks(by, "case information supplied")
        await self._record(HandoffStep.SUPPLIED, by)
        self.step = HandoffStep.SUPPLIED
        if self.params.bulk_id is None:
            await self._open_step_task()

    async def _accepted(self, by: str) -> None:
        await self._close_step_tasks(by, "case accepted")
        await self._record(HandoffStep.ACCEPTED, by)
        self.step = HandoffStep.ACCEPTED
        self.step_due = None
        moved = await call(
            HandoffStoreActivities.switch_responsibility,
            ResponsibilitySwitch(
                idempotency_key=f"{self._id()}:switch",
                handoff_id=self._id(),
                case_id=self.params.case_id,
                sender=self.params.sender,
                receiver=self.params.receiver,
                by=by,
            ),
            summary="switch responsibility",
        )
        # The case's workflow switches itself and every victim it holds (their task books,
        # search attributes and the tasks they open from now on).
        try:
            await workflow.get_external_workflow_handle(
                case_workflow_id(self.params.case_ref)
            ).signal(
                "handoff_switched",
                ResponsibilityChange(handoff_id=self._id(), receiver=self.params.receiver, by=by),
            )
        except Exception:  # the case's workflow has ended: the database switch stands
            workflow.logger.info("case %s workflow has ended; switch not signalled", self._id())
        self.step = HandoffStep.SWITCHED
        self.history.append(f"{today()} switched; {len(moved)} open task(s) moved")

    async def _withdrawn(self, by: str, reason: WithdrawalReason) -> None:
        """Nothing switches; the step's tasks and escalations close with the reason; the case
        hears that it may have another hand-off."""
        await self._close_step_tasks(by, f"hand-off withdrawn: {reason.value}")
        self.step_due = None
        step = await call(
            HandoffStoreActivities.withdraw_handoff,
            HandoffWithdrawalRecord(
                idempotency_key=f"{self._id()}:withdrawn",
                handoff_id=self._id(),
                case_id=self.params.case_id,
                reason=reason,
                by=by,
            ),
            summary="hand-off withdrawn",
        )
        self.step = HandoffStep(step)
        self.withdrawn_reason = reason
        self.history.append(f"{today()} withdrawn by {by}: {reason.value}")
        try:
            await workflow.get_external_workflow_handle(
                case_workflow_id(self.params.case_ref)
            ).signal("handoff_withdrawn", HandoffWithdrawn(handoff_id=self._id(), reason=reason))
        except Exception:  # the case's workflow has ended: nothing waits for this hand-off
            workflow.logger.info("case workflow has ended; %s withdrawal not signalled", self._id())

    # ---- service levels ---------------------------------------------------------------------

    def _next_escalation(self) -> date | None:
        """The day after the step (or its latest escalation) falls due, up to the max level."""
        if self.step_due is None or len(self._step_escalations()) >= (
            self.params.policy.escalation_max_level
        ):
            return None
        last = self._step_escalations()[-1].due_on if self._step_escalations() else self.step_due
        return last + timedelta(days=1)

    def _step_escalations(self) -> list[HandoffEscalation]:
        return [e for e in self.escalations if e.step is self.step]

    async def _escalate_overdue(self) -> None:
        wake = self._next_escalation()
        if wake is None or today() < wake:
            return
        level = len(self._step_escalations()) + 1
        role = handoff_manager(self.params.receiver.provider.value)
        due = add_working_days(
            today(), self.params.policy.escalation_due_working_days, required(self.params.calendar)
        )
        key = f"{self.step.value}:escalation-{level}"
        original = self.tasks[0] if self.tasks else None
        task_id = await call(
            TaskActivities.open_task,
            NewTask(
                owner=self._owner(role),
                task_key=f"{self._id()}:{key}",
                kind=TaskKind.ESCALATION,
                title=f"Hand-off step '{self.step.value}' overdue since {self.step_due} "
                f"(level {level})",
                assigned_to=role,
                due_on=due,
                escalation_level=level,
                escalates_task_id=original.task_id if original else None,
            ),
            summary=f"escalate hand-off {self.step.value}",
        )
        self.tasks.append(
            OpenTask(
                key=key,
                task_id=task_id,
                kind=TaskKind.ESCALATION,
                due_on=due,
                escalation_level=level,
                escalates=original.key if original else None,
            )
        )
        self.escalations.append(
            HandoffEscalation(step=self.step, level=level, task_id=task_id, due_on=due)
        )
        self.history.append(f"{today()} {self.step.value} overdue: escalated to {role}")

    # ---- actions -----------------------------------------------------------------------------

    @asynccontextmanager
    async def _action(self) -> AsyncIterator[None]:
        """A VLO's action on the hand-off: once its first step is open, one at a time."""
        await workflow.wait_condition(lambda: self.started)
        async with self.lock:
            yield
            self.changed = True

    @workflow.update
    async def supply(self, action: HandoffAction) -> ActionResult:
        return await self._supply(action)

    async def _supply(self, action: HandoffAction) -> ActionResult:
        async with self._action():
            self._check_supply(action)
            await self._supplied(action.by)
            return ActionResult(
                message=f"{self._id()}: case information supplied; "
                f"{self.params.receiver.vlo} to accept by {self.step_due}"
            )

    @supply.validator
    def _check_supply(self, action: HandoffAction) -> None:
        self._check_not_withdrawn("supplied")
        if self.step is not HandoffStep.REQUESTED:
            raise rejected(
                f"{self._id()}: the case information was already supplied (step {self.step.value})"
            )

    @workflow.update
    async def accept(self, action: HandoffAction) -> ActionResult:
        return await self._accept(action)

    async def _accept(self, action: HandoffAction) -> ActionResult:
        async with self._action():
            self._check_accept(action)
            await self._accepted(action.by)
            return ActionResult(
                message=f"{self._id()}: accepted; case {self.params.case_ref} is now with "
                f"{self.params.receiver.describe()}"
            )

    @accept.validator
    def _check_accept(self, action: HandoffAction) -> None:
        self._check_not_withdrawn("accepted")
        if self.step is HandoffStep.REQUESTED:
            raise rejected(
                f"{self._id()}: the sending provider has not supplied the case information "
                "yet: it must be supplied before the case can be accepted"
            )
        if self.step is not HandoffStep.SUPPLIED:
            raise rejected(f"{self._id()}: already accepted (step {self.step.value})")

    def _check_not_withdrawn(self, doing: str) -> None:
        if self.step is HandoffStep.WITHDRAWN:
            raise rejected(withdrawn_refusal(self._id(), self.withdrawn_reason, doing))

    @workflow.update
    async def withdraw(self, action: HandoffWithdrawal) -> ActionResult:
        async with self._action():
            self._check_withdraw(action)
            await self._withdrawn(action.by, action.reason)
            return ActionResult(
                message=f"{self._id()} withdrawn ({action.reason.value}): case "
                f"{self.params.case_ref} stays with {self.params.sender.describe()}; its "
                "hand-off tasks are closed"
            )

    @withdraw.validator
    def _check_withdraw(self, action: HandoffWithdrawal) -> None:
        if action.reason is WithdrawalReason.HANDOFF_FAILED:
            raise rejected("handoff_failed is recorded by the engine only: give another reason")
        self._check_not_withdrawn("withdrawn again")
        if self.step in (HandoffStep.ACCEPTED, HandoffStep.SWITCHED):
            raise rejected(
                switched_refusal(self._id(), self.params.receiver.describe(), "withdrawn")
            )

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        """`complete-task` on a hand-off's task: completing the supply task supplies the case
        information, completing the accept task accepts the case; an escalation closes with
        its step."""
        await workflow.wait_condition(lambda: self.started)
        self._check_complete_task(action)  # the step may have moved on since it was asked
        task = next(t for t in self.tasks if t.task_id == action.task_id)
        if task.kind is TaskKind.HANDOFF_SUPPLY:
            return await self._supply(HandoffAction(by=action.by))
        return await self._accept(HandoffAction(by=action.by))

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self._check_not_withdrawn("completed")
        task = next((t for t in self.tasks if t.task_id == action.task_id), None)
        if task is None:
            raise rejected(
                f"task {action.task_id} is not an open task of hand-off {self._id()} "
                f"(step {self.step.value})"
            )
        if task.kind is TaskKind.ESCALATION:
            done = "supplied" if self.step is HandoffStep.REQUESTED else "accepted"
            raise rejected(
                f"task {action.task_id} escalates hand-off {self._id()}'s overdue "
                f"'{self.step.value}' step: it closes when the hand-off is {done} or "
                "withdrawn"
            )

    # ---- query -------------------------------------------------------------------------------

    @workflow.query
    def view(self) -> HandoffView:
        waiting = {
            HandoffStep.REQUESTED: f"{self.params.sender.vlo} to supply the case information",
            HandoffStep.SUPPLIED: f"{self.params.receiver.vlo} to accept the case",
            HandoffStep.ACCEPTED: "responsibility to switch",
            HandoffStep.SWITCHED: "nothing: done",
            HandoffStep.WITHDRAWN: "nothing: withdrawn",
        }[self.step]
        return HandoffView(
            handoff_id=self._id(),
            case_ref=self.params.case_ref,
            reason=self.params.reason,
            sender=self.params.sender,
            receiver=self.params.receiver,
            step=self.step,
            bulk=self.params.bulk_id is not None,
            waiting_for=waiting,
            step_due_on=self.step_due,
            open_task_ids=[t.task_id for t in self.tasks],
            escalations=list(self.escalations),
            history=list(self.history),
        )
