"""The fixed vocabularies of the scheme: sentence types, offence classes, stages, channels."""

from enum import StrEnum


class Provider(StrEnum):
    """Who supervises the offender (004_1f588538fba2148d.txt; 003_532a1c7aa3a81105.txt)."""

    NPS = "NPS"
    CRC = "CRC"
    YOT = "YOT"


class DisposalKind(StrEnum):
    """How the offender is held: the custodial path (DVCVA s 35) or a hospital path."""

    CUSTODIAL = "custodial"
    HOSPITAL_ORDER = "hospital_order"  # MHA 1983 s 37 (+ s 41 restriction order): DVCVA s 36
    HOSPITAL_DIRECTION = "hospital_direction"  # MHA 1983 s 45A (+ limitation): DVCVA s 39
    TRANSFER_DIRECTION = "transfer_direction"  # MHA 1983 s 47 (+ s 49 restriction): DVCVA s 42


class Finding(StrEnum):
    """What the court found (DVCVA 2004 s 36(1)(b)): only a hospital order may follow a verdict
    of not guilty by reason of insanity or a finding of disability."""

    CONVICTED = "convicted"
    NOT_GUILTY_INSANITY = "not_guilty_insanity"  # not guilty by reason of insanity
    UNDER_DISABILITY = "under_disability"  # unfit to plead, found to have done the act


class HospitalPath(StrEnum):
    """The mentally disordered offender paths of DVCVA 2004 Part 3 Chapter 2."""

    S36_RESTRICTED = "s36_restricted"  # hospital order + restriction order: ss 36, 36A, 37, 38
    S36_UNRESTRICTED = "s36_unrestricted"  # hospital order alone: ss 36, 36A, 37A, 38A
    S39_LIMITATION = "s39_limitation"  # hospital direction + limitation direction: ss 39-41
    S42_RESTRICTED = "s42_restricted"  # transfer + restriction direction: ss 42, 42A, 43, 44
    S42_UNRESTRICTED = "s42_unrestricted"  # transfer direction alone: ss 42, 42A, 43A, 44A


