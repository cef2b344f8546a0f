"""A letter to a victim rendered from its request, in the victim's language, for the channel
it goes by. Personal data is read here from the database and goes only into the text returned;
exact release dates, prison locations and release addresses are never disclosed (domain.md
'Never disclosed to a victim'): a release is given as a month."""

from sqlmodel import Session, col, select

from activities.errors import data_error
from activities.letter_bodies import BODIES
from activities.letter_wording import (
    AND,
    DISCHARGE_WORDS,
    DISCLOSED_WORDS,
    KEY_STAGE_WORDS,
    ORDER_ENDED,
    RESTRICTION_ENDS,
    WORDING,
    full_date,
    month_words,
    release_month,
    released_in,
)
from models.activity_requests import LetterRequest
from models.case import OffenderCase
from models.hospital import Hospital
from models.records import LicenceCondition
from models.sharing import Disclosure, DisclosureItem, InformationCategory, RecipientKind
from models.victim import Victim
from models.vocabulary import Channel, DischargeKind, Language, LetterKind

# Channels sent through Notify. The outbox row is written for every channel; letters (and
# letters to a representative) are printed from it by the admin team.
NOTIFY_CHANNELS = (Channel.EMAIL, Channel.PHONE)


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


def hospital_lines(hospital: Hospital) -> str:
    """The hospital's name and address (not victim data: DVCVA s 36A / s 42A)."""
    return "\n".join(line for line in (hospital.name, hospital.address, hospital.postcode) if line)


def _disclosed_to_hospital(
    session: Session, victim_id: int, hospital: Hospital, language: Language
) -> str:
    """What the managers of this hospital have been given about the victim, in words."""
    disclosures = select(Disclosure.id).where(
        Disclosure.victim_id == victim_id,
        Disclosure.recipient_kind == RecipientKind.HOSPITAL_MANAGERS,
        Disclosure.recipient_agency == f"managers of {hospital.name}",
    )
    given = set(
        session.exec(
            select(DisclosureItem.category).where(
                col(DisclosureItem.disclosure_id).in_(disclosures)
            )
        ).all()
    ) | {InformationCategory.VICTIM_NAME}
    words = [w for category, w in DISCLOSED_WORDS[language].items() if category in given]
    return ", ".join(words[:-1]) + AND[language] + words[-1] if len(words) > 1 else words[0]


def _hospital_words(session: Session, request: LetterRequest, language: Language) -> dict[str, str]:
    """The hospital paths' placeholders: the hospital, the discharge, when a restriction ends."""
    hospital = session.get(Hospital, request.hospital_id) if request.hospital_id else None
    if request.hospital_id is not None and hospital is None:
        raise data_error(f"hospital {request.hospital_id} is not in the case database")
    restriction_end = ""
    if request.restriction_ends_on is not None:
        case = session.get(OffenderCase, request.case_id)
        if case is not None and case.disposal in RESTRICTION_ENDS[language]:
            month = month_words(
                request.restriction_ends_on, language, WORDING[language].released_in
            )
            restriction_end = RESTRICTION_ENDS[language][case.disposal].format(month=month)
    absolute = request.discharge is DischargeKind.ABSOLUTE
    return {
        "hospital": hospital_lines(hospital) if hospital else "",
        "hospital_disclosed": _disclosed_to_hospital(session, request.victim_id, hospital, language)
        if hospital and request.kind is LetterKind.HOSPITAL_DETAILS
        else "",
        "discharge": DISCHARGE_WORDS[language][request.discharge] if request.discharge else "",
        "discharge_note": ORDER_ENDED[language] if absolute else "",
        "restriction_end": restriction_end,
    }


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
        next_review=released_in(request.next_review_on, language),
        redated=wording.redated if request.redated else "",
        **_hospital_words(session, request, language),
    )
    dear = wording.dear.format(name=victim.full_name)
    if channel in NOTIFY_CHANNELS:
        return f"{dear}\n\n{body}\n\n{wording.sign_off}"
    address = f"{victim.address}\n{victim.postcode or ''}".strip() if victim.address else ""
    header = f"{victim.full_name}\n{address}\n\n" if address else f"{victim.full_name}\n\n"
    return f"{header}{dear}\n\n{body}\n\n{wording.sign_off}"
