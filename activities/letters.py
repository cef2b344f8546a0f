"""Letters to victims, rendered into the outbox the admin team prints and sends from, in the
victim's language (English or Welsh: Welsh Language Standards). A victim who chose email or
text message is also sent the letter through GOV.UK Notify (`activities/notify.py`).

Personal data is read here from the database and written only to the outbox row and to Notify;
nothing rendered is logged or returned. Exact release dates, prison locations and release
addresses are never disclosed (domain.md 'Never disclosed to a victim'): a release is given as
a month.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, select
from temporalio import activity

from activities import notify
from activities.audit import append_audit
from activities.errors import data_error
from models.db import session_scope
from models.messages import LetterRequest
from models.records import Correspondence, LicenceCondition
from models.victim import Victim
from models.vocabulary import Channel, KeyStage, Language, LetterKind

log = activity.LoggerAdapter(logging.getLogger("vcs.letters"), None)

# Channels sent through Notify. The outbox row is written for every channel; letters (and
# letters to a representative) are printed from it by the admin team.
NOTIFY_CHANNELS = (Channel.EMAIL, Channel.PHONE)

BODIES_EN: dict[LetterKind, str] = {
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
    LetterKind.RELEASE: "The offender was released on licence {released_in}.",
    LetterKind.KEY_STAGE: "We are writing to tell you about a development: {key_stage}.",
    LetterKind.ANNUAL_UPDATE: "This is your yearly update: the sentence continues as before.",
    LetterKind.CONDITION_ENDED: "These licence conditions have now ended:\n{conditions}",
    LetterKind.SCHEME_ENDED: (
        "The offender's licence and supervision have ended, and with them any licence "
        "conditions. Your part in the Victim Contact Scheme has now ended."
    ),
}

BODIES_CY: dict[LetterKind, str] = {
    LetterKind.OFFER: (
        "Mae gennych hawl i ymuno â'r Cynllun Cyswllt â Dioddefwyr (Deddf Trais Domestig, "
        "Troseddu a Dioddefwyr 2004, adran 35). Os byddwch yn ymuno, gallwch ddweud wrthym pa "
        "amodau trwydded yr hoffech i ni eu hystyried, a byddwn yn rhoi gwybod i chi am gamau "
        "allweddol y ddedfryd. Rhowch wybod i ni a hoffech ymuno."
    ),
    LetterKind.CHASE: (
        "Fe wnaethom ysgrifennu atoch am y Cynllun Cyswllt â Dioddefwyr, ond nid ydym wedi "
        "clywed gennych. Gallwch ymuno o hyd: cysylltwch â ni."
    ),
    LetterKind.OFFER_CLOSED: (
        "Gan nad ydym wedi clywed gennych, rydym wedi cau ein cynnig i chi ymuno â'r Cynllun "
        "Cyswllt â Dioddefwyr. Gallwch ymuno o hyd ar unrhyw adeg tra bydd y ddedfryd yn "
        "parhau: cysylltwch â ni."
    ),
    LetterKind.OPT_IN_CONFIRMED: "Diolch: rydych bellach yn rhan o'r Cynllun Cyswllt â Dioddefwyr.",
    LetterKind.OPT_OUT_CONFIRMED: "Rydych wedi gadael y Cynllun Cyswllt â Dioddefwyr.",
    LetterKind.REPRESENTATIONS_INVITED: (
        "Efallai y caiff y troseddwr ei ryddhau ar drwydded tua {release_month}. Gallwch ddweud "
        "wrthym pa amodau yr hoffech eu gweld yn y drwydded, er enghraifft am gysylltiad â chi "
        "neu â'ch teulu, erbyn {due}."
    ),
    LetterKind.REPRESENTATIONS_RECEIVED: (
        "Diolch am eich sylwadau ar amodau'r drwydded. Rydym wedi eu hanfon at y rhai sy'n "
        "penderfynu ar yr amodau."
    ),
    LetterKind.CONDITIONS_IMPOSED: (
        "Mae'r amodau trwydded hyn sy'n ymwneud â chi neu â'ch teulu wedi cael eu gosod:\n"
        "{conditions}"
    ),
    LetterKind.RELEASE: "Cafodd y troseddwr ei ryddhau ar drwydded {released_in}.",
    LetterKind.KEY_STAGE: (
        "Rydym yn ysgrifennu atoch i roi gwybod i chi am ddatblygiad: {key_stage}."
    ),
    LetterKind.ANNUAL_UPDATE: (
        "Dyma eich diweddariad blynyddol: mae'r ddedfryd yn parhau fel o'r blaen."
    ),
    LetterKind.CONDITION_ENDED: "Mae'r amodau trwydded hyn bellach wedi dod i ben:\n{conditions}",
    LetterKind.SCHEME_ENDED: (
        "Mae trwydded a goruchwyliaeth y troseddwr wedi dod i ben, ac felly hefyd unrhyw "
        "amodau trwydded. Mae eich rhan yn y Cynllun Cyswllt â Dioddefwyr bellach wedi dod i "
        "ben."
    ),
}

BODIES: dict[Language, dict[LetterKind, str]] = {
    Language.ENGLISH: BODIES_EN,
    Language.WELSH: BODIES_CY,
}

KEY_STAGE_WORDS: dict[Language, dict[KeyStage, str]] = {
    Language.ENGLISH: {
        KeyStage.TEMPORARY_RELEASE: "the offender has been granted release on temporary licence",
        KeyStage.OPEN_CONDITIONS: "the offender has moved to open conditions",
        KeyStage.PAROLE_REVIEW: "the offender's case has been referred to the Parole Board",
        KeyStage.RECALL: "the offender has been recalled to custody",
        KeyStage.ESCAPE: "the offender has escaped or absconded from custody",
        KeyStage.DEATH: "the offender has died",
        KeyStage.TRANSFER_TO_HOSPITAL: "the offender has been transferred to hospital",
        KeyStage.DEPORTATION: "the offender has been deported",
    },
    Language.WELSH: {
        KeyStage.TEMPORARY_RELEASE: (
            "mae'r troseddwr wedi cael caniatâd i gael ei ryddhau ar drwydded dros dro"
        ),
        KeyStage.OPEN_CONDITIONS: "mae'r troseddwr wedi symud i amodau agored",
        KeyStage.PAROLE_REVIEW: "mae achos y troseddwr wedi cael ei gyfeirio at y Bwrdd Parôl",
        KeyStage.RECALL: "mae'r troseddwr wedi cael ei alw'n ôl i'r ddalfa",
        KeyStage.ESCAPE: "mae'r troseddwr wedi dianc o'r ddalfa neu wedi mynd ar ffo",
        KeyStage.DEATH: "mae'r troseddwr wedi marw",
        KeyStage.TRANSFER_TO_HOSPITAL: "mae'r troseddwr wedi cael ei drosglwyddo i'r ysbyty",
        KeyStage.DEPORTATION: "mae'r troseddwr wedi cael ei allgludo",
    },
}

MONTHS: dict[Language, tuple[str, ...]] = {
    Language.ENGLISH: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    Language.WELSH: (
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ),
}


@dataclass(frozen=True)
class Wording:
    """The fixed words of a letter in one language, around its body."""

    dear: str
    sign_off: str
    subject: str  # of an email
    around: str  # a release month, after "around" / "tua"
    released_in: str  # a release month, after "released on licence"
    unknown: str
    unknown_in: str
    until: str  # the month a condition ends


WORDING: dict[Language, Wording] = {
    Language.ENGLISH: Wording(
        dear="Dear {name},",
        sign_off="Yours sincerely,\nVictim Liaison Officer, Probation Service",
        subject="Victim Contact Scheme",
        around="{month} {year}",  # "around May 2028"
        released_in="in {month} {year}",  # "released on licence in May 2028"
        unknown="a date not yet known",
        unknown_in="on a date not yet known",
        until="until {month} {year}",
    ),
    Language.WELSH: Wording(
        dear="Annwyl {name},",
        sign_off="Yn gywir,\nSwyddog Cyswllt â Dioddefwyr, y Gwasanaeth Prawf",
        subject="Cynllun Cyswllt â Dioddefwyr",
        around="mis {month} {year}",  # "tua mis Mai 2028"
        released_in="ym mis {month} {year}",  # "ei ryddhau ar drwydded ym mis Mai 2028"
        unknown="dyddiad nad yw'n hysbys eto",
        unknown_in="ar ddyddiad nad yw'n hysbys eto",
        until="tan fis {month} {year}",  # soft mutation after "tan"
    ),
}


def month_words(day: date, language: Language, pattern: str) -> str:
    """A month and year only: never the day (exact dates are never disclosed)."""
    return pattern.format(month=MONTHS[language][day.month - 1], year=day.year)


def release_month(day: date | None, language: Language = Language.ENGLISH) -> str:
    wording = WORDING[language]
    return month_words(day, language, wording.around) if day else wording.unknown


def released_in(day: date | None, language: Language = Language.ENGLISH) -> str:
    wording = WORDING[language]
    return month_words(day, language, wording.released_in) if day else wording.unknown_in


def full_date(day: date, language: Language) -> str:
    """A deadline the victim must meet (not a release): day, month and year."""
    if language is Language.ENGLISH:
        return f"{day.day:02d} {MONTHS[language][day.month - 1]} {day.year}"
    return f"{day.day} {MONTHS[language][day.month - 1]} {day.year}"


def _condition_lines(session: Session, condition_ids: list[int], language: Language) -> str:
    if not condition_ids:
        return ""
    rows = session.exec(
        select(LicenceCondition).where(LicenceCondition.id.in_(condition_ids))  # type: ignore[union-attr]
    ).all()
    until = WORDING[language].until
    return "\n".join(
        f"- {c.description}"
        + (f" ({month_words(c.ends_on, language, until)})" if c.ends_on else "")
        for c in rows
    )


def render(
    session: Session, victim: Victim, request: LetterRequest, channel: Channel | None = None
) -> str:
    """The letter in the victim's language. A letter carries the postal address; an email or a
    text message does not."""
    language = victim.language
    channel = channel or victim.preferred_channel
    wording = WORDING[language]
    body = BODIES[language][request.kind].format(
        release_month=release_month(request.release_on, language),
        released_in=released_in(request.release_on, language),
        due=full_date(request.due_on, language) if request.due_on else "",
        conditions=_condition_lines(session, request.condition_ids, language),
        key_stage=KEY_STAGE_WORDS[language][request.key_stage] if request.key_stage else "",
    )
    dear = wording.dear.format(name=victim.full_name)
    if channel in NOTIFY_CHANNELS:
        return f"{dear}\n\n{body}\n\n{wording.sign_off}"
    address = f"{victim.address}\n{victim.postcode or ''}".strip() if victim.address else ""
    header = f"{victim.full_name}\n{address}\n\n" if address else f"{victim.full_name}\n\n"
    return f"{header}{dear}\n\n{body}\n\n{wording.sign_off}"


class LetterActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def send_letter(self, request: LetterRequest) -> int:
        """Put the letter in the outbox exactly once: a retry finds it by its key. For a victim
        who chose email or text message, then send it through Notify exactly once: a retry or a
        replay finds the notification by its reference before sending."""
        letter_id, channel, sent = self._queue(request)
        if channel in NOTIFY_CHANNELS and not sent:
            self._deliver(letter_id)
        return letter_id

    def _queue(self, request: LetterRequest) -> tuple[int, Channel, bool]:
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
                detail=f"{request.kind.value} by {victim.preferred_channel.value}",
            )
            assert letter.id is not None
            return letter.id, letter.channel, False

    def _deliver(self, letter_id: int) -> None:
        """Send one outbox row through Notify, at most once, and record that it was sent."""
        config = notify.config_from_env()
        if config is None:
            log.info("notify not configured: correspondence %s left for manual handling", letter_id)
            return
        with session_scope(self.engine) as session:
            # Lock the row before looking: an earlier attempt of this activity still running
            # (one that outlived its timeout) finishes first, and this one then finds it sent.
            session.exec(
                update(Correspondence)
                .where(Correspondence.id == letter_id)  # type: ignore[arg-type]
                .values(sent_at=Correspondence.sent_at)
            )
            letter = session.get(Correspondence, letter_id)
            if letter is None or letter.sent_at is not None:
                return
            victim = session.get(Victim, letter.victim_id)
            if victim is None or victim.erased_at is not None:
                log.warning(
                    "correspondence %s not sent: the victim's personal data has been erased",
                    letter_id,
                )
                return
            client = notify.NotifyClient(config)
            reference = notify.reference_for(letter.idempotency_key)
            sent = client.find(reference)
            if sent is None:
                sent = self._send(client, letter, victim, reference)
            letter.provider_id = sent.notification_id
            letter.sent_at = sent.at
            session.add(letter)
            append_audit(
                session,
                case_id=letter.case_id,
                victim_id=letter.victim_id,
                actor="engine",
                action="letter_sent",
                detail=f"{letter.kind.value} by {letter.channel.value} through Notify",
            )
        log.info("correspondence %s sent through Notify: %s", letter_id, sent.notification_id)

    @staticmethod
    def _send(
        client: notify.NotifyClient, letter: Correspondence, victim: Victim, reference: str
    ) -> notify.Sent:
        if letter.channel is Channel.EMAIL:
            if not (victim.email and victim.email.strip()):
                raise data_error(f"victim {victim.id} has no email address for letter {letter.id}")
            subject = WORDING[letter.language].subject
            return client.send_email(victim.email.strip(), subject, letter.body, reference)
        if not (victim.phone and victim.phone.strip()):
            raise data_error(f"victim {victim.id} has no phone number for letter {letter.id}")
        return client.send_sms(victim.phone.strip(), letter.body, reference)
