"""The hospital paths for mentally disordered offenders (DVCVA 2004 Part 3 Chapter 2, ss 36-44A;
domain.md 'Hospital paths'; duty table in 000_5a1d5e000983110f.txt).

- s 36 hospital order (MHA 1983 s 37), with a restriction order (MHA s 41: ss 37, 38) or
  without (ss 37A, 38A); s 39 hospital direction with a limitation direction (MHA s 45A: ss 40,
  41); s 42 transfer direction (MHA s 47), with a restriction direction (MHA s 49: ss 43, 44) or
  without (ss 43A, 44A). Eligibility for each path is in models/eligibility.py.
- s 36A / s 42A: once a victim wishes to make representations or receive information, the
  hospital managers are told the victim's name and address and their representations, and the
  victim is told the hospital's name and address; again whenever the patient moves hospital.
  This is the one place a victim's address leaves the system without consent (domain.md
  'Victim data'): every notice is a Disclosure (models/sharing.py) and an audit entry.
- ss 37, 37A, 40, 43, 43A: representations about discharge conditions go to whoever decides
  them: the Secretary of State or the tribunal while a restriction is in force, otherwise the
  responsible clinician through the hospital managers.

The hospital's name and address are not victim data; they live in the Hospital table and only
its ID travels through workflows.
"""

from datetime import date, datetime

from pydantic import BaseModel, field_validator
from sqlmodel import Field, SQLModel

from models.audit import AuditDetail
from models.case import OffenderCaseBase
from models.messages import VloAction
from models.sharing import LawfulBasis
from models.text import clean_text
from models.vocabulary import DischargeKind, DisposalKind
from models.workflow_state import HospitalStatus
from models.working_days import BankHolidays, add_working_days

# ---- the hospital ------------------------------------------------------------------------------


class HospitalBase(SQLModel):
    name: str = Field(min_length=2, max_length=120)
    address: str = Field(min_length=2, max_length=400)
    postcode: str | None = Field(default=None, max_length=10)

    @field_validator("name", "postcode")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value).strip()

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return clean_text(value, multiline=True).strip()


class Hospital(HospitalBase, table=True):
    """A hospital a patient may be detained in: named in a hospital order or direction."""

    id: int | None = Field(default=None, primary_key=True)
    recorded_by: str = Field(max_length=60)
    recorded_at: datetime


# ---- the rules ---------------------------------------------------------------------------------

# DVCVA 2004 s 36A (hospital orders) and s 42A (transfer directions): the hospital managers are
# notified. A hospital direction (s 39) carries no such duty.
NOTICE_BASIS = {
    DisposalKind.HOSPITAL_ORDER: LawfulBasis.DVCVA_S36A,
    DisposalKind.TRANSFER_DIRECTION: LawfulBasis.DVCVA_S42A,
}

# ss 37(4)-(5), 40, 43: a restricted patient's discharge and its conditions are decided by the
# Secretary of State for Justice or, on an application, the Mental Health Tribunal.
RESTRICTED_DECIDER = "Secretary of State for Justice or the Mental Health Tribunal"
# ss 37A, 43A: an unrestricted patient's discharge and community treatment order conditions are
# decided by the responsible clinician; the representations reach them through the managers.
UNRESTRICTED_DECIDER = "responsible clinician, through the hospital managers"

# What the restriction is called on each path (MHA 1983 s 41, s 45A, s 49).
RESTRICTION_NAMES = {
    DisposalKind.HOSPITAL_ORDER: "restriction order",
    DisposalKind.HOSPITAL_DIRECTION: "limitation direction",
    DisposalKind.TRANSFER_DIRECTION: "restriction direction",
}

# MHA 1983 s 50: a prisoner transferred to hospital (s 47) or given a hospital direction (s 45A)
# may be remitted to prison; a hospital order (s 37) is not a sentence, so it cannot be.
REMITTABLE = frozenset({DisposalKind.HOSPITAL_DIRECTION, DisposalKind.TRANSFER_DIRECTION})


# Local policy: a hospital order or transfer direction registered before its hospital is known
# opens a VLO task to record it within this many working days (the s 36A / s 42A notices wait).
RECORD_HOSPITAL_WORKING_DAYS = 5


