"""VLO tasks inside a workflow: opened with a due date, escalated when overdue, never lost.

The open tasks live in the workflow's state (so they survive continue-as-new) and in the
VloTask table (so VLOs can list them). Escalation goes up one level at a time, to a named role.
"""

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStoreActivities
    from activities.tasks import TaskActivities
    from models.activity_requests import NewTask, TaskClosure, TaskReschedule
    from models.deadlines import escalation_due
    from models.handoff import ResponsibilityChange, TaskReassignment
    from models.messages import CompleteTask
    from models.policy import Policy
    from models.tasks import OpenTask, TaskOwner
    from models.vocabulary import LetterKind, TaskKind

from workflows.common import rejected, today
from workflows.steps import call, step, step_result

# Local policy: who an overdue task goes to, level by level.
ESCALATION_ROLES = {1: "role:senior-vlo", 2: "role:vlo-manager", 3: "role:head-of-victim-services"}


class TaskBook:
    def __init__(
        self,
        tasks: list[OpenTask],
        owner: TaskOwner,
        policy: Policy,
        key_prefix: str | None = None,
    ) -> None:
        self.tasks = tasks  # shared with the workflow state: one list, no copies
        self.owner = owner
        self.policy = policy
        # Every step's key starts with this: the owning workflow's ID, or, for a book of its
        # own inside it (a victim's), one of its own.
        self.prefix = key_prefix or owner.workflow_id

    def find(self, task_id: int) -> OpenTask | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    def open_task_of(self, task_id: int, whose: str) -> OpenTask:
        """The open task a VLO names, or a refusal saying whose tasks it is not among."""
        task = self.find(task_id)
        if task is None:
            raise rejected(f"task {task_id} is not an open task of {whose}")
        return task

    async def complete(self, action: CompleteTask, whose: str) -> OpenTask:
        """A VLO completes an open task (and so every escalation raised about it)."""
        task = self.open_task_of(action.task_id, whose)
        await self.close(task.key, action.by, action.outcome)
        return task

    def by_key(self, key: str) -> OpenTask | None:
        return next((t for t in self.tasks if t.key == key), None)

    def next_escalation(self) -> date | None:
        """A task is overdue the day after it falls due."""
        days = [
            t.due_on + timedelta(days=1)
            for t in self.tasks
            if not t.escalated and t.escalation_level < self.policy.escalation_max_level
        ]
        return min(days, default=None)

    async def hand_over(self, change: ResponsibilityChange) -> None:
        """A provider hand-off switched: every open task moves to the new VLO with its due date
        (domain.md 'Providers and hand-offs': nothing dropped); new tasks go to them too."""
        self.owner.responsible_vlo = change.receiver.vlo
        if not self.tasks:
            return
        await call(
            HandoffStoreActivities.reassign_tasks,
            TaskReassignment(
                idempotency_key=f"{self.prefix}:reassign:{change.handoff_id}",
                case_id=self.owner.case_id,
                task_ids=[t.task_id for t in self.tasks],
                to_vlo=change.receiver.vlo,
                reason=f"hand-off {change.handoff_id}",
            ),
            summary="reassign tasks",
        )

    async def open(self, key: str, kind: TaskKind, title: str, due_on: date) -> OpenTask:
        existing = self.by_key(key)
        if existing is not None:
            return existing
        task_id = await step_result(
            TaskActivities.open_task,
            NewTask(
                owner=self.owner,
                task_key=f"{self.prefix}:{key}",
                kind=kind,
                title=title,
                assigned_to=self.owner.responsible_vlo,
                due_on=due_on,
            ),
            summary=f"open task {kind.value}",
        )
        task = OpenTask(key=key, task_id=task_id, kind=kind, due_on=due_on)
        self.tasks.append(task)
        return task

    async def undelivered(self, kind: LetterKind, key: str) -> OpenTask:
        """A letter is in the outbox but its email or text never reached the victim (Notify
        refused the address or number, or reported it failed later): a person reaches
        the victim another way. Once per letter: the task's key is the letter's."""
        return await self.open(
            f"undelivered-{key}",
            TaskKind.UNDELIVERED,
            f"{kind.value} not delivered by email/text: check contact details, post it",
            today(),
        )

    async def escalate_overdue(self) -> None:
        now = today()
        for task in list(self.tasks):
            if task.escalated or task.escalation_level >= self.policy.escalation_max_level:
                continue
            if now <= task.due_on:
                continue
            level = task.escalation_level + 1
            key = f"{task.key}:escalation"
            task_id = await step_result(
                TaskActivities.open_task,
                NewTask(
                    owner=self.owner,
                    task_key=f"{self.prefix}:{key}",
                    kind=TaskKind.ESCALATION,
                    title=f"Overdue since {task.due_on}: task {task.task_id} ({task.kind.value})",
                    assigned_to=ESCALATION_ROLES[level],
                    due_on=escalation_due(now, self.policy),
                    escalation_level=level,
                    escalates_task_id=task.task_id,
                ),
                summary=f"escalate task {task.task_id}",
            )
            task.escalated = True
            self.tasks.append(
                OpenTask(
                    key=key,
                    task_id=task_id,
                    kind=TaskKind.ESCALATION,
                    due_on=escalation_due(now, self.policy),
                    escalation_level=level,
                    escalates=task.key,
                )
            )

    async def close(self, key: str, by: str, outcome: str) -> None:
        """Close a task and every escalation raised about it."""
        chain = self._chain(key)
        if not chain:
            return
        await step(
            TaskActivities.close_tasks,
            TaskClosure(
                idempotency_key=f"{self.prefix}:{key}:closed",
                case_id=self.owner.case_id,
                task_ids=[t.task_id for t in chain],
                by=by,
                outcome=outcome,
            ),
            summary=f"close task {chain[0].task_id}",
        )
        for task in chain:
            self.tasks.remove(task)

    async def close_all(self, by: str, outcome: str) -> None:
        for task in [t for t in self.tasks if t.escalates is None]:
            await self.close(task.key, by, outcome)
        for task in list(self.tasks):  # escalations whose original was closed on its own
            await self.close(task.key, by, outcome)

    async def reschedule(self, key: str, due_on: date, reason: str) -> None:
        task = self.by_key(key)
        if task is None or task.due_on == due_on:
            return
        await step(
            TaskActivities.reschedule_task,
            TaskReschedule(
                idempotency_key=f"{self.prefix}:{key}:due:{due_on}",
                case_id=self.owner.case_id,
                task_id=task.task_id,
                due_on=due_on,
                reason=reason,
            ),
            summary=f"re-date task {task.task_id}",
        )
        task.due_on = due_on

    def _chain(self, key: str) -> list[OpenTask]:
        chain: list[OpenTask] = []
        current = self.by_key(key)
        while current is not None:
            chain.append(current)
            current = next((t for t in self.tasks if t.escalates == current.key), None)
        return chain
