"""Victim Personal Statements as the VLO's tools store them: the words go straight into the
case database, encrypted (models/sealed.py); the review workflow only ever gets the ID."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from models.db import session_scope
from models.errors import VcsError
from models.parole import MAX_VPS_CHARS, VictimPersonalStatement
from models.text import clean_text
from models.victim import Victim


def vps_problem(text: str) -> str | None:
    """Why these words cannot be a VPS (a VPS is always in writing: domain.md 'Parole')."""
    if not text.strip():
        return "the VPS is empty: a VPS is always in writing"
    try:
        clean_text(text, multiline=True)
    except ValueError as err:
        return f"the VPS {err}"
    if len(text) > MAX_VPS_CHARS:
        return f"the VPS is {len(text)} characters; the limit is {MAX_VPS_CHARS}"
    return None


def add_vps(engine: Engine, review_id: str, victim_id: int, text: str, by: str) -> int:
    problem = vps_problem(text)
    if problem:
        raise VcsError(problem)
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        if victim is None:
            raise VcsError(f"no victim {victim_id}")
        row = VictimPersonalStatement(
            review_id=review_id,
            case_id=victim.case_id,
            victim_id=victim_id,
            text=text,
            received_at=datetime.now(UTC),
            received_by=by,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def find_vps(engine: Engine, review_id: str, victim_id: int, text: str) -> int | None:
    """The same words already stored for this victim and review (a VLO repeating a command
    after a time-out). Encrypted values cannot be compared in SQL: each is read and compared."""
    if vps_problem(text):
        return None
    with session_scope(engine) as session:
        rows = session.exec(
            select(VictimPersonalStatement).where(
                VictimPersonalStatement.review_id == review_id,
                VictimPersonalStatement.victim_id == victim_id,
            )
        ).all()
        return next((row.id for row in rows if row.text == text), None)


def withdraw_vps(engine: Engine, vps_id: int) -> None:
    """Undo a VPS the review refused, so a refusal changes nothing."""
    with session_scope(engine) as session:
        row = session.get(VictimPersonalStatement, vps_id)
        if row is not None and row.forwarded_at is None:
            session.delete(row)