def record_hospital_due(today: date, calendar: BankHolidays) -> date:
    return add_working_days(today, RECORD_HOSPITAL_WORKING_DAYS, calendar)


def status_of(case: OffenderCaseBase) -> HospitalStatus | None:
    """A case's hospital status as registered; None on the custodial path."""
    if case.disposal is DisposalKind.CUSTODIAL:
        return None
    return HospitalStatus(
        disposal=case.disposal,
        restricted=case.restricted,
        restriction_ends_on=case.restriction_ends_on,
        hospital_id=case.hospital_id,
        placement=1 if case.hospital_id is not None else 0,
    )


def notice_basis(status: HospitalStatus) -> LawfulBasis | None:
    """The lawful basis for notifying the hospital managers (s 36A / s 42A), if the path has
    one."""
    return NOTICE_BASIS.get(status.disposal)


def discharge_decider(status: HospitalStatus, on: date) -> str:
    """Who decides discharge and its conditions, so who gets the victim's representations
    (s 37: restricted patients, only while the restriction order is in force; s 37A / s 43A:
    unrestricted ones; s 40 / s 43: hospital and transfer directions with a restriction)."""
    return RESTRICTED_DECIDER if status.restriction_in_force(on) else UNRESTRICTED_DECIDER


def discharge_problems(status: HospitalStatus, kind: DischargeKind, on: date) -> list[str]:
    """Why this discharge cannot be recorded on this path (MHA 1983); empty when it can."""
    problems = []
    if status.discharge is DischargeKind.ABSOLUTE:
        problems.append(f"the patient was absolutely discharged on {status.discharged_on}")
    restricted = status.restriction_in_force(on)
    if kind is DischargeKind.COMMUNITY_TREATMENT_ORDER and restricted:
        problems.append(
            f"a community treatment order is for unrestricted patients only (MHA 1983 s 17A): "
            f"the {RESTRICTION_NAMES[status.disposal]} is in force; record a conditional "
            "discharge"
        )
    if kind is DischargeKind.CONDITIONAL and not restricted:
        problems.append(
            "a conditional discharge is for restricted patients (MHA 1983 s 42(2), s 73): "
            "no restriction is in force; record a community treatment order (cto) or an "
            "absolute discharge"
        )
    if status.discharge is not None and status.discharge is kind:
        problems.append(
            f"the {kind.value} discharge of {status.discharged_on} is already recorded: record "
            "a readmission to hospital first"
        )
    return problems


def restriction_change_problems(
    status: HospitalStatus, action: "RecordRestrictionChange", today: date
) -> list[str]:
    """Why this lifting or variation of a restriction cannot be recorded; empty when it can."""
    name = RESTRICTION_NAMES[status.disposal]
    if action.lifted == (action.ends_on is not None):
        return [f"give either the date the {name} was lifted or its new end date, not both"]
    problems = []
    if not status.restriction_in_force(min(action.on, today)):
        ended = f" (it ended {status.restriction_ends_on})" if status.restriction_ends_on else ""
        problems.append(f"no {name} is in force{ended}: there is nothing to lift or vary")
    if status.discharge is DischargeKind.ABSOLUTE:
        problems.append(f"the patient was absolutely discharged on {status.discharged_on}")
    if action.ends_on is not None and action.ends_on <= action.on:
        problems.append(f"the new end date {action.ends_on} is not after {action.on}")
    if action.ends_on is not None and action.ends_on == status.restriction_ends_on:
        problems.append(f"the {name} already ends {action.ends_on}")
    return problems


def tribunal_problems(status: HospitalStatus, on: date) -> list[str]:
    """DVCVA s 37(5) (ss 40, 43): the tribunal tells the probation body of applications about
    restricted patients only; an unrestricted patient's are the hospital managers' business."""
    if status.discharge is DischargeKind.ABSOLUTE:
        return [f"the patient was absolutely discharged on {status.discharged_on}"]
    if not status.restriction_in_force(on):
        return [
            f"no {RESTRICTION_NAMES[status.disposal]} is in force on {on}: DVCVA s 37(5) (and "
            "ss 40, 43) cover tribunal applications about restricted patients only"
        ]
    return []


