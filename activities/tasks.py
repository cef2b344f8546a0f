"""Activities that open, close and re-date VLO tasks."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select
from temporalio import activity

from models.activity_requests import NewTask, TaskClosure, TaskReschedule
from models.audit import AuditDetail
from models.audit_chain import already_done, append_audit
from models.db import session_scope
from models.records import VloTask
from models.vocabulary import TaskStatus


class TaskActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def open_task(self, new: NewTask) -> int:
        """Create the task once; a retry returns the task already created."""
        with session_scope(self.engine) as session:
            existing = session.exec(select(VloTask).where(VloTask.task_key == new.task_key)).first()
            if existing is not None and existing.id is not None:
                return existing.id
            task = VloTask(
                task_key=new.task_key,
                workflow_id=new.owner.workflow_id,
                case_id=new.owner.case_id,
                victim_id=new.owner.victim_id,
                kind=new.kind,
                title=new.title,
                assigned_to=new.assigned_to,
                due_on=new.due_on,
                escalation_level=new.escalation_level,
                escalates_task_id=new.escalates_task_id,
                created_at=datetime.now(UTC),
            )
            session.add(task)
            if new.escalates_task_id is not None:
                original = session.get(VloTask, new.escalates_task_id)
                if original is not None:
                    original.escalated = True
                    session.add(original)
            session.flush()
            append_audit(
                session,
                case_id=new.owner.case_id,
                victim_id=new.owner.victim_id,
                actor="engine",
                action="task_escalated" if new.escalation_level else "task_opened",
                detail=AuditDetail.of(
                    task=task.id,
                    kind=new.kind,
                    escalates=new.escalates_task_id,
                    due_on=new.due_on,
                ),
            )
            assert task.id is not None
            return task.id

    @activity.defn
    def close_tasks(self, closure: TaskClosure) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, closure.idempotency_key):
                return
            for task_id in closure.task_ids:
                task = session.get(VloTask, task_id)
                if task is None or task.status is TaskStatus.DONE:
                    continue
                task.status = TaskStatus.DONE
                task.completed_at = datetime.now(UTC)
                task.completed_by = closure.by
                task.outcome = closure.outcome
                session.add(task)
            append_audit(
                session,
                case_id=closure.case_id,
                actor=closure.by,
                action="tasks_closed",
                detail=AuditDetail.of(tasks=closure.task_ids),  # the outcome: each task's row
                idempotency_key=closure.idempotency_key,
            )

    @activity.defn
    def reschedule_task(self, change: TaskReschedule) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, change.idempotency_key):
                return
            task = session.get(VloTask, change.task_id)
            if task is None:
                return
            old = task.due_on
            task.due_on = change.due_on
            session.add(task)
            append_audit(
                session,
                case_id=change.case_id,
                actor="engine",
                action="task_rescheduled",
                detail=AuditDetail.of(task=change.task_id, was_due_on=old, due_on=change.due_on),
                note=change.reason,
                idempotency_key=change.idempotency_key,
            )
