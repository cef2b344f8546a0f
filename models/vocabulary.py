"""The fixed vocabularies of the scheme: sentence types, offence classes, stages, channels."""

from enum import StrEnum


class Provider(StrEnum):
    """Who supervises the offender (004_1f588538fba2148d.txt; 003_532a1c7aa3a81105.txt)."""

    NPS = "NPS"
    CRC = "CRC"
    YOT = "YOT"


class DisposalKind(StrEnum):
    """Custodial now; the hospital paths (DVCVA ss 36, 39, 42) arrive with the hospital issue."""

    CUSTODIAL = "custodial"
    HOSPITAL_ORDER = "hospital_order"
    HOSPITAL_DIRECTION = "hospital_direction"
    TRANSFER_DIRECTION = "transfer_direction"


class SentenceType(StrEnum):
    """Custodial sentences, named as DVCVA 2004 s 45(3) counts them."""

    IMPRISONMENT = "imprisonment"  # determinate term, incl. extended sentences
    EXTENDED = "extended"  # extended determinate sentence (no post-sentence supervision)
    LIFE = "life"  # life imprisonment / custody for life (indeterminate)
    IPP = "ipp"  # imprisonment for public protection (indeterminate)
    DETENTION_HMP = "detention_hmp"  # detention during His Majesty's pleasure
    DETENTION_S250 = "detention_s250"  # PCC(S)A 2000 s 91, now Sentencing Code s 250
    DTO = "dto"  # detention and training order
    SUSPENDED = "suspended"  # suspended sentence order: the offender is not detained
    COMMUNITY = "community"  # community order: not custodial


class OffenceCategory(StrEnum):
    """What makes an offence 'sexual or violent' under DVCVA 2004 s 45(2)."""

    MURDER = "murder"  # s 45(2)(a)
    SCHEDULE_15_VIOLENT = "sch15_violent"  # s 45(2)(b): CJA 2003 Sch 15 Part 1
    SCHEDULE_15_SEXUAL = "sch15_sexual"  # s 45(2)(b): CJA 2003 Sch 15 Part 2
    SEX_OFFENDER_NOTIFICATION = "soa2003_notification"  # s 45(2)(c): SOA 2003 Part 2
    OFFENCE_AGAINST_CHILD = "child_offence"  # s 45(2)(d): CJCSA 2000 Part 2
    TERRORISM = "terrorism"  # s 35(3) as amended: terrorism offences
    OTHER = "other"  # none of the above


class Stage(StrEnum):
    """Where one victim stands in the scheme."""

    IDENTIFIED = "identified"
    OFFERED = "offered"
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    NO_RESPONSE = "no_response"
    CLOSED = "closed"


class ContactLevel(StrEnum):
    """How much a victim who opts in wants to hear (domain.md, 'Opt in or out')."""

    RELEASE_ONLY = "release_only"
    ANNUAL = "annual"
    ALL_KEY_STAGES = "all_key_stages"


class Channel(StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"
    REPRESENTATIVE = "representative"


class Language(StrEnum):
    ENGLISH = "en"
    WELSH = "cy"


class KeyStage(StrEnum):
    """Key stages of a custodial sentence a victim may be told of (Victims' Code; 000_5a1d...)."""

    TEMPORARY_RELEASE = "temporary_release"
    OPEN_CONDITIONS = "open_conditions"
    PAROLE_REVIEW = "parole_review"
    RECALL = "recall"
    ESCAPE = "escape"
    DEATH = "death"
    TRANSFER_TO_HOSPITAL = "transfer_to_hospital"
    DEPORTATION = "deportation"


class ConditionKind(StrEnum):
    NO_CONTACT = "no_contact"
    EXCLUSION_ZONE = "exclusion_zone"
    NON_RESIDENCE = "non_residence"
    OTHER = "other"


class TaskKind(StrEnum):
    """Human work the statute or Code puts on a VLO, and escalations of it."""

    OFFER_SCHEME = "offer_scheme"  # Victims' Code 2020 Right 11: contact within 20 working days
    CHASE_RESPONSE = "chase_response"  # local practice: a person tries before an offer closes
    DISCUSS_REPRESENTATIONS = "discuss_representations"  # DVCVA s 35(3): reasonable steps
    CONFIRM_RELEASE = "confirm_release"  # release milestone reached with no release recorded
    UNDELIVERED = "undelivered"  # email/text refused by the provider: reach the victim otherwise
    # DVCVA 2004 s 9: take part in a domestic homicide review when directed; every provider,
    # NPS and CRC alike ("applies automatically", 000_5a1d5e000983110f.txt).
    DOMESTIC_HOMICIDE_REVIEW = "domestic_homicide_review"
    ESCALATION = "escalation"
    # Provider hand-offs (domain.md "Providers and hand-offs"): the sending provider supplies
    # the case information, the receiving provider accepts; each step has a local SLA.
    HANDOFF_SUPPLY = "handoff_supply"
    HANDOFF_ACCEPT = "handoff_accept"
    # 000_5a1d5e000983110f.txt: CRCs are contractually required to support the NPS by providing
    # key information about offenders, so the NPS VLO can tell victims.
    CRC_EVENT = "crc_event"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LetterKind(StrEnum):
    OFFER = "offer"
    CHASE = "chase"
    OFFER_CLOSED = "offer_closed"
    OPT_IN_CONFIRMED = "opt_in_confirmed"
    OPT_OUT_CONFIRMED = "opt_out_confirmed"
    REPRESENTATIONS_INVITED = "representations_invited"
    REPRESENTATIONS_RECEIVED = "representations_received"
    CONDITIONS_IMPOSED = "conditions_imposed"
    RELEASE = "release"
    KEY_STAGE = "key_stage"
    ANNUAL_UPDATE = "annual_update"
    CONDITION_ENDED = "condition_ended"
    SCHEME_ENDED = "scheme_ended"


class HandoffReason(StrEnum):
    """Why responsibility for a case moves between providers (domain.md 'Providers')."""

    RISK_ESCALATION = "risk_escalation"  # CRC -> NPS when risk rises (004_1f588538fba2148d.txt)
    YOUTH_TO_ADULT = "youth_to_adult"  # YOT -> adult probation at 18 (000_5a1d5e000983110f.txt)
    REGION_MOVE = "region_move"  # the offender moves; the case moves region
    UNIFICATION_2021 = "unification_2021"  # CRC cases to the NPS, June 2021 (003_532a...)


class HandoffStep(StrEnum):
    """Where a hand-off stands: requested -> supplied -> accepted -> switched."""

    REQUESTED = "requested"
    SUPPLIED = "supplied"
    ACCEPTED = "accepted"
    SWITCHED = "switched"


class CrcEventKind(StrEnum):
    """Key events a CRC reports to the NPS VLO (000_5a1d5e000983110f.txt, 'Victims')."""

    BREACH = "breach"
    RECALL = "recall"
    ADDRESS_CHANGE_EXCLUSION_ZONE = "address_change_exclusion_zone"
