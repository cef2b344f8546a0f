"""The case database as the VLO's tools use it: register, add, list. Personal data enters the
system here, straight into the database; workflows only ever receive the IDs."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.audit import AuditDetail, Ref
from models.audit_chain import append_audit
from models.case import CaseRegistration, Offence, OffenderCase, OffenderCaseBase
from models.db import session_scope
from models.eligibility import EligibilityDecision, decide_eligibility
from models.errors import BrokenRules, VcsError
from models.hospital import Hospital, HospitalBase, registration_problems
from models.plausibility import condition_problems, referral_problems
from models.records import (
    AuditEntry,
    Correspondence,
    LicenceCondition,
    LicenceConditionBase,
    Representation,
    VloTask,
)
from models.sharing import (
    Disclosure,
    DisclosureItem,
    DisclosureRequest,
    ItemSource,
    SuppliedInformation,
    SuppliedRequest,
    disclosure_refusals,
    one_line,
)
from models.text import clean_text
from models.victim import Enrolment, Victim, VictimBase
from models.vocabulary import CaseStatus, DisposalKind, OffenceCategory, TaskStatus
from models.working_days import london_today


def _hospital(session: Session, hospital_id: int) -> Hospital:
    hospital = session.get(Hospital, hospital_id)
    if hospital is None:
        raise VcsError(f"no hospital {hospital_id} is recorded: add it with add-hospital")
    return hospital


def _case(session: object, case_ref: str) -> OffenderCase:
    case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).first()  # type: ignore[attr-defined]
    if case is None:
        raise VcsError(f"no case {case_ref!r} is registered")
    return case  # type: ignore[no-any-return]


def _open_case(
    session: object, case_ref: str, adding: str, case: OffenderCase | None = None
) -> OffenderCase:
    """A case that can still take what is being added: refused before anything is written,
    not once the rows exist (the case workflow refuses too, but after). `case`: already read."""
    case = case or _case(session, case_ref)
    if case.status is CaseStatus.CLOSED:
        raise VcsError(f"case {case_ref} is closed: its scheme has ended; no {adding} is added")
    return case


@dataclass
class Registered:
    case: OffenderCase
    created: bool
    decision: EligibilityDecision


def eligibility_of(registration: CaseRegistration, today: date) -> EligibilityDecision:
    """Whether the case may be registered, and why (models/eligibility.py): refused outright
    when its dates or disposal do not make sense (models/plausibility.py)."""
    problems = registration.problems() + registration_problems(
        registration.disposal,
        registration.restricted,
        registration.restriction_ends_on,
        registration.hospital_id,
        registration.sentence_date,
    )
    custodial = registration.disposal is DisposalKind.CUSTODIAL
    problems += referral_problems(registration, today, custodial)
    if problems:
        raise VcsError("; ".join(problems))
    return decide_eligibility(
        disposal=registration.disposal,
        sentence_type=registration.sentence_type,
        term_months=registration.term_months,
        offences=[o.category for o in registration.offences],
        discretionary_reason=registration.discretionary_reason,
        finding=registration.finding,
        restricted=registration.restricted,
    )


def register_case(
    engine: Engine, registration: CaseRegistration, by: str, today: date | None = None
) -> Registered:
    """Register an eligible case once. The same registration again returns the case already
    there; a different one under the same reference is refused. Every check comes before the
    first write: a refusal leaves nothing behind."""
    # today: the day the workflows see (Europe/London)
    decision = eligibility_of(registration, today or london_today())
    if not decision.eligible:
        raise VcsError(f"case {registration.case_ref} is not eligible: {decision.explain()}")
    case_fields = registration.model_dump(include=set(OffenderCaseBase.model_fields))
    with session_scope(engine) as session:
        if registration.hospital_id is not None:
            _hospital(session, registration.hospital_id)
        existing = session.exec(
            select(OffenderCase).where(OffenderCase.case_ref == registration.case_ref)
        ).first()
        if existing is not None:
            stored = OffenderCaseBase.model_validate(existing, from_attributes=True).model_dump()
            stored_offences = sorted(
                (o.category, o.description)
                for o in session.exec(select(Offence).where(Offence.case_id == existing.id))
            )
            asked_offences = sorted((o.category, o.description) for o in registration.offences)
            if (
                stored != case_fields
                or stored_offences != asked_offences
                or existing.eligibility_reason != decision.explain()
            ):
                raise VcsError(
                    f"case {registration.case_ref} is already registered with different details"
                )
            return Registered(existing, False, decision)
        case = OffenderCase(
            **case_fields,
            eligibility_basis=decision.basis,
            eligibility_reason=decision.explain(),
            registered_at=datetime.now(UTC),
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        for offence in registration.offences:
            session.add(Offence(**offence.model_dump(), case_id=case.id))
        append_audit(
            session,
            case_id=case.id,
            actor=by,
            action="case_registered",
            detail=AuditDetail.of(basis=Ref(decision.basis)),  # why: the case's row
        )
        return Registered(case, True, decision)


def same_person(case: OffenderCase, victim: VictimBase) -> tuple[Any, ...]:
    """Who counts as the same victim on a case: the same name and postcode."""
    return (
        Victim.case_id == case.id,
        Victim.full_name == victim.full_name,
        Victim.postcode == victim.postcode,
    )


def new_victim(
    session: Session, case: OffenderCase, victim: VictimBase, by: str, duplicate: int | None
) -> Victim:
    """Record a victim on `case` (read in this session). Refused, writing nothing, if they
    cannot be reached on their chosen channel, the case is closed, or they are already recorded
    (as `duplicate`)."""
    problems = victim.contact_problems()
    if problems:
        raise VcsError("; ".join(problems))
    _open_case(session, case.case_ref, "victim", case)
    if duplicate is not None:
        raise VcsError(
            f"this victim is already recorded on case {case.case_ref} as victim {duplicate}"
        )
    assert case.id is not None
    row = Victim(**victim.model_dump(), case_id=case.id, added_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    assert row.id is not None
    append_audit(session, case_id=case.id, victim_id=row.id, actor=by, action="victim_added")
    return row


def add_victim(engine: Engine, case_ref: str, victim: VictimBase, by: str) -> Victim:
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        duplicate = session.exec(select(Victim.id).where(*same_person(case, victim))).first()
        return new_victim(session, case, victim, by, duplicate)


def find_victim(engine: Engine, case_ref: str, name: str, postcode: str | None) -> Victim | None:
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        return session.exec(
            select(Victim).where(
                Victim.case_id == case.id, Victim.full_name == name, Victim.postcode == postcode
            )
        ).first()


def victim_case_ref(engine: Engine, victim_id: int) -> str:
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        if victim is None:
            raise VcsError(f"no victim {victim_id}")
        case = session.get(OffenderCase, victim.case_id)
        assert case is not None
        return case.case_ref


def victim_on_case(engine: Engine, victim_id: int, case_ref: str) -> None:
    """Victim IDs are numbered across all cases: an action names the case too, and a victim of
    another case is refused rather than reached."""
    if victim_case_ref(engine, victim_id) != case_ref:
        case_by_ref(engine, case_ref)  # no such case: say so
        raise VcsError(f"victim {victim_id} is not a victim of case {case_ref}")


MAX_REPRESENTATION_CHARS = 20_000  # about 10 pages: the column's limit, the same on every backend


def add_representation(engine: Engine, victim_id: int, text: str) -> int:
    if not text.strip():
        raise VcsError("representations are empty")
    try:
        clean_text(text, multiline=True)
    except ValueError as err:
        raise VcsError(f"representations {err}") from None
    if len(text) > MAX_REPRESENTATION_CHARS:
        raise VcsError(
            f"representations are {len(text)} characters; the limit is {MAX_REPRESENTATION_CHARS}"
        )
    with session_scope(engine) as session:
        victim = session.get(Victim, victim_id)
        if victim is None:
            raise VcsError(f"no victim {victim_id}")
        rep = Representation(
            case_id=victim.case_id, victim_id=victim_id, text=text, received_at=datetime.now(UTC)
        )
        session.add(rep)
        session.flush()
        assert rep.id is not None
        return rep.id


def find_representation(engine: Engine, victim_id: int, text: str) -> int | None:
    """The same words already recorded for this victim (text that add_representation would
    refuse is never looked up: PostgreSQL cannot even compare a NUL byte)."""
    try:
        clean_text(text, multiline=True)
    except ValueError:
        return None
    with session_scope(engine) as session:
        return session.exec(
            select(Representation.id).where(
                Representation.victim_id == victim_id, Representation.text == text
            )
        ).first()


def withdraw_representation(engine: Engine, representation_id: int) -> None:
    """Undo a representation the workflow refused, so a refusal changes nothing."""
    with session_scope(engine) as session:
        rep = session.get(Representation, representation_id)
        if rep is not None and rep.forwarded_at is None:
            session.delete(rep)


def add_conditions(
    engine: Engine, case_ref: str, conditions: list[LicenceConditionBase]
) -> list[int]:
    with session_scope(engine) as session:
        case = _open_case(session, case_ref, "condition")
        assert case.id is not None
        hospital = case.disposal is not DisposalKind.CUSTODIAL
        problems = [
            p
            for c in conditions
            for p in c.problems() + condition_problems(case, c.starts_on, c.ends_on, hospital)
        ]
        if problems:
            raise VcsError("; ".join(problems))
        rows = [
            LicenceCondition(**c.model_dump(), case_id=case.id, recorded_at=datetime.now(UTC))
            for c in conditions
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows if r.id is not None]


def withdraw_conditions(engine: Engine, condition_ids: list[int]) -> None:
    with session_scope(engine) as session:
        for cid in condition_ids:
            row = session.get(LicenceCondition, cid)
            if row is not None:
                session.delete(row)


def case_by_ref(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        return _case(session, case_ref)


def victims_of(engine: Engine, case_ref: str) -> list[tuple[Victim, Enrolment | None]]:
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        rows = session.exec(
            select(Victim, Enrolment)
            .join(Enrolment, Enrolment.victim_id == Victim.id, isouter=True)  # type: ignore[arg-type]
            .where(Victim.case_id == case.id)
            .order_by(Victim.id)  # type: ignore[arg-type]
        ).all()
        return [(v, e) for v, e in rows]


def open_tasks(
    engine: Engine, *, case_ref: str | None = None, assigned_to: str | None = None
) -> list[tuple[VloTask, str]]:
    with session_scope(engine) as session:
        query = (
            select(VloTask, OffenderCase.case_ref)
            .join(OffenderCase, OffenderCase.id == VloTask.case_id)  # type: ignore[arg-type]
            .where(VloTask.status == TaskStatus.OPEN)
            .order_by(VloTask.due_on, VloTask.id)  # type: ignore[arg-type]
        )
        if case_ref is not None:
            query = query.where(OffenderCase.case_ref == _case(session, case_ref).case_ref)
        if assigned_to is not None:
            query = query.where(VloTask.assigned_to == assigned_to)
        return [(t, ref) for t, ref in session.exec(query).all()]


def task_by_id(engine: Engine, task_id: int) -> VloTask:
    with session_scope(engine) as session:
        task = session.get(VloTask, task_id)
        if task is None:
            raise VcsError(f"no task {task_id}")
        return task


def task_on_case(engine: Engine, task_id: int, case_ref: str) -> None:
    """Task IDs too are numbered across all cases: a task named with a case must be its."""
    task = task_by_id(engine, task_id)
    if task.case_id != case_by_ref(engine, case_ref).id:
        raise VcsError(f"task {task_id} is not a task of case {case_ref}")


def history(engine: Engine, case_ref: str) -> tuple[list[AuditEntry], list[Correspondence]]:
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
        letters = session.exec(
            select(Correspondence)
            .where(Correspondence.case_id == case.id)
            .order_by(Correspondence.id)  # type: ignore[arg-type]
        ).all()
        return list(audit), list(letters)


# ---- information sharing (models/sharing.py has the rules and their sources) ------------------


def record_supplied(engine: Engine, case_ref: str, request: SuppliedRequest, by: str) -> int:
    problems = request.problems(london_today())
    if problems:
        raise VcsError("; ".join(problems))
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        assert case.id is not None
        row = SuppliedInformation(
            case_id=case.id,
            supplying_agency=request.supplying_agency,
            category=request.category,
            received_on=request.received_on,
            onward_consent=request.onward_consent,
            consented_agencies=[one_line(a) for a in request.consented_agencies if a.strip()],
            written_consent_ref=(request.written_consent_ref or "").strip() or None,
            recorded_by=by,
            recorded_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        append_audit(
            session,
            case_id=case.id,
            actor=by,
            action="information_received",
            detail=AuditDetail.of(
                supplied=row.id,
                category=row.category,
                received_on=row.received_on,
                onward_consent=row.onward_consent,
            ),  # which agencies: the row
        )
        return row.id


@dataclass
class DisclosureRecord:
    disclosure: Disclosure
    items: list[DisclosureItem]


def disclose(engine: Engine, case_ref: str, request: DisclosureRequest, by: str) -> int:
    """Record a disclosure if every rule allows it (and audit it); refuse it otherwise."""
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        assert case.id is not None
        supplied = []
        for supplied_id in dict.fromkeys(request.supplied_ids):
            row = session.get(SuppliedInformation, supplied_id)
            if row is None:
                raise VcsError(f"no supplied information {supplied_id}")
            supplied.append(row)
        victim = session.get(Victim, request.victim_id) if request.victim_id else None
        refusals = disclosure_refusals(request, case, supplied, victim)
        if refusals:
            raise BrokenRules("disclosure refused", refusals)
        record = write_disclosure(session, case, request, supplied, by)
        assert record.disclosure.id is not None
        return record.disclosure.id


def write_disclosure(
    session: Session,
    case: OffenderCase,
    request: DisclosureRequest,
    supplied: list[SuppliedInformation],
    by: str,
    idempotency_key: str | None = None,
) -> DisclosureRecord:
    """Record an allowed disclosure (disclosure_refusals found nothing) and audit it, in the
    caller's transaction: the Disclosure, one item per category, one audit entry."""
    assert case.id is not None and request.lawful_basis is not None
    disclosure = Disclosure(
        case_id=case.id,
        victim_id=request.victim_id,
        recipient_agency=request.recipient_agency,
        recipient_kind=request.recipient_kind,
        lawful_basis=request.lawful_basis,
        purpose=request.purpose,
        victim_consent_ref=(request.victim_consent_ref or "").strip() or None,
        disclosed_by=by,
        disclosed_at=datetime.now(UTC),
    )
    session.add(disclosure)
    session.flush()
    assert disclosure.id is not None
    items = [
        DisclosureItem(disclosure_id=disclosure.id, category=c, source=ItemSource.OWN)
        for c in dict.fromkeys(request.own_categories)
    ] + [
        DisclosureItem(
            disclosure_id=disclosure.id,
            category=s.category,
            source=ItemSource.SUPPLIED,
            supplied_id=s.id,
        )
        for s in supplied
    ]
    session.add_all(items)
    append_audit(
        session,
        case_id=case.id,
        victim_id=request.victim_id,
        actor=by,
        action="information_disclosed",
        detail=AuditDetail.of(
            disclosure=disclosure.id,
            recipient_kind=disclosure.recipient_kind,
            basis=disclosure.lawful_basis,
            supplied=[s.id for s in supplied if s.id is not None],
        ),  # the agency, purpose and categories: the disclosure's rows
        idempotency_key=idempotency_key,
    )
    return DisclosureRecord(disclosure, items)


