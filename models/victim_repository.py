"""Victims in the case database: adding one to a case once, finding them, and which case
they are on (victim IDs are numbered across all cases). Personal data enters the system here,
straight into the database; workflows only ever receive the IDs."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from models.audit_chain import append_audit
from models.case import OffenderCase
from models.case_repository import case_by_ref, case_row, open_case_row
from models.db import session_scope
from models.errors import VcsError
from models.victim import Enrolment, Victim, VictimBase


def same_person(case: OffenderCase, victim: VictimBase) -> tuple[Any, ...]:
    """Who counts as the same victim on a case: the same name and postcode."""
    return (
        Victim.case_id == case.id,
        Victim.full_name == victim.full_name,
        Victim.postcode == victim.postcode,
    )


def new_victim(
    session: Session, case: OffenderCase, victim: VictimBase, by: str, duplicate: int | None
) -> Victim:
    """Record a victim on `case` (read in this session). Refused, writing nothing, if they
    cannot be reached on their chosen channel, the case is closed, or they are already recorded
    (as `duplicate`)."""
    problems = victim.contact_problems()
    if problems:
        raise VcsError("; ".join(problems))
    open_case_row(session, case.case_ref, "victim", case)
    if duplicate is not None:
        raise VcsError(
            f"this victim is already recorded on case {case.case_ref} as victim {duplicate}"
        )
    assert case.id is not None
    row = Victim(**victim.model_dump(), case_id=case.id, added_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    assert row.id is not None
    append_audit(session, case_id=case.id, victim_id=row.id, actor=by, action="victim_added")
    return row


def add_victim(engine: Engine, case_ref: str, victim: VictimBase, by: str) -> Victim:
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        duplicate = session.exec(select(Victim.id).where(*same_person(case, victim))).first()
        return new_victim(session, case, victim, by, duplicate)


def find_victim(engine: Engine, case_ref: str, name: str, postcode: str | None) -> Victim | None:
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        return session.exec(
            select(Victim).where(
                Victim.case_id == case.id, Victim.full_name == name, Victim.postcode == postcode
            )
        ).first()


def victim_case_ref(engine: Engine, victim_id: int) -> str:
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        if victim is None:
            raise VcsError(f"no victim {victim_id}")
        case = session.get(OffenderCase, victim.case_id)
        assert case is not None
        return case.case_ref


def victim_on_case(engine: Engine, victim_id: int, case_ref: str) -> None:
    """Victim IDs are numbered across all cases: an action names the case too, and a victim of
    another case is refused rather than reached."""
    if victim_case_ref(engine, victim_id) != case_ref:
        case_by_ref(engine, case_ref)  # no such case: say so
        raise VcsError(f"victim {victim_id} is not a victim of case {case_ref}")


def victims_of(engine: Engine, case_ref: str) -> list[tuple[Victim, Enrolment | None]]:
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        rows = session.exec(
            select(Victim, Enrolment)
            .join(Enrolment, Enrolment.victim_id == Victim.id, isouter=True)  # type: ignore[arg-type]
            .where(Victim.case_id == case.id)
            .order_by(Victim.id)  # type: ignore[arg-type]
        ).all()
        return [(v, e) for v, e in rows]
