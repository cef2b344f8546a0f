"""Letters to victims, rendered into the outbox the admin team prints and sends from.

Personal data is read here from the database and written only to the outbox row; nothing
rendered is logged or returned. Exact release dates, prison locations and release addresses
are never disclosed (domain.md 'Never disclosed to a victim'): a release is given as a month.
"""

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity

from activities.audit import append_audit
from activities.errors import data_error
from models.db import session_scope
from models.messages import LetterRequest
from models.records import Correspondence, LicenceCondition
from models.victim import Victim
from models.vocabulary import KeyStage, LetterKind

SIGN_OFF = "\n\nYours sincerely,\nVictim Liaison Officer, Probation Service"

BODIES: dict[LetterKind, str] = {
    LetterKind.OFFER: (
        "You are entitled to join the Victim Contact Scheme (Domestic Violence, Crime and "
        "Victims Act 2004, section 35). If you join, you can tell us what licence conditions "
        "you would like to be considered, and we will tell you about key stages of the "
        "sentence. Please tell us whether you would like to join."
    ),
    LetterKind.CHASE: (
        "We wrote to you about the Victim Contact Scheme and have not heard from you. You can "
        "still join: please contact us."
    ),
    LetterKind.OFFER_CLOSED: (
        "As we have not heard from you, we have closed our offer of the Victim Contact Scheme. "
        "You can still join at any time while the sentence runs: just contact us."
    ),
    LetterKind.OPT_IN_CONFIRMED: "Thank you: you are now in the Victim Contact Scheme.",
    LetterKind.OPT_OUT_CONFIRMED: "You have left the Victim Contact Scheme.",
    LetterKind.REPRESENTATIONS_INVITED: (
        "The offender may be released on licence around {release_month}. You may tell us what "
        "conditions you would like the licence to contain, for example about contact with you "
        "or your family, by {due}."
    ),
    LetterKind.REPRESENTATIONS_RECEIVED: (
        "Thank you for your views on the licence conditions. We have passed them to those "
        "who decide the conditions."
    ),
    LetterKind.CONDITIONS_IMPOSED: (
        "These licence conditions relating to you or your family have been imposed:\n{conditions}"
    ),
    LetterKind.RELEASE: "The offender was released on licence in {release_month}.",
    LetterKind.KEY_STAGE: "We are writing to tell you about a development: {key_stage}.",
    LetterKind.ANNUAL_UPDATE: "This is your yearly update: the sentence continues as before.",
    LetterKind.CONDITION_ENDED: "These licence conditions have now ended:\n{conditions}",
    LetterKind.SCHEME_ENDED: (
        "The offender's licence and supervision have ended, and with them any licence "
        "conditions. Your part in the Victim Contact Scheme has now ended."
    ),
}

KEY_STAGE_WORDS: dict[KeyStage, str] = {
    KeyStage.TEMPORARY_RELEASE: "the offender has been granted release on temporary licence",
    KeyStage.OPEN_CONDITIONS: "the offender has moved to open conditions",
    KeyStage.PAROLE_REVIEW: "the offender's case has been referred to the Parole Board",
    KeyStage.RECALL: "the offender has been recalled to custody",
    KeyStage.ESCAPE: "the offender has escaped or absconded from custody",
    KeyStage.DEATH: "the offender has died",
    KeyStage.TRANSFER_TO_HOSPITAL: "the offender has been transferred to hospital",
    KeyStage.DEPORTATION: "the offender has been deported",
}


def release_month(day: date | None) -> str:
    return day.strftime("%B %Y") if day else "a date not yet known"


def _condition_lines(session: Session, condition_ids: list[int]) -> str:
    if not condition_ids:
        return ""
    rows = session.exec(
        select(LicenceCondition).where(LicenceCondition.id.in_(condition_ids))  # type: ignore[union-attr]
    ).all()
    return "\n".join(
        f"- {c.description}" + (f" (until {c.ends_on:%B %Y})" if c.ends_on else "") for c in rows
    )


def render(session: Session, victim: Victim, request: LetterRequest) -> str:
    body = BODIES[request.kind].format(
        release_month=release_month(request.release_on),
        due=f"{request.due_on:%d %B %Y}" if request.due_on else "",
        conditions=_condition_lines(session, request.condition_ids),
        key_stage=KEY_STAGE_WORDS[request.key_stage] if request.key_stage else "",
    )
    address = f"{victim.address}\n{victim.postcode or ''}".strip() if victim.address else ""
    header = f"{victim.full_name}\n{address}\n\n" if address else f"{victim.full_name}\n\n"
    return f"{header}Dear {victim.full_name},\n\n{body}{SIGN_OFF}"


class LetterActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def send_letter(self, request: LetterRequest) -> int:
        """Put the letter in the outbox exactly once: a retry finds it by its key."""
        with session_scope(self.engine) as session:
            existing = session.exec(
                select(Correspondence).where(
                    Correspondence.idempotency_key == request.idempotency_key
                )
            ).first()
            if existing is not None and existing.id is not None:
                return existing.id
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
                body=render(session, victim, request),
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
                detail=f"{request.kind.value} by {victim.preferred_channel.value}",
            )
            assert letter.id is not None
            return letter.id
