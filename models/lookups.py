"""What a VLO's action reads before it reaches the engine, each in one transaction with as few
statements as it can: the case the access check needs, and the row the action names."""

from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import select

from models.case import OffenderCase
from models.case_repository import case_row
from models.db import session_scope
from models.errors import VcsError
from models.records import VloTask
from models.victim import Enrolment, Victim, VictimBase
from models.victim_repository import new_victim, same_person


def case_of_victim(engine: Engine, victim_id: int) -> OffenderCase:
    """The victim's case (victim IDs are numbered across all cases): one query."""
    with session_scope(engine) as session:
        case = session.exec(
            select(OffenderCase)
            .join(Victim, Victim.case_id == OffenderCase.id)  # type: ignore[arg-type]
            .where(Victim.id == victim_id)
        ).first()
        if case is None:
            raise VcsError(f"no victim {victim_id}")
        return case


def task_and_case(engine: Engine, task_id: int) -> tuple[VloTask, OffenderCase]:
    """The task and the case it is on: one query."""
    with session_scope(engine) as session:
        row = session.exec(
            select(VloTask, OffenderCase)
            .join(OffenderCase, OffenderCase.id == VloTask.case_id)  # type: ignore[arg-type]
            .where(VloTask.id == task_id)
        ).first()
        if row is None:
            raise VcsError(f"no task {task_id}")
        return row[0], row[1]


def record_victim(
    engine: Engine,
    case_ref: str,
    victim: VictimBase,
    by: str,
    allowed: Callable[[OffenderCase], None],
    keep_existing: bool = False,
) -> tuple[int, OffenderCase]:
    """Add a victim to the case, in one transaction that reads the case once: `allowed` (the
    access check) sees it before anything else is read or written. The same person (name and
    postcode) recorded by an earlier attempt the case workflow never took in (the worker was
    down) is picked up, as is anyone already recorded with `keep_existing`; other duplicates
    are refused. The victim's ID and their case."""
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        allowed(case)
        found = session.exec(
            select(Victim.id, Enrolment.id)
            .join(Enrolment, Enrolment.victim_id == Victim.id, isouter=True)  # type: ignore[arg-type]
            .where(*same_person(case, victim))
        ).first()
        recorded, enrolment = found if found is not None else (None, None)
        if recorded is not None and (enrolment is None or keep_existing):
            return recorded, case
        row = new_victim(session, case, victim, by, recorded)
        assert row.id is not None
        return row.id, case
