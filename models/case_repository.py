"""Offender cases in the case database as the VLO's tools use them: registering an eligible
case once, finding it, its licence conditions, its history, and whether it would still be
eligible on another path. Personal data enters the system here, straight into the database;
workflows only ever receive the IDs."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from models.audit import AuditDetail, Ref
from models.audit_chain import append_audit
from models.case import CaseRegistration, Offence, OffenderCase, OffenderCaseBase
from models.db import session_scope
from models.eligibility import EligibilityDecision, decide_eligibility
from models.errors import VcsError
from models.hospital import registration_problems
from models.hospital_repository import hospital_row
from models.plausibility import condition_problems, referral_problems
from models.records import (
    AuditEntry,
    Correspondence,
    LicenceCondition,
    LicenceConditionBase,
)
from models.vocabulary import CaseStatus, DisposalKind, OffenceCategory
from models.working_days import london_today


def case_row(session: object, case_ref: str) -> OffenderCase:
    case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).first()  # type: ignore[attr-defined]
    if case is None:
        raise VcsError(f"no case {case_ref!r} is registered")
    return case  # type: ignore[no-any-return]


def open_case_row(
    session: object, case_ref: str, adding: str, case: OffenderCase | None = None
) -> OffenderCase:
    """A case that can still take what is being added: refused before anything is written,
    not once the rows exist (the case workflow refuses too, but after). `case`: already read."""
    case = case or case_row(session, case_ref)
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
            hospital_row(session, registration.hospital_id)
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


def case_by_ref(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        return case_row(session, case_ref)


def history(engine: Engine, case_ref: str) -> tuple[list[AuditEntry], list[Correspondence]]:
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
        audit = session.exec(
            select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
        letters = session.exec(
            select(Correspondence)
            .where(Correspondence.case_id == case.id)
            .order_by(Correspondence.id)  # type: ignore[arg-type]
        ).all()
        return list(audit), list(letters)


def add_conditions(
    engine: Engine, case_ref: str, conditions: list[LicenceConditionBase]
) -> list[int]:
    with session_scope(engine) as session:
        case = open_case_row(session, case_ref, "condition")
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
        return decide_for_case(session, case_row(session, case_ref), disposal, restricted)
