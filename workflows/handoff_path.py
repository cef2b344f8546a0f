"""One provider hand-off of a case (ID vcs-handoff-<case ref>-<n>): plain code, held by the
case's workflow (workflows/case_handoffs.py), which takes each step under its lock and wakes at
the date `next_wake` gives.

requested -> the sending provider supplies the case information the VLO needs -> the receiving
provider accepts -> responsibility switches on the case row, the case's workflow and every
victim on it, and every open VLO task moves to the new VLO with its due date unchanged.

Each step has a service level (local policy, models/handoff.py HandoffPolicy). A missed one
opens an escalation task for the receiving provider's hand-off manager, then the next level
when that is missed too: the hand-off keeps waiting, but never silently.

A VLO may withdraw an open hand-off with a reason (the receiving provider refusing it is a
withdrawal with reason refused_by_receiver): its open tasks and their escalations close with
that reason, nothing switches, and the case may have another hand-off. Once responsibility is
switching (accepted) or switched it cannot be withdrawn: a new hand-off moves the case back.

A bulk transfer (the 2021 unification) opens hand-offs with `bulk_id` set: supply and accept
are then done at once by the engine, recorded as "bulk: unification".
Sources: domain.md "Providers and hand-offs"; 000_5a1d5e000983110f.txt; 003_532a1c7aa3a81105.txt.
"""

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStoreActivities
    from activities.tasks import TaskActivities
    from models.activity_requests import NewTask, TaskClosure
    from models.handoff import (
        ENDED_STEPS,
        HandoffEscalation,
        HandoffStepRecord,
        HandoffView,
        HandoffWithdrawalRecord,
        ResponsibilityChange,
        ResponsibilitySwitch,
        WithdrawalReason,
        handoff_manager,
        switched_refusal,
        waiting_for,
        withdrawn_refusal,
    )
    from models.handoff_state import HandoffState
    from models.tasks import TaskOwner
    from models.vocabulary import HandoffStep, TaskKind
    from models.working_days import BankHolidays, add_working_days

from workflows.common import rejected, today
from workflows.steps import call

STEP_TASK = {
    HandoffStep.REQUESTED: (TaskKind.HANDOFF_SUPPLY, "Supply the case information for hand-off"),
    HandoffStep.SUPPLIED: (TaskKind.HANDOFF_ACCEPT, "Accept the case handed off"),
}


