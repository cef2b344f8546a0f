"""Information sharing in the case database (models/sharing.py has the rules and their
sources): what other agencies supplied, and each disclosure, recorded and audited only if every
rule allows it."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.audit import AuditDetail
from models.audit_chain import append_audit
from models.case import OffenderCase
from models.case_repository import (
    case_row,
)
from models.db import session_scope
from models.errors import BrokenRules, VcsError
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
from models.victim import Victim
from models.working_days import london_today


def record_supplied(engine: Engine, case_ref: str, request: SuppliedRequest, by: str) -> int:
    problems = request.problems(london_today())
    if problems:
        raise VcsError("; ".join(problems))
    with session_scope(engine) as session:
        case = case_row(session, case_ref)
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
        case = case_row(session, case_ref)
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
        case = case_row(session, case_ref)
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
