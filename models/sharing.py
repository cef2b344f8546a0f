"""Information sharing with other agencies, and domestic homicide reviews (issue 4).

Sources:
- MAPPA memorandum of understanding (001_272af33299f517c0.txt; CJA 2003 s 325): sharing must
  "have lawful authority, be necessary, be proportionate, ensure the safety and security of the
  information shared, and be accountable"; information one agency provides "must not be
  disclosed to any third party without the written consent of the agency that provided the
  information"; requests "by an offender or their legal representative" go to the MAPPP chair,
  never straight to them.
- domain.md 'Victim data': "A victim's address must never reach the offender. It leaves the
  system only under s 36A / s 42A (to hospital managers) or with the victim's consent, and each
  disclosure is recorded."
- DVCVA 2004 s 36A / s 42A (duty table, 000_5a1d5e000983110f.txt): the provider notifies the
  hospital managers of the victim's name and address and their representations.
- DVCVA 2004 s 9 (000_5a1d5e000983110f.txt): every provider, NPS and CRC alike, must take part
  in a domestic homicide review when directed ("applies automatically").

A Disclosure records what was shared as categories, never the information itself. Every allowed
disclosure is written to the case's audit chain in the same transaction; a refused one changes
nothing.
"""

from datetime import date, datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.case import OffenderCase
from models.messages import VloAction
from models.text import clean_text
from models.victim import Victim

MOU = "MAPPA memorandum of understanding, 001_272af33299f517c0.txt"


class LawfulBasis(StrEnum):
    """The recorded bases on which the provider may disclose (MoU: 'have lawful authority')."""

    DVCVA_S36A = "dvcva_s36a"  # DVCVA 2004 s 36A: to hospital managers (hospital order)
    DVCVA_S42A = "dvcva_s42a"  # DVCVA 2004 s 42A: to hospital managers (transfer direction)
    CJA_S325_MAPPA = "cja2003_s325"  # CJA 2003 s 325(3)-(4): MAPPA duty to co-operate
    CDA_S115 = "cda1998_s115"  # Crime and Disorder Act 1998 s 115 (MoU, 'Powers')
    VICTIM_CONSENT = "victim_consent"  # the victim's recorded consent
    COURT_ORDER = "court_order"  # an order of a court


HOSPITAL_BASES = (LawfulBasis.DVCVA_S36A, LawfulBasis.DVCVA_S42A)


class RecipientKind(StrEnum):
    HOSPITAL_MANAGERS = "hospital_managers"
    POLICE = "police"
    PRISON = "prison"
    YOUTH_OFFENDING_TEAM = "youth_offending_team"
    LOCAL_AUTHORITY = "local_authority"  # housing, social services, education
    HEALTH = "health"
    HOUSING_PROVIDER = "housing_provider"
    DWP = "dwp"
    ELECTRONIC_MONITORING = "electronic_monitoring"
    VICTIM_SERVICES = "victim_services"
    COURT = "court"
    DHR_PANEL = "dhr_panel"  # a domestic homicide review (DVCVA s 9)
    OTHER_AGENCY = "other_agency"
    OFFENDER = "offender"
    OFFENDER_REPRESENTATIVE = "offender_representative"


class InformationCategory(StrEnum):
    """What was shared, as a category: the information itself is never copied here."""

    VICTIM_NAME = "victim_name"
    VICTIM_ADDRESS = "victim_address"
    VICTIM_CONTACT_DETAILS = "victim_contact_details"
    VICTIM_REPRESENTATIONS = "victim_representations"
    VICTIM_WISHES = "victim_wishes"
    LICENCE_CONDITIONS = "licence_conditions"
    SENTENCE_DATES = "sentence_dates"
    RELEASE_DETAILS = "release_details"
    RISK_INFORMATION = "risk_information"
    OFFENCE_DETAILS = "offence_details"


VICTIM_CATEGORIES = frozenset(c for c in InformationCategory if c.value.startswith("victim_"))


class OnwardConsent(StrEnum):
    """What the supplying agency has agreed to in writing (MoU: no onward disclosure without it)."""

    NONE = "none"
    NAMED_AGENCIES = "named_agencies"


class ItemSource(StrEnum):
    OWN = "own"
    SUPPLIED = "supplied"


def agency_key(name: str) -> str:
    """Agencies are compared by name, ignoring case and spacing."""
    return " ".join(name.split()).casefold()


def one_line(value: str) -> str:
    value = clean_text(value).strip()
    if not value:
        raise ValueError("must not be empty")
    return value


class SuppliedInformation(SQLModel, table=True):
    """Information another agency gave us about a case (its category, not its content)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    supplying_agency: str = Field(max_length=120)
    category: InformationCategory
    received_on: date
    onward_consent: OnwardConsent = OnwardConsent.NONE
    consented_agencies: list[str] = Field(default_factory=list, sa_type=JSON)
    written_consent_ref: str | None = Field(default=None, max_length=120)
    recorded_by: str = Field(max_length=60)
    recorded_at: datetime


class Disclosure(SQLModel, table=True):
    """One disclosure of victim or case information to another agency."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    victim_id: int | None = Field(default=None, foreign_key="victim.id", index=True)
    recipient_agency: str = Field(max_length=120)
    recipient_kind: RecipientKind
    lawful_basis: LawfulBasis
    purpose: str = Field(max_length=500)
    victim_consent_ref: str | None = Field(default=None, max_length=120)
    disclosed_by: str = Field(max_length=60)
    disclosed_at: datetime


class DisclosureItem(SQLModel, table=True):
    """One category shared in a disclosure, and where it came from."""

    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosure.id", index=True)
    category: InformationCategory
    source: ItemSource
    supplied_id: int | None = Field(default=None, foreign_key="suppliedinformation.id")


