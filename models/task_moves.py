"""Reassigning open tasks. Who holds an open task is its VloTask row alone (the workflows hold
only each task's ID, kind and due date), so a move is a row write plus an audit entry, written
here once for a senior VLO moving one task (service/tasks.py) and for a hand-off moving a
workflow's tasks to the new VLO (activities/handoff.py)."""

from collections.abc import Sequence

from sqlmodel import Session

from models.audit import AuditDetail, Ref
from models.audit_chain import already_done, append_audit
from models.records import VloTask
from models.vocabulary import TaskStatus

ROLE_PREFIX = "role:"  # escalations go to roles, and are taken by that role: they stay there


def kept(task: VloTask, to_vlo: str) -> str:
    """Why the task stays where it is ("" if it may move to `to_vlo`)."""
    if task.status is not TaskStatus.OPEN:
        return f"task {task.id} is not open: only an open task is reassigned"
    if task.assigned_to.startswith(ROLE_PREFIX) or task.escalates_task_id is not None:
        return f"task {task.id} is an escalation: it stays with its role"
    if task.assigned_to == to_vlo:
        return f"task {task.id} is already {to_vlo}'s"
    return ""


def reassign_tasks(
    session: Session,
    tasks: Sequence[VloTask],
    to_vlo: str,
    *,
    actor: str,
    note: str = "",
    idempotency_key: str = "",
) -> list[int]:
    """Reassign these tasks, audited: each that may move (`kept`) goes to `to_vlo`, its due date
    unchanged, and the case's trail says which task moved from whom to whom (one entry each,
    keyed `idempotency_key:task`, so a retry moves nothing twice). The IDs of those moved."""
    moved = []
    for task in tasks:
        key = f"{idempotency_key}:{task.id}" if idempotency_key else None
        if kept(task, to_vlo) or (key and already_done(session, key)):
            continue
        was, task.assigned_to = task.assigned_to, to_vlo
        session.add(task)
        append_audit(
            session,
            case_id=task.case_id,
            actor=actor,
            action="task_reassigned",
            detail=AuditDetail.of(
                task=task.id, kind=task.kind, from_vlo=Ref(was), to_vlo=Ref(to_vlo)
            ),
            note=note,
            victim_id=task.victim_id,
            idempotency_key=key,
        )
        moved.append(task.id or 0)
    return moved