class HandoffPath:
    def __init__(self, state: HandoffState, owner_id: str, calendar: BankHolidays) -> None:
        """`owner_id`: the case's workflow (the hand-off's tasks are completed there);
        `calendar`: the bank holidays its service levels count over (the case's)."""
        self.state = state
        self.params = state.params
        self.owner_id = owner_id
        self.calendar = calendar

    @property
    def handoff_id(self) -> str:
        return self.params.handoff_id

    def ended(self) -> bool:
        return self.state.step in ENDED_STEPS

    def _owner(self, vlo: str) -> TaskOwner:
        return TaskOwner(
            workflow_id=self.owner_id, case_id=self.params.case_id, responsible_vlo=vlo
        )

    def note(self, what: str) -> None:
        self.state.history.append(f"{today()} {what}")

    # ---- steps -------------------------------------------------------------------------------

    async def open_step_task(self) -> None:
        """The current step's task: the sender supplies, the receiver accepts, each by its SLA."""
        s, policy = self.state, self.params.policy
        if s.step is HandoffStep.REQUESTED:
            who, days = self.params.sender.vlo, policy.supply_working_days
        else:
            who, days = self.params.receiver.vlo, policy.accept_working_days
        kind, title = STEP_TASK[s.step]
        s.step_due = add_working_days(today(), days, self.calendar)
        task_id = await call(
            TaskActivities.open_task,
            NewTask(
                owner=self._owner(who),
                task_key=f"{self.handoff_id}:{s.step.value}",
                kind=kind,
                title=f"{title} ({self.params.reason.value})",
                assigned_to=who,
                due_on=s.step_due,
            ),
            summary=f"open task {kind.value}",
        )
        s.step_task_id, s.open_task_ids = task_id, [task_id]

    async def _close_step_tasks(self, by: str, outcome: str) -> None:
        s = self.state
        if not s.open_task_ids:
            return
        await call(
            TaskActivities.close_tasks,
            TaskClosure(
                idempotency_key=f"{self.handoff_id}:{s.step.value}:closed",
                case_id=self.params.case_id,
                task_ids=list(s.open_task_ids),
                by=by,
                outcome=outcome,
            ),
            summary=f"close {s.step.value} tasks",
        )
        s.step_task_id, s.open_task_ids = None, []

    async def _record(self, step: HandoffStep, by: str) -> None:
        await call(
            HandoffStoreActivities.record_handoff_step,
            HandoffStepRecord(
                idempotency_key=f"{self.handoff_id}:step:{step.value}",
                handoff_id=self.handoff_id,
                case_id=self.params.case_id,
                step=step,
                by=by,
            ),
            summary=f"hand-off {step.value}",
        )
        self.note(f"{step.value} by {by}")

    async def supplied(self, by: str) -> None:
        await self._close_step_tasks(by, "case information supplied")
        await self._record(HandoffStep.SUPPLIED, by)
        self.state.step = HandoffStep.SUPPLIED
        if self.params.bulk_id is None:
            await self.open_step_task()

    async def accepted(self, by: str) -> ResponsibilityChange:
        """Recorded, and the case row and its open VLO tasks switched in the database: the
        case's workflow then switches itself and every victim and review it holds."""
        s = self.state
        await self._close_step_tasks(by, "case accepted")
        await self._record(HandoffStep.ACCEPTED, by)
        s.step, s.step_due = HandoffStep.ACCEPTED, None
        moved = await call(
            HandoffStoreActivities.switch_responsibility,
            ResponsibilitySwitch(
                idempotency_key=f"{self.handoff_id}:switch",
                handoff_id=self.handoff_id,
                case_id=self.params.case_id,
                sender=self.params.sender,
                receiver=self.params.receiver,
                by=by,
            ),
            summary="switch responsibility",
        )
        s.step = HandoffStep.SWITCHED
        self.note(f"switched; {len(moved)} open task(s) moved")
        return self.change(by)

    def change(self, by: str) -> ResponsibilityChange:
        """The switch it makes, for its case's workflow to follow."""
        return ResponsibilityChange(
            handoff_id=self.handoff_id, receiver=self.params.receiver, by=by
        )

    async def withdrawn(self, by: str, reason: WithdrawalReason) -> None:
        """Nothing switches; the step's tasks and escalations close with the reason. A failed
        one (HANDOFF_FAILED) that the database shows switched ends switched."""
        s = self.state
        await self._close_step_tasks(by, f"hand-off withdrawn: {reason.value}")
        s.step_due = None
        step = await call(
            HandoffStoreActivities.withdraw_handoff,
            HandoffWithdrawalRecord(
                idempotency_key=f"{self.handoff_id}:withdrawn",
                handoff_id=self.handoff_id,
                case_id=self.params.case_id,
                reason=reason,
                by=by,
            ),
            summary="hand-off withdrawn",
        )
        s.step = HandoffStep(step)
        if s.step is HandoffStep.WITHDRAWN:
            s.withdrawn_reason = reason
            self.note(f"withdrawn by {by}: {reason.value}")

    # ---- service levels ---------------------------------------------------------------------

    def _step_escalations(self) -> list[HandoffEscalation]:
        return [e for e in self.state.escalations if e.step is self.state.step]

    def next_wake(self) -> date | None:
        """The day after the step (or its latest escalation) falls due, up to the max level."""
        s, raised = self.state, self._step_escalations()
        if s.step_due is None or len(raised) >= self.params.policy.escalation_max_level:
            return None
        return (raised[-1].due_on if raised else s.step_due) + timedelta(days=1)

    async def escalate_overdue(self) -> None:
        s, wake = self.state, self.next_wake()
        if wake is None or today() < wake:
            return
        level = len(self._step_escalations()) + 1
        role = handoff_manager(self.params.receiver.provider.value)
        due = add_working_days(
            today(), self.params.policy.escalation_due_working_days, self.calendar
        )
        task_id = await call(
            TaskActivities.open_task,
            NewTask(
                owner=self._owner(role),
                task_key=f"{self.handoff_id}:{s.step.value}:escalation-{level}",
                kind=TaskKind.ESCALATION,
                title=f"Hand-off step '{s.step.value}' overdue since {s.step_due} (level {level})",
                assigned_to=role,
                due_on=due,
                escalation_level=level,
                escalates_task_id=s.step_task_id,
            ),
            summary=f"escalate hand-off {s.step.value}",
        )
        s.open_task_ids.append(task_id)
        s.escalations.append(
            HandoffEscalation(step=s.step, level=level, task_id=task_id, due_on=due)
        )
        self.note(f"{s.step.value} overdue: escalated to {role}")

    # ---- checks, before anything changes ------------------------------------------------------

    def _check_not_withdrawn(self, doing: str) -> None:
        if self.state.step is HandoffStep.WITHDRAWN:
            raise rejected(withdrawn_refusal(self.handoff_id, self.state.withdrawn_reason, doing))

    def check_supply(self) -> None:
        self._check_not_withdrawn("supplied")
        if self.state.step is not HandoffStep.REQUESTED:
            raise rejected(
                f"{self.handoff_id}: the case information was already supplied "
                f"(step {self.state.step.value})"
            )

    def check_accept(self) -> None:
        self._check_not_withdrawn("accepted")
        if self.state.step is HandoffStep.REQUESTED:
            raise rejected(
                f"{self.handoff_id}: the sending provider has not supplied the case information "
                "yet: it must be supplied before the case can be accepted"
            )
        if self.state.step is not HandoffStep.SUPPLIED:
            raise rejected(f"{self.handoff_id}: already accepted (step {self.state.step.value})")

    def check_withdraw(self, reason: WithdrawalReason) -> None:
        if reason is WithdrawalReason.HANDOFF_FAILED:
            raise rejected("handoff_failed is recorded by the engine only: give another reason")
        self._check_not_withdrawn("withdrawn again")
        if self.state.step in (HandoffStep.ACCEPTED, HandoffStep.SWITCHED):
            raise rejected(
                switched_refusal(self.handoff_id, self.params.receiver.describe(), "withdrawn")
            )

    def check_complete_task(self, task_id: int) -> TaskKind:
        """`complete-task` on the hand-off's task: the step's own supplies or accepts; an
        escalation closes with its step. Returns the kind of step task."""
        s = self.state
        self._check_not_withdrawn("completed")
        if task_id not in s.open_task_ids:
            raise rejected(
                f"task {task_id} is not an open task of hand-off {self.handoff_id} "
                f"(step {s.step.value})"
            )
        if task_id != s.step_task_id:
            done = "supplied" if s.step is HandoffStep.REQUESTED else "accepted"
            raise rejected(
                f"task {task_id} escalates hand-off {self.handoff_id}'s overdue "
                f"'{s.step.value}' step: it closes when the hand-off is {done} or withdrawn"
            )
        return STEP_TASK[s.step][0]

    # ---- what a person sees -------------------------------------------------------------------

    def view(self) -> HandoffView:
        s, p = self.state, self.params
        return HandoffView(
            handoff_id=self.handoff_id,
            case_ref=p.case_ref,
            reason=p.reason,
            sender=p.sender,
            receiver=p.receiver,
            step=s.step,
            bulk=p.bulk_id is not None,
            waiting_for=waiting_for(s.step, p.sender, p.receiver),
            step_due_on=s.step_due,
            open_task_ids=list(s.open_task_ids),
            escalations=list(s.escalations),
            history=list(s.history),
        )
