"""Letters to victims, rendered into the outbox the admin team prints and sends from, in the
victim's language (English or Welsh: Welsh Language Standards). A victim who chose email or
text message is also sent the letter through GOV.UK Notify (`activities/delivery.py`).

Personal data is read here from the database and written only to the outbox row and to Notify;
nothing rendered is logged or returned. Exact release dates, prison locations and release
addresses are never disclosed (domain.md 'Never disclosed to a victim'): a release is given as
a month.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from activities import delivery
from activities.audit import append_audit
from activities.errors import data_error
from models.audit import AuditDetail
from models.case import OffenderCase
from models.db import session_scope
from models.hospital import Hospital
from models.messages import LetterRequest
from models.records import Correspondence, LicenceCondition
from models.sharing import Disclosure, DisclosureItem, InformationCategory, RecipientKind
from models.victim import Victim
from models.vocabulary import Channel, DischargeKind, DisposalKind, KeyStage, Language, LetterKind

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
        "or your family, by {due}.{redated}"
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
    # Hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py).
    LetterKind.HOSPITAL_OFFER: (
        "You are entitled to join the Victim Contact Scheme (Domestic Violence, Crime and "
        "Victims Act 2004, sections 36 to 44A). The offender is detained in hospital under the "
        "Mental Health Act 1983. If you join, you can tell us what conditions you would like "
        "the offender to be subject to on discharge from hospital, and we will tell you about "
        "the conditions relating to contact with you or your family. Where the law requires "
        "it, we will give the hospital managers your name, your address and your views, and "
        "tell you the name and address of the hospital. Please tell us whether you would like "
        "to join."
    ),
    LetterKind.HOSPITAL_DETAILS: (
        "The offender is detained in this hospital:\n{hospital}\nAs the law requires, we "
        "have given the hospital managers {hospital_disclosed} (Domestic Violence, Crime and "
        "Victims Act 2004, sections 36A and 42A)."
    ),
    LetterKind.HOSPITAL_NOTICE: (
        "To the managers of the hospital:\n{hospital}\n\nDomestic Violence, Crime and Victims "
        "Act 2004, section {section}. The victim of the offence committed by your patient "
        "(case {case_ref}) wishes to make representations or to receive information.\n"
        "Victim: {victim_name}\nAddress at which the victim may be contacted: "
        "{victim_contact}\n{representations}\nPlease keep this information secure and do not "
        "disclose it to the patient."
    ),
    LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED: (
        "Thank you for your views on the conditions of the offender's discharge from "
        "hospital. We have passed them to those who decide the conditions."
    ),
    LetterKind.DISCHARGE_CONDITIONS: (
        "These conditions of the offender's discharge from hospital relate to you or your "
        "family:\n{conditions}{restriction_end}"
    ),
    LetterKind.DISCHARGE_CONDITION_ENDED: (
        "These conditions of the offender's discharge from hospital have now ended:\n{conditions}"
    ),
    LetterKind.DISCHARGED: (
        "The offender has been {discharge} {released_in}.{discharge_note}{restriction_end}"
    ),
    LetterKind.REMITTED: (
        "The offender has been returned from hospital to prison to continue the sentence. We "
        "will keep you informed as before."
    ),
    LetterKind.RESTRICTION_LIFTED: (
        "The restrictions on the offender's discharge from hospital have been lifted. "
        "Decisions about discharge and its conditions are now made by the offender's "
        "responsible clinician; we will pass any views you give us to them through the "
        "hospital managers."
    ),
    LetterKind.RESTRICTION_VARIED: (
        "The date on which the restrictions on the offender's discharge from hospital end has "
        "changed.{restriction_end}"
    ),
    LetterKind.TRIBUNAL_APPLICATION: (
        "The offender's case is to be considered by the Mental Health Tribunal, which may "
        "discharge the offender from hospital. You may give us your views about the conditions "
        "the offender should be subject to on discharge, and we will pass them to the tribunal."
    ),
    # Parole Board reviews (workflows/review_path.py; domain.md 'Parole'; 000_5a1d5e000983110f.txt).
    LetterKind.PAROLE_INVITATION: (
        "The offender's case has been referred to the Parole Board for a review. You may write "
        "a Victim Personal Statement about the impact the crime has had on you and your "
        "family; it must not say whether you think the offender should be released. You may "
        "also tell us what licence conditions you would like the Board to consider, for "
        "example about contact with you or your family. Please send them to us by {due}. If "
        "the Board holds an oral hearing, you may apply to read your statement at it: the "
        "Board decides."
    ),
    LetterKind.VPS_RECEIVED: (
        "Thank you for your Victim Personal Statement. We have sent it to the Parole Board."
    ),
    LetterKind.VPS_RECEIVED_LATE: (
        "Thank you for your Victim Personal Statement. We have sent it to the Parole Board. It "
        "reached the Board later than its timetable allows, so it is marked as late: the panel "
        "will decide whether to consider it."
    ),
    LetterKind.READ_VPS_GRANTED: (
        "The Parole Board has agreed that you may read your Victim Personal Statement at the "
        "oral hearing. We will contact you about the arrangements."
    ),
    LetterKind.READ_VPS_REFUSED: (
        "The Parole Board has decided that you will not read your Victim Personal Statement "
        "at the oral hearing. Your written statement has been sent to the panel."
    ),
    LetterKind.PAROLE_HEARING_ADJOURNED: (
        "The Parole Board hearing has been adjourned to a later date. Your statement stays "
        "with the Board. We will contact you about the new arrangements."
    ),
    LetterKind.PAROLE_RELEASE: (
        "The Parole Board has directed the offender's release on licence. We will tell you "
        "about the licence conditions relating to you or your family. You may ask us for a "
        "summary of the reasons for the Board's decision."
    ),
    LetterKind.PAROLE_NO_RELEASE: (
        "The Parole Board has decided not to direct the offender's release. The next review "
        "is expected {next_review}. You may ask us for a summary of the reasons for the "
        "Board's decision."
    ),
    LetterKind.PAROLE_OPEN_CONDITIONS: (
        "The Parole Board has recommended that the offender moves to open conditions (a "
        "prison with less security). The offender has not been released. You may ask us for "
        "a summary of the reasons for the Board's decision."
    ),
    LetterKind.PAROLE_SUMMARY_REQUESTED: (
        "You asked for a summary of the reasons for the Parole Board's decision. We have "
        "asked the Board for it and will send it to you as soon as we have it."
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
        "neu â'ch teulu, erbyn {due}.{redated}"
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
    # Llwybrau ysbyty (Deddf 2004, adrannau 36-44A; models/hospital.py).
    LetterKind.HOSPITAL_OFFER: (
        "Mae gennych hawl i ymuno â'r Cynllun Cyswllt â Dioddefwyr (Deddf Trais Domestig, "
        "Troseddu a Dioddefwyr 2004, adrannau 36 i 44A). Mae'r troseddwr yn cael ei gadw yn "
        "yr ysbyty o dan Ddeddf Iechyd Meddwl 1983. Os byddwch yn ymuno, gallwch ddweud wrthym "
        "pa amodau yr hoffech eu gweld pan gaiff y troseddwr ei ryddhau o'r ysbyty, a byddwn "
        "yn rhoi gwybod i chi am yr amodau sy'n ymwneud â chysylltiad â chi neu â'ch teulu. "
        "Lle mae'r gyfraith yn gofyn hynny, byddwn yn rhoi eich enw, eich cyfeiriad a'ch "
        "sylwadau i reolwyr yr ysbyty, ac yn rhoi gwybod i chi beth yw enw a chyfeiriad yr "
        "ysbyty. Rhowch wybod i ni a hoffech ymuno."
    ),
    LetterKind.HOSPITAL_DETAILS: (
        "Mae'r troseddwr yn cael ei gadw yn yr ysbyty hwn:\n{hospital}\nFel y mae'r gyfraith "
        "yn ei gwneud yn ofynnol, rydym wedi rhoi {hospital_disclosed} i reolwyr yr ysbyty "
        "(Deddf Trais Domestig, Troseddu a Dioddefwyr 2004, adrannau 36A a 42A)."
    ),
    LetterKind.HOSPITAL_NOTICE: (
        "At reolwyr yr ysbyty:\n{hospital}\n\nDeddf Trais Domestig, Troseddu a Dioddefwyr "
        "2004, adran {section}. Mae dioddefwr y drosedd a gyflawnwyd gan eich claf (achos "
        "{case_ref}) yn dymuno cyflwyno sylwadau neu gael gwybodaeth.\n"
        "Dioddefwr: {victim_name}\nCyfeiriad lle gellir cysylltu â'r dioddefwr: "
        "{victim_contact}\n{representations}\nCadwch yr wybodaeth hon yn ddiogel a pheidiwch "
        "â'i datgelu i'r claf."
    ),
    LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED: (
        "Diolch am eich sylwadau ar amodau rhyddhau'r troseddwr o'r ysbyty. Rydym wedi eu "
        "hanfon at y rhai sy'n penderfynu ar yr amodau."
    ),
    LetterKind.DISCHARGE_CONDITIONS: (
        "Mae'r amodau hyn ar gyfer rhyddhau'r troseddwr o'r ysbyty yn ymwneud â chi neu â'ch "
        "teulu:\n{conditions}{restriction_end}"
    ),
    LetterKind.DISCHARGE_CONDITION_ENDED: (
        "Mae'r amodau hyn ar gyfer rhyddhau'r troseddwr o'r ysbyty bellach wedi dod i ben:\n"
        "{conditions}"
    ),
    LetterKind.DISCHARGED: (
        "Mae'r troseddwr wedi cael ei {discharge} {released_in}.{discharge_note}{restriction_end}"
    ),
    LetterKind.REMITTED: (
        "Mae'r troseddwr wedi cael ei anfon yn ôl o'r ysbyty i'r carchar i barhau â'r "
        "ddedfryd. Byddwn yn parhau i roi gwybod i chi fel o'r blaen."
    ),
    LetterKind.RESTRICTION_LIFTED: (
        "Mae'r cyfyngiadau ar ryddhau'r troseddwr o'r ysbyty wedi cael eu codi. Bellach, "
        "clinigydd cyfrifol y troseddwr sy'n penderfynu ar ei ryddhau a'r amodau; byddwn yn "
        "anfon unrhyw sylwadau a roddwch i ni atynt drwy reolwyr yr ysbyty."
    ),
    LetterKind.RESTRICTION_VARIED: (
        "Mae'r dyddiad y daw'r cyfyngiadau ar ryddhau'r troseddwr o'r ysbyty i ben wedi "
        "newid.{restriction_end}"
    ),
    LetterKind.TRIBUNAL_APPLICATION: (
        "Bydd y Tribiwnlys Iechyd Meddwl yn ystyried achos y troseddwr, a gall ei ryddhau o'r "
        "ysbyty. Gallwch roi eich sylwadau i ni am yr amodau y dylai'r troseddwr fod yn "
        "ddarostyngedig iddynt ar ôl ei ryddhau, a byddwn yn eu hanfon at y tribiwnlys."
    ),
    # Adolygiadau'r Bwrdd Parôl (workflows/review_path.py).
    LetterKind.PAROLE_INVITATION: (
        "Mae achos y troseddwr wedi cael ei gyfeirio at y Bwrdd Parôl i'w adolygu. Gallwch "
        "ysgrifennu Datganiad Personol Dioddefwr am effaith y drosedd arnoch chi a'ch teulu; "
        "ni ddylai ddweud a ydych yn credu y dylai'r troseddwr gael ei ryddhau. Gallwch hefyd "
        "ddweud wrthym pa amodau trwydded yr hoffech i'r Bwrdd eu hystyried, er enghraifft am "
        "gysylltiad â chi neu â'ch teulu. Anfonwch nhw atom erbyn {due}. Os bydd y Bwrdd yn "
        "cynnal gwrandawiad llafar, gallwch wneud cais i ddarllen eich datganiad yno: y Bwrdd "
        "sy'n penderfynu."
    ),
    LetterKind.VPS_RECEIVED: (
        "Diolch am eich Datganiad Personol Dioddefwr. Rydym wedi ei anfon at y Bwrdd Parôl."
    ),
    LetterKind.VPS_RECEIVED_LATE: (
        "Diolch am eich Datganiad Personol Dioddefwr. Rydym wedi ei anfon at y Bwrdd Parôl. "
        "Fe gyrhaeddodd y Bwrdd yn hwyrach nag y mae ei amserlen yn ei ganiatáu, felly mae "
        "wedi'i nodi'n hwyr: bydd y panel yn penderfynu a fydd yn ei ystyried."
    ),
    LetterKind.READ_VPS_GRANTED: (
        "Mae'r Bwrdd Parôl wedi cytuno y cewch ddarllen eich Datganiad Personol Dioddefwr yn "
        "y gwrandawiad llafar. Byddwn yn cysylltu â chi am y trefniadau."
    ),
    LetterKind.READ_VPS_REFUSED: (
        "Mae'r Bwrdd Parôl wedi penderfynu na fyddwch yn darllen eich Datganiad Personol "
        "Dioddefwr yn y gwrandawiad llafar. Mae eich datganiad ysgrifenedig wedi cael ei "
        "anfon at y panel."
    ),
    LetterKind.PAROLE_HEARING_ADJOURNED: (
        "Mae gwrandawiad y Bwrdd Parôl wedi cael ei ohirio i ddyddiad diweddarach. Mae eich "
        "datganiad yn aros gyda'r Bwrdd. Byddwn yn cysylltu â chi am y trefniadau newydd."
    ),
    LetterKind.PAROLE_RELEASE: (
        "Mae'r Bwrdd Parôl wedi cyfarwyddo y dylid rhyddhau'r troseddwr ar drwydded. Byddwn "
        "yn rhoi gwybod i chi am amodau'r drwydded sy'n ymwneud â chi neu â'ch teulu. Gallwch "
        "ofyn i ni am grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_NO_RELEASE: (
        "Mae'r Bwrdd Parôl wedi penderfynu peidio â chyfarwyddo y dylid rhyddhau'r troseddwr. "
        "Disgwylir i'r adolygiad nesaf gael ei gynnal {next_review}. Gallwch ofyn i ni am "
        "grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_OPEN_CONDITIONS: (
        "Mae'r Bwrdd Parôl wedi argymell y dylai'r troseddwr symud i amodau agored (carchar "
        "â llai o ddiogelwch). Nid yw'r troseddwr wedi cael ei ryddhau. Gallwch ofyn i ni am "
        "grynodeb o'r rhesymau dros benderfyniad y Bwrdd."
    ),
    LetterKind.PAROLE_SUMMARY_REQUESTED: (
        "Gwnaethoch ofyn am grynodeb o'r rhesymau dros benderfyniad y Bwrdd Parôl. Rydym "
        "wedi gofyn i'r Bwrdd amdano a byddwn yn ei anfon atoch cyn gynted ag y bydd "
        "gennym ef."
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