# ---- requests and rules ------------------------------------------------------------------------


class SuppliedRequest(SQLModel):
    supplying_agency: str = Field(min_length=1, max_length=120)
    category: InformationCategory
    received_on: date
    onward_consent: OnwardConsent = OnwardConsent.NONE
    consented_agencies: list[str] = Field(default_factory=list)
    written_consent_ref: str | None = Field(default=None, max_length=120)

    @field_validator("supplying_agency")
    @classmethod
    def _agency(cls, value: str) -> str:
        return one_line(value)

    def problems(self, today: date) -> list[str]:
        problems = []
        if self.received_on > today:
            problems.append(f"received date {self.received_on} is in the future")
        if self.onward_consent is OnwardConsent.NAMED_AGENCIES:
            if not [a for a in self.consented_agencies if a.strip()]:
                problems.append("consent to named agencies names no agency")
            if not (self.written_consent_ref or "").strip():
                problems.append(
                    f"consent to onward disclosure must be written: give its reference ({MOU})"
                )
        elif self.consented_agencies or self.written_consent_ref:
            problems.append("agencies or a consent reference given, but consent is 'none'")
        return problems


class DisclosureRequest(SQLModel):
    recipient_agency: str = Field(min_length=1, max_length=120)
    recipient_kind: RecipientKind
    lawful_basis: LawfulBasis | None = None
    purpose: str = Field(default="", max_length=500)
    own_categories: list[InformationCategory] = Field(default_factory=list)
    supplied_ids: list[int] = Field(default_factory=list)
    victim_id: int | None = None
    victim_consent_ref: str | None = Field(default=None, max_length=120)

    @field_validator("recipient_agency")
    @classmethod
    def _agency(cls, value: str) -> str:
        return one_line(value)

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        return clean_text(value).strip()


def disclosure_refusals(
    request: DisclosureRequest,
    case: OffenderCase,
    supplied: list[SuppliedInformation],
    victim: Victim | None,
) -> list[str]:
    """Every rule the disclosure breaks, each with its source. Empty: it may go."""
    refusals: list[str] = []
    basis, kind = request.lawful_basis, request.recipient_kind
    categories = set(request.own_categories) | {s.category for s in supplied}
    if kind in (RecipientKind.OFFENDER, RecipientKind.OFFENDER_REPRESENTATIVE):
        refusals.append(
            "nothing is disclosed to the offender or the offender's representative: refer the "
            f"request to the MAPPP chair ({MOU}; domain.md 'Victim data')"
        )
    if basis is None:
        refusals.append(f"no lawful basis recorded: sharing must have lawful authority ({MOU})")
    if not request.purpose:
        refusals.append(f"no purpose recorded: sharing must be necessary and accountable ({MOU})")
    if not categories:
        refusals.append(f"nothing to disclose: name what is shared ({MOU}, proportionate)")
    if basis in HOSPITAL_BASES and kind is not RecipientKind.HOSPITAL_MANAGERS:
        refusals.append(
            f"{basis.value if basis else ''} authorises notifying the hospital managers only "
            "(DVCVA 2004 s 36A / s 42A)"
        )
    if basis is LawfulBasis.CJA_S325_MAPPA and case.mappa_category is None:
        refusals.append(
            f"case {case.case_ref} is not a MAPPA case: the s 325 duty to co-operate covers "
            f"MAPPA offenders only (CJA 2003 s 325; {MOU})"
        )
    consent_ref = (request.victim_consent_ref or "").strip()
    if basis is LawfulBasis.VICTIM_CONSENT and not consent_ref:
        refusals.append("the lawful basis is the victim's consent, but no consent is recorded")
    if categories & VICTIM_CATEGORIES:
        if request.victim_id is None:
            refusals.append("victim information is shared: name the victim it is about")
        elif victim is None or victim.case_id != case.id:
            refusals.append(f"victim {request.victim_id} is not a victim of case {case.case_ref}")
    if InformationCategory.VICTIM_ADDRESS in categories:
        to_hospital = basis in HOSPITAL_BASES and kind is RecipientKind.HOSPITAL_MANAGERS
        with_consent = basis is LawfulBasis.VICTIM_CONSENT and bool(consent_ref)
        if not (to_hospital or with_consent):
            refusals.append(
                "a victim's address leaves the system only to hospital managers under "
                "DVCVA s 36A / s 42A or with the victim's recorded consent "
                "(domain.md 'Victim data')"
            )
    recipient = agency_key(request.recipient_agency)
    for item in supplied:
        if item.case_id != case.id:
            refusals.append(f"supplied information {item.id} belongs to another case")
            continue
        if agency_key(item.supplying_agency) == recipient:
            continue  # back to the agency that supplied it: no third party
        consented = {agency_key(a) for a in item.consented_agencies}
        if not (
            item.onward_consent is OnwardConsent.NAMED_AGENCIES
            and (item.written_consent_ref or "").strip()
            and recipient in consented
        ):
            refusals.append(
                f"supplied information {item.id} came from {item.supplying_agency}, which has "
                f"not consented in writing to its disclosure to {request.recipient_agency} "
                f"({MOU}: no disclosure to a third party without the supplying agency's "
                "written consent)"
            )
    return refusals


# ---- domestic homicide reviews (DVCVA 2004 s 9) ------------------------------------------------


class RecordDhrDirection(VloAction):
    """A direction to take part in a domestic homicide review (DVCVA 2004 s 9): who directed
    it (the review panel or community safety partnership), when, and when our part is due."""

    reviewed_by: str = Field(min_length=2, max_length=120)
    directed_on: date
    due_on: date

    @field_validator("reviewed_by")
    @classmethod
    def _reviewed_by(cls, value: str) -> str:
        return one_line(value)