class DischargeKind(StrEnum):
    """How a patient leaves hospital other than by remission to prison (MHA 1983)."""

    CONDITIONAL = "conditional"  # restricted patients: MHA 1983 s 42(2), s 73
    COMMUNITY_TREATMENT_ORDER = "cto"  # unrestricted patients only: MHA 1983 s 17A
    ABSOLUTE = "absolute"  # the order ends: MHA 1983 s 23, s 42(2), s 73


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
    HOSPITAL_ORDER = "hospital_order"  # MHA 1983 s 37: a hospital order instead of a sentence


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
    """Key stages of a custodial sentence a victim may be told of (Victims' Code; 000_5a1d...).
    When each may be recorded, and who is told: models/key_stages.py."""

    TEMPORARY_RELEASE = "temporary_release"
    OPEN_CONDITIONS = "open_conditions"
    PAROLE_REVIEW = "parole_review"
    RECALL = "recall"
    # domain.md 'In custody': "escape or absconding". Kept apart so the victim is told which:
    # an escape is from closed custody or an escort; absconding is walking out of open
    # conditions or not coming back from temporary release. Both are urgent.
    ESCAPE = "escape"
    ABSCONDING = "absconding"
    # Local rule: the end of an escape or absconding (arrest or surrender). Whoever was told
    # the offender was at large is told they are back.
    RETURNED_TO_CUSTODY = "returned_to_custody"
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
    # DVCVA 2004 s 36A / s 42A: the hospital managers are notified once the hospital is known.
    RECORD_HOSPITAL = "record_hospital"
    # An escape or absconding: the VLO must reach every victim in the scheme at once (EU
    # Victims Directive 2012/29/EU art 6(5)); due the day it is recorded (models/key_stages.py).
    URGENT_KEY_STAGE = "urgent_key_stage"
    # Parole Board reviews (workflows/review_path.py; domain.md 'Parole'): discuss the VPS and
    # licence-condition representations with an invited victim, due at the Board's deadline;
    # pass an application to read the VPS at the oral hearing to the Board; chase a decision
    # not recorded 14 days after the hearing; obtain and send a decision summary asked for.
    PAROLE_VPS = "parole_vps"
    PAROLE_READ_APPLICATION = "parole_read_application"
    PAROLE_DECISION_OVERDUE = "parole_decision_overdue"
    PAROLE_SUMMARY = "parole_summary"
    # A tariff / parole eligibility date nears: prepare the victims in the scheme for the
    # Parole Board review before it starts (models/policy.py; workflows/case.py).
    PAROLE_PREPARATION = "parole_preparation"


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
    # Hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py).
    HOSPITAL_OFFER = "hospital_offer"
    HOSPITAL_DETAILS = "hospital_details"  # s 36A / s 42A: the hospital's name and address
    HOSPITAL_NOTICE = "hospital_notice"  # s 36A / s 42A: to the hospital managers
    DISCHARGE_REPRESENTATIONS_RECEIVED = "discharge_representations_received"
    DISCHARGE_CONDITIONS = "discharge_conditions"  # ss 38, 38A, 41(3), 44(3), 44A
    DISCHARGE_CONDITION_ENDED = "discharge_condition_ended"
    DISCHARGED = "discharged"
    REMITTED = "remitted"  # back to prison from hospital (MHA 1983 s 50)
    # DVCVA s 37(4), (6)-(7) (ss 40, 43 for directions): news the Secretary of State or the
    # tribunal gives the probation body, passed to the victim.
    RESTRICTION_LIFTED = "restriction_lifted"  # MHA 1983 s 42(1) direction lifting restrictions
    RESTRICTION_VARIED = "restriction_varied"  # the date a restriction ceases changed
    TRIBUNAL_APPLICATION = "tribunal_application"  # MHA 1983 ss 69, 70, 71, 75
    # Parole Board reviews (workflows/review_path.py; domain.md 'Parole').
    PAROLE_INVITATION = "parole_invitation"
    VPS_RECEIVED = "vps_received"
    VPS_RECEIVED_LATE = "vps_received_late"
    READ_VPS_GRANTED = "read_vps_granted"
    READ_VPS_REFUSED = "read_vps_refused"
    PAROLE_HEARING_ADJOURNED = "parole_hearing_adjourned"
    PAROLE_RELEASE = "parole_release"
    PAROLE_NO_RELEASE = "parole_no_release"
    PAROLE_OPEN_CONDITIONS = "parole_open_conditions"
    PAROLE_SUMMARY_REQUESTED = "parole_summary_requested"


class HandoffReason(StrEnum):
    """Why responsibility for a case moves between providers (domain.md 'Providers')."""

    RISK_ESCALATION = "risk_escalation"  # CRC -> NPS when risk rises (004_1f588538fba2148d.txt)
    YOUTH_TO_ADULT = "youth_to_adult"  # YOT -> adult probation at 18 (000_5a1d5e000983110f.txt)
    REGION_MOVE = "region_move"  # the offender moves; the case moves region
    UNIFICATION_2021 = "unification_2021"  # CRC cases to the NPS, June 2021 (003_532a...)


class HandoffStep(StrEnum):
    """Where a hand-off stands: requested -> supplied -> accepted -> switched; or withdrawn
    (with a reason) before it switched."""

    REQUESTED = "requested"
    SUPPLIED = "supplied"
    ACCEPTED = "accepted"
    SWITCHED = "switched"
    WITHDRAWN = "withdrawn"


class CrcEventKind(StrEnum):
    """Key events a CRC reports to the NPS VLO (000_5a1d5e000983110f.txt, 'Victims')."""

    BREACH = "breach"
    RECALL = "recall"
    ADDRESS_CHANGE_EXCLUSION_ZONE = "address_change_exclusion_zone"


class ParoleOutcome(StrEnum):
    """What the Parole Board decided on a review (domain.md 'Parole')."""

    RELEASE = "release"
    NO_RELEASE = "no_release"
    OPEN_CONDITIONS = "open_conditions"
