"""Letters to victims, rendered (activities/letter_render.py) into the outbox the admin team
prints and sends from, in the victim's language (English or Welsh: Welsh Language Standards).
A victim who chose email or text message is also sent the letter through GOV.UK Notify
(`activities/delivery.py`).

Personal data is read here from the database and written only to the outbox row and to Notify;
nothing rendered is logged or returned. Exact release dates, prison locations and release
addresses are never disclosed (domain.md 'Never disclosed to a victim'): a release is given as
a month.
"""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import select
from temporalio import activity

from activities import delivery
from activities.errors import data_error
from activities.letter_render import NOTIFY_CHANNELS, render
from activities.letter_wording import EMAIL_SUBJECTS
from models.activity_requests import LetterRequest
from models.audit import AuditDetail
from models.audit_chain import append_audit
from models.db import session_scope
from models.records import Correspondence
from models.victim import Victim
from models.vocabulary import Channel


class LetterActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def send_letter(self, request: LetterRequest) -> int:
        """Put the letter in the outbox exactly once: a retry finds it by its key. For a victim
        who chose email or text message, then send it through Notify exactly once: a retry or a
        replay finds the notification by its reference before sending."""
        letter_id, channel, sent = self.queue(request)
        self.deliver(letter_id, channel, sent)
        return letter_id

    def deliver(self, letter_id: int, channel: Channel, sent: bool) -> None:
        """Through Notify, once the outbox row is committed, if the victim chose email or text."""
        if channel in NOTIFY_CHANNELS and not sent:
            delivery.deliver(self.engine, letter_id, EMAIL_SUBJECTS)

    def queue(self, request: LetterRequest) -> tuple[int, Channel, bool]:
        """The outbox row for this request, written in its own transaction (committed before
        anything is sent): (id, channel, already sent)."""
        with session_scope(self.engine) as session:
            existing = session.exec(
                select(Correspondence).where(
                    Correspondence.idempotency_key == request.idempotency_key
                )
            ).first()
            if existing is not None and existing.id is not None:
                return existing.id, existing.channel, existing.sent_at is not None
            victim = session.get(Victim, request.victim_id)
            if victim is None or victim.case_id != request.case_id:
                raise data_error(f"victim {request.victim_id} is not a victim of this case")
            if victim.erased_at is not None:
                raise data_error(f"victim {request.victim_id}'s personal data has been erased")
            letter = Correspondence(
                idempotency_key=request.idempotency_key,
                case_id=request.case_id,
                victim_id=request.victim_id,
                kind=request.kind,
                channel=victim.preferred_channel,
                language=victim.language,
                body=render(session, victim, request, victim.preferred_channel),
                created_at=datetime.now(UTC),
            )
            session.add(letter)
            session.flush()
            append_audit(
                session,
                case_id=request.case_id,
                victim_id=request.victim_id,
                actor="engine",
                action="letter_queued",
                detail=AuditDetail.of(
                    letter=letter.id, kind=request.kind, channel=victim.preferred_channel
                ),
            )
            assert letter.id is not None
            return letter.id, letter.channel, False
