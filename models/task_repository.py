"""VLO tasks in the case database as the tools list them: the open ones, one by ID, and
whether a task is the named case's."""

from sqlalchemy import Engine
from sqlmodel import select

from models.case import OffenderCase
from models.case_repository import case_by_ref, case_row
from models.db import session_scope
from models.errors import VcsError
from models.records import (
    VloTask,
)
from models.vocabulary import TaskStatus


def open_tasks(
    engine: Engine, *, case_ref: str | None = None, assigned_to: str | None = None
) -> list[tuple[VloTask, str]]:
    with session_scope(engine) as session:
        query = (
            select(VloTask, OffenderCase.case_ref)
            .join(OffenderCase, OffenderCase.id == VloTask.case_id)  # type: ignore[arg-type]
            .where(VloTask.status == TaskStatus.OPEN)
            .order_by(VloTask.due_on, VloTask.id)  # type: ignore[arg-type]
        )
        if case_ref is not None:
            query = query.where(OffenderCase.case_ref == case_row(session, case_ref).case_ref)
        if assigned_to is not None:
            query = query.where(VloTask.assigned_to == assigned_to)
        return [(t, ref) for t, ref in session.exec(query).all()]


def task_by_id(engine: Engine, task_id: int) -> VloTask:
    with session_scope(engine) as session:
        task = session.get(VloTask, task_id)
        if task is None:
            raise VcsError(f"no task {task_id}")
        return task


def task_on_case(engine: Engine, task_id: int, case_ref: str) -> None:
    """Task IDs too are numbered across all cases: a task named with a case must be its."""
    task = task_by_id(engine, task_id)
    if task.case_id != case_by_ref(engine, case_ref).id:
        raise VcsError(f"task {task_id} is not a task of case {case_ref}")