def registration_problems(
    disposal: DisposalKind,
    restricted: bool,
    restriction_ends_on: date | None,
    hospital_id: int | None,
    sentence: date,
) -> list[str]:
    """Hospital details that contradict the disposal (the legal rules are in eligibility)."""
    problems = []
    if disposal is DisposalKind.CUSTODIAL and restricted:
        problems.append(
            "a custodial case has no restriction order or direction (MHA 1983 ss 41, 45A, 49 "
            "go with hospital disposals): choose the disposal"
        )
    if disposal is DisposalKind.CUSTODIAL and hospital_id is not None:
        problems.append(
            "a custodial case has no hospital: record a transfer to hospital as a key stage "
            "(with the hospital) after registering"
        )
    if restriction_ends_on is not None and not restricted:
        problems.append("a restriction end date is given but the case is not restricted")
    if restriction_ends_on is not None and restriction_ends_on < sentence:
        problems.append(
            f"the restriction ends {restriction_ends_on}, before the sentence or order {sentence}"
        )
    return problems


# ---- VLO actions (updates) ---------------------------------------------------------------------


class RecordHospital(VloAction):
    """The patient is detained in (admitted, moved to, or readmitted to) this hospital: the
    hospital managers are notified again (s 36A / s 42A continuing duty)."""

    hospital_id: int = Field(ge=1)
    on: date


class RecordTransferToHospital(VloAction):
    """A prisoner moved to hospital by a transfer direction (MHA 1983 s 47), with or without a
    restriction direction (s 49): the case moves to the DVCVA s 42 path (KeyStage
    TRANSFER_TO_HOSPITAL)."""

    hospital_id: int = Field(ge=1)
    on: date
    restricted: bool
    restriction_ends_on: date | None = None


class RecordRemission(VloAction):
    """The patient is remitted to prison (MHA 1983 s 50): back on the custodial path."""

    on: date


class RecordRestrictionChange(VloAction):
    """The restriction is lifted on `on` (MHA 1983 s 42(1) direction: DVCVA s 37(4)(a)), or
    the date it ceases is varied to `ends_on` (ss 41(3), 44(3)). Exactly one of the two."""

    on: date
    lifted: bool = False
    ends_on: date | None = None


class RecordTribunalApplication(VloAction):
    """A restricted patient's case goes to the Mental Health Tribunal: an application (MHA 1983
    ss 69, 70, 75) or a reference (s 71), which the tribunal tells the probation body of (DVCVA
    s 37(5); ss 40, 43 for directions)."""

    on: date


class RecordDischarge(VloAction):
    kind: DischargeKind
    on: date


class NotifyHospital(VloAction):
    """Notify the hospital managers of this victim's details again (s 36A / s 42A), e.g. after
    the victim's address changed."""

    victim_id: int


# ---- activity requests -------------------------------------------------------------------------


class DisposalChange(BaseModel):
    """The case's disposal, restriction or hospital changes (written to the case row)."""

    idempotency_key: str
    case_id: int
    disposal: DisposalKind
    restricted: bool
    restriction_ends_on: date | None = None
    hospital_id: int | None = None
    by: str
    action: str
    detail: AuditDetail  # IDs, kinds and dates only (the disposal itself is added)


class HospitalNoticeRequest(BaseModel):
    """Notify the hospital managers under s 36A / s 42A; recorded as a Disclosure."""

    idempotency_key: str
    case_id: int
    victim_id: int
    hospital_id: int
    basis: LawfulBasis
    representation_ids: list[int] = Field(default_factory=list)
    # The address goes once per hospital (and when the VLO asks again); a notice of later
    # representations names the victim without repeating it (MoU: proportionate).
    with_address: bool = True
    by: str
    reason: str  # why now: "victim opted in", "patient moved hospital", ...


class HospitalNoticeOutcome(BaseModel):
    """Whether the notice was made (or had been made), or skipped as stale: the case has moved
    on (another hospital, or off the path) since the request was made, so nothing was sent."""

    sent: bool
    reason: str = ""
