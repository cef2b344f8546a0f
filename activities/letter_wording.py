"""The fixed words of letters to victims in each language, around the bodies
(activities/letter_bodies.py): key stages, discharges, months, greetings and sign-offs, and
dates in words (a release only ever as a month: exact dates are never disclosed)."""

from dataclasses import dataclass
from datetime import date

from models.sharing import InformationCategory
from models.vocabulary import DischargeKind, DisposalKind, KeyStage, Language

KEY_STAGE_WORDS: dict[Language, dict[KeyStage, str]] = {
    Language.ENGLISH: {
        KeyStage.TEMPORARY_RELEASE: "the offender has been granted release on temporary licence",
        KeyStage.OPEN_CONDITIONS: "the offender has moved to open conditions",
        KeyStage.PAROLE_REVIEW: "the offender's case has been referred to the Parole Board",
        KeyStage.RECALL: "the offender has been recalled to custody",
        KeyStage.ESCAPE: "the offender has escaped from custody",
        KeyStage.ABSCONDING: (
            "the offender has absconded: they left open conditions, or did not return from "
            "temporary release, without permission"
        ),
        KeyStage.RETURNED_TO_CUSTODY: "the offender is back in custody",
        KeyStage.DEATH: (
            "the offender has died. Your part in the Victim Contact Scheme has now ended"
        ),
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
        KeyStage.ESCAPE: "mae'r troseddwr wedi dianc o'r ddalfa",
        KeyStage.ABSCONDING: (
            "mae'r troseddwr wedi mynd ar ffo: gadawodd amodau agored, neu ni ddychwelodd ar ôl "
            "cael ei ryddhau dros dro, heb ganiatâd"
        ),
        KeyStage.RETURNED_TO_CUSTODY: "mae'r troseddwr yn ôl yn y ddalfa",
        KeyStage.DEATH: (
            "mae'r troseddwr wedi marw. Mae eich rhan yn y Cynllun Cyswllt â Dioddefwyr bellach "
            "wedi dod i ben"
        ),
        KeyStage.TRANSFER_TO_HOSPITAL: "mae'r troseddwr wedi cael ei drosglwyddo i'r ysbyty",
        KeyStage.DEPORTATION: "mae'r troseddwr wedi cael ei allgludo",
    },
}

# Hospital paths (models/hospital.py): how a discharge is told (MHA 1983 s 17A, s 42(2), s 73).
DISCHARGE_WORDS: dict[Language, dict[DischargeKind, str]] = {
    Language.ENGLISH: {
        DischargeKind.CONDITIONAL: "conditionally discharged from hospital",
        DischargeKind.COMMUNITY_TREATMENT_ORDER: (
            "discharged from hospital on a community treatment order"
        ),
        DischargeKind.ABSOLUTE: "absolutely discharged from hospital",
    },
    Language.WELSH: {
        DischargeKind.CONDITIONAL: "ryddhau'n amodol o'r ysbyty",
        DischargeKind.COMMUNITY_TREATMENT_ORDER: (
            "ryddhau o'r ysbyty ar orchymyn triniaeth gymunedol"
        ),
        DischargeKind.ABSOLUTE: "ryddhau'n ddiamod o'r ysbyty",
    },
}
# An absolute discharge ends the order, and with it the scheme.
ORDER_ENDED: dict[Language, str] = {
    Language.ENGLISH: (
        " The order no longer applies, and your part in the Victim Contact Scheme has now ended."
    ),
    Language.WELSH: (
        " Nid yw'r gorchymyn yn berthnasol mwyach, ac mae eich rhan yn y Cynllun Cyswllt â "
        "Dioddefwyr bellach wedi dod i ben."
    ),
}
# DVCVA s 41(3), s 44(3): the date the limitation or restriction direction ceases. It is the
# date the prisoner would have been released, so it is told as a month, like a release.
RESTRICTION_ENDS: dict[Language, dict[DisposalKind, str]] = {
    Language.ENGLISH: {
        DisposalKind.HOSPITAL_ORDER: "\nThe restriction order ceases {month}.",
        DisposalKind.HOSPITAL_DIRECTION: "\nThe limitation direction ceases {month}.",
        DisposalKind.TRANSFER_DIRECTION: "\nThe restriction direction ceases {month}.",
    },
    Language.WELSH: {
        DisposalKind.HOSPITAL_ORDER: "\nBydd y gorchymyn cyfyngu yn dod i ben {month}.",
        DisposalKind.HOSPITAL_DIRECTION: "\nBydd y cyfarwyddyd cyfyngu yn dod i ben {month}.",
        DisposalKind.TRANSFER_DIRECTION: ("\nBydd y cyfarwyddyd cyfyngiadau yn dod i ben {month}."),
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
    redated: str  # a representations invitation giving a new reply-by date


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
        redated=" This date replaces the one in our earlier letter.",
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
        redated=" Mae'r dyddiad hwn yn disodli'r un yn ein llythyr blaenorol.",
    ),
}


# An email's subject, in each language (activities/delivery.py sends it).
EMAIL_SUBJECTS = {language: wording.subject for language, wording in WORDING.items()}


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


# What the hospital managers were given (s 36A / s 42A), in the words of the HOSPITAL_DETAILS
# letter: only what the Disclosure records say was given, never more.
DISCLOSED_WORDS: dict[Language, dict[InformationCategory, str]] = {
    Language.ENGLISH: {
        InformationCategory.VICTIM_NAME: "your name",
        InformationCategory.VICTIM_ADDRESS: "your address",
        InformationCategory.VICTIM_CONTACT_DETAILS: "the email address or phone number you gave us",
        InformationCategory.VICTIM_REPRESENTATIONS: "the views you have given us",
    },
    Language.WELSH: {
        InformationCategory.VICTIM_NAME: "eich enw",
        InformationCategory.VICTIM_ADDRESS: "eich cyfeiriad",
        InformationCategory.VICTIM_CONTACT_DETAILS: "eich e-bost neu'ch rhif ffôn",
        InformationCategory.VICTIM_REPRESENTATIONS: "eich sylwadau",
    },
}
AND = {Language.ENGLISH: " and ", Language.WELSH: " ac "}  # every Welsh item starts "eich"