def disclosures_of(engine: Engine, case_ref: str) -> list[DisclosureRecord]:
    with session_scope(engine) as session:
        case = _case(session, case_ref)
        rows = session.exec(
            select(Disclosure).where(Disclosure.case_id == case.id).order_by(col(Disclosure.id))
        ).all()
        records = []
        for row in rows:
            items = session.exec(
                select(DisclosureItem)
                .where(DisclosureItem.disclosure_id == row.id)
                .order_by(col(DisclosureItem.id))
            ).all()
            records.append(DisclosureRecord(row, list(items)))
        return records


# ---- hospitals (models/hospital.py: DVCVA ss 36-44A) -------------------------------------------


def add_hospital(engine: Engine, hospital: HospitalBase, by: str) -> tuple[Hospital, bool]:
    """Record a hospital once: the same name and postcode again is the hospital already there."""
    with session_scope(engine) as session:
        existing = session.exec(
            select(Hospital).where(
                Hospital.name == hospital.name, Hospital.postcode == hospital.postcode
            )
        ).first()
        if existing is not None:
            return existing, False
        row = Hospital(**hospital.model_dump(), recorded_by=by, recorded_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row, True


def decide_for_case(
    session: Session, case: OffenderCase, disposal: DisposalKind, restricted: bool
) -> EligibilityDecision:
    """Would the case be eligible on this path (a transfer to hospital, a remission)? The same
    rules as at registration (models/eligibility.py), on the case's recorded facts."""
    offences = session.exec(select(Offence.category).where(Offence.case_id == case.id)).all()
    return decide_eligibility(
        disposal=disposal,
        sentence_type=case.sentence_type,
        term_months=case.term_months,
        offences=[OffenceCategory(o) for o in offences],
        finding=case.finding,
        restricted=restricted,
    )


def path_change_decision(
    engine: Engine, case_ref: str, disposal: DisposalKind, restricted: bool
) -> EligibilityDecision:
    with session_scope(engine) as session:
        return decide_for_case(session, _case(session, case_ref), disposal, restricted)


def hospitals(engine: Engine) -> list[Hospital]:
    with session_scope(engine) as session:
        return list(session.exec(select(Hospital).order_by(col(Hospital.id))).all())


def hospital_by_id(engine: Engine, hospital_id: int) -> Hospital:
    with session_scope(engine) as session:
        return _hospital(session, hospital_id)
