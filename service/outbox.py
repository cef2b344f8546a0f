"""The admin team's outbox: letters waiting to be posted in their region, printed as PDF (one
letter or a batch), and marked as posted. No case changes: the admin role has the outbox only
(service/access.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from models.audit import AuditDetail
from models.audit_chain import append_audit
from models.case import OffenderCase
from models.db import session_scope
from models.letter_print import PrintedLetter, letters_pdf
from models.records import Correspondence
from models.vocabulary import Channel, Language, LetterKind
from service.access import Action
from service.actor import Actor
from service.queries import NotFound, checked

POSTED_CHANNELS = (Channel.LETTER, Channel.REPRESENTATIVE)


@dataclass(frozen=True)
class OutboxLine:
    letter_id: int
    case_ref: str
    victim_id: int
    kind: LetterKind
    language: Language
    created_at: datetime


def waiting(engine: Engine, actor: Actor) -> list[OutboxLine]:
    """Letters of the actor's region still to post, oldest first."""
    checked(engine, actor, Action.VIEW_OUTBOX)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Correspondence, OffenderCase.case_ref)
            .join(OffenderCase, col(OffenderCase.id) == col(Correspondence.case_id))
            .where(
                OffenderCase.region == actor.region,
                col(Correspondence.channel).in_(POSTED_CHANNELS),
                col(Correspondence.posted_at).is_(None),
            )
            .order_by(col(Correspondence.id))
        ).all()
        return [
            OutboxLine(c.id or 0, ref, c.victim_id, c.kind, c.language, c.created_at)
            for c, ref in rows
        ]


def _letters(engine: Engine, actor: Actor, action: Action, ids: list[int]) -> list[int]:
    """The letters asked for, each checked against the actor's region; an unknown ID is
    refused before anything is read or written."""
    if not ids:
        raise NotFound("no letters were chosen")
    with session_scope(engine) as session:
        found = session.exec(
            select(Correspondence.id, OffenderCase)
            .join(OffenderCase, col(OffenderCase.id) == col(Correspondence.case_id))
            .where(col(Correspondence.id).in_(ids))
        ).all()
        cases = {letter_id: case for letter_id, case in found}
        session.expunge_all()  # read after the session: the regions are checked below
    missing = sorted(set(ids) - set(cases))
    if missing:
        raise NotFound(f"no letter {missing[0]}")
    for letter_id in ids:
        checked(engine, actor, action, cases[letter_id])
    return sorted(set(ids))


def print_letters(engine: Engine, actor: Actor, ids: list[int]) -> bytes:
    """One PDF of the chosen letters, each in its victim's language, ready to post."""
    chosen = _letters(engine, actor, Action.VIEW_OUTBOX, ids)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Correspondence)
            .where(col(Correspondence.id).in_(chosen))
            .order_by(col(Correspondence.id))
        ).all()
        printed = [PrintedLetter(c.id or 0, c.language, c.body) for c in rows]
    return letters_pdf(printed)


def mark_posted(engine: Engine, actor: Actor, ids: list[int]) -> int:
    """Mark the chosen letters posted (a letter already marked keeps its first date); each is
    recorded in its case's audit trail. Returns how many were newly marked."""
    chosen = _letters(engine, actor, Action.MARK_POSTED, ids)
    now, marked = datetime.now(UTC), 0
    with session_scope(engine) as session:
        for letter in session.exec(
            select(Correspondence).where(col(Correspondence.id).in_(chosen))
        ).all():
            if letter.posted_at is not None:
                continue
            letter.posted_at, letter.posted_by = now, actor.id
            session.add(letter)
            append_audit(
                session,
                case_id=letter.case_id,
                victim_id=letter.victim_id,
                actor=actor.id,
                action="letter_posted",
                detail=AuditDetail.of(letter=letter.id, kind=letter.kind),
            )
            marked += 1
    return marked
