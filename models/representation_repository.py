"""A victim's representations (their words about licence conditions) in the case database:
recorded, found again, withdrawn when the workflow refuses them."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select

from models.db import session_scope
from models.errors import VcsError
from models.records import (
    Representation,
)
from models.text import clean_text
from models.victim import Victim

MAX_REPRESENTATION_CHARS = 20_000  # about 10 pages: the column's limit, the same on every backend


def add_representation(engine: Engine, victim_id: int, text: str) -> int:
    if not text.strip():
        raise VcsError("representations are empty")
    try:
        clean_text(text, multiline=True)
    except ValueError as err:
        raise VcsError(f"representations {err}") from None
    if len(text) > MAX_REPRESENTATION_CHARS:
        raise VcsError(
            f"representations are {len(text)} characters; the limit is {MAX_REPRESENTATION_CHARS}"
        )
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        if victim is None:
            raise VcsError(f"no victim {victim_id}")
        rep = Representation(
            case_id=victim.case_id, victim_id=victim_id, text=text, received_at=datetime.now(UTC)
        )
        session.add(rep)
        session.flush()
        assert rep.id is not None
        return rep.id


def find_representation(engine: Engine, victim_id: int, text: str) -> int | None:
    """The same words already recorded for this victim (text that add_representation would
    refuse is never looked up: PostgreSQL cannot even compare a NUL byte)."""
    try:
        clean_text(text, multiline=True)
    except ValueError:
        return None
    with session_scope(engine) as session:
        return session.exec(
            select(Representation.id).where(
                Representation.victim_id == victim_id, Representation.text == text
            )
        ).first()


def withdraw_representation(engine: Engine, representation_id: int) -> None:
    """Undo a representation the workflow refused, so a refusal changes nothing."""
    with session_scope(engine) as session:
        rep = session.get(Representation, representation_id)
        if rep is not None and rep.forwarded_at is None:
            session.delete(rep)
