"""Retention: erase victims' personal data once a closed case has been kept long enough.

Source: information shared under MAPPA is "deleted when no longer needed for its purpose"
(MAPPA memorandum of understanding, 001_272af33299f517c0.txt; CJA 2003 s 325), and personal
data is kept no longer than necessary (UK GDPR Article 5(1)(e), storage limitation). Neither
fixes a number: the period is local policy, `VCS_RETENTION_DAYS` (default 730 days, two years
after the case closes) *(confirm with the data protection officer)*.

What is erased, per case: the victims' names, addresses, postcodes, emails, phone numbers and
whom they represent; representation text; licence condition wording (it may say where a victim
lives); letter bodies; what VLOs wrote as a task's outcome (free text: it may name or place a
victim); offence descriptions (they may name the victim); the words of Victim Personal
Statements; the purpose written for a disclosure; the notes audit entries refer to (CaseNote:
reasons and notes, anything typed); why the case is in the scheme (a discretionary case's
reason is the VLO's words; the basis stays). What stays: the rows themselves (IDs, dates, stages,
kinds), so counts and the audit trail still add up, and the audit trail, which holds IDs,
kinds and dates only (models/audit.py: a type that admits no free text; issue 13). Also kept:
staff user names, and the names of the agencies information was received from or disclosed
to (a disclosure stays accountable: MAPPA MoU); neither is a victim's data. Each case gets an
ErasureRecord: what was erased, when, under which period, and a verification made afterwards
by re-reading every row.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, update
from sqlmodel import Session, col, select
from temporalio import activity

from activities.errors import data_error, stored_case
from models.audit import AuditDetail
from models.audit_chain import already_done, append_audit
from models.case import Offence, OffenderCase
from models.db import session_scope
from models.parole import VictimPersonalStatement
from models.records import CaseNote, Correspondence, LicenceCondition, Representation, VloTask
from models.reports import (
    ERASED,
    ErasureOutcome,
    ErasureRecord,
    ErasureRequest,
    ExpiredCases,
    ExpiredCasesQuery,
    VerificationOutcome,
)
from models.sharing import Disclosure
from models.victim import Victim
from models.vocabulary import CaseStatus

DEFAULT_RETENTION_DAYS = 730
ERASED_ACTION = "personal_data_erased"
# Victim fields that may be empty once erased; full_name is required, so it reads ERASED.
VICTIM_NULLED = ("address", "postcode", "email", "phone", "represents")
# Free text that may hold personal data but is not counted in the ErasureRecord: (label, table,
# field). Only values present are overwritten (an empty outcome stays empty).
UNCOUNTED_FREE_TEXT: tuple[tuple[str, type, str], ...] = (
    ("task", VloTask, "outcome"),
    ("note", CaseNote, "text"),  # what audit entries refer to by ID
    ("disclosure", Disclosure, "purpose"),
    ("offence", Offence, "description"),
    # The words of a Victim Personal Statement (workflows/review_path.py), encrypted at rest: the
    # erased marker is written encrypted too, and checked after decryption.
    ("victim personal statement", VictimPersonalStatement, "text"),
)


def configured_retention_days() -> int:
    raw = os.environ.get("VCS_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"VCS_RETENTION_DAYS={raw!r} is not a whole number of days (1 or more)")
    return days


def closed_before(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    """Closed, and closed at or before `cutoff` (compared in SQL: one clock, one rule)."""
    return (
        col(OffenderCase.status) == CaseStatus.CLOSED,
        col(OffenderCase.closed_at).is_not(None),
        col(OffenderCase.closed_at) <= cutoff,
    )


def erasure_key(case_id: int) -> str:
    return f"retention:case:{case_id}:erased"


def _ids(session: Session, model: type, case_id: int) -> list[int]:
    rows = session.exec(
        select(model.id).where(model.case_id == case_id).order_by(model.id)  # type: ignore[attr-defined]
    ).all()
    return [int(i) for i in rows if i is not None]


class RetentionActivities:
    def __init__(self, engine: Engine, retention_days: int | None = None) -> None:
        self.engine = engine
        self.retention_days = retention_days or configured_retention_days()

    @activity.defn
    def find_expired_cases(self, query: ExpiredCasesQuery) -> ExpiredCases:
        """Closed cases past the period, in ID order after the cursor, not yet verified erased."""
        days = query.retention_days or self.retention_days
        cutoff = query.as_of - timedelta(days=days)
        verified = select(ErasureRecord.case_id).where(ErasureRecord.verified == True)  # noqa: E712
        with session_scope(self.engine) as session:
            ids = session.exec(
                select(OffenderCase.id)
                .where(
                    *closed_before(cutoff),
                    col(OffenderCase.id) > query.after_case_id,
                    col(OffenderCase.id).not_in(verified),
                )
                .order_by(col(OffenderCase.id))
                .limit(query.limit)
            ).all()
        return ExpiredCases(
            retention_days=days, cutoff=cutoff, case_ids=[i for i in ids if i is not None]
        )

    @activity.defn
    def erase_case(self, request: ErasureRequest) -> ErasureOutcome:
        """Erase one case's personal data in one transaction; a case already erased and
        verified is skipped, and a retry (or a re-run after a failed check) erases again."""
        now = datetime.now(UTC)
        case_id = request.case_id
        with session_scope(self.engine) as session:
            case = stored_case(session, case_id)
            expired = session.exec(
                select(OffenderCase.id).where(
                    OffenderCase.id == case_id, *closed_before(request.cutoff)
                )
            ).first()
            if expired is None or case.closed_at is None:
                # Never erase an open case, or one closed within the period, whoever asks.
                raise data_error(
                    f"case {case.case_ref} is open or closed within the retention period: "
                    "nothing erased"
                )
            record = session.exec(
                select(ErasureRecord).where(ErasureRecord.case_id == case_id)
            ).first()
            if record is not None and record.verified:
                return ErasureOutcome(case_id=case_id, skipped=True)

            victim_ids = _ids(session, Victim, case_id)
            representation_ids = _ids(session, Representation, case_id)
            condition_ids = _ids(session, LicenceCondition, case_id)
            correspondence_ids = _ids(session, Correspondence, case_id)
            session.exec(
                update(Victim)
                .where(col(Victim.case_id) == case_id)
                .values(full_name=ERASED, **dict.fromkeys(VICTIM_NULLED))
            )
            session.exec(
                update(Victim)
                .where(col(Victim.case_id) == case_id, col(Victim.erased_at).is_(None))
                .values(erased_at=now)
            )
            case.eligibility_reason = ERASED  # the basis (statutory, discretionary) stays
            session.add(case)
            session.exec(
                update(Representation)
                .where(col(Representation.case_id) == case_id)
                .values(text=ERASED)
            )
            session.exec(
                update(LicenceCondition)
                .where(col(LicenceCondition.case_id) == case_id)
                .values(description=ERASED)
            )
            session.exec(
                update(Correspondence)
                .where(col(Correspondence.case_id) == case_id)
                .values(body=ERASED)
            )
            for _, model, field in UNCOUNTED_FREE_TEXT:
                column = getattr(model, field)
                session.exec(
                    update(model)
                    .where(model.case_id == case_id, col(column) != "")  # type: ignore[attr-defined]
                    .values({field: ERASED})
                )

            if record is None:
                record = ErasureRecord(
                    case_id=case_id,
                    case_ref=case.case_ref,
                    closed_at=case.closed_at,
                    retention_days=request.retention_days,
                    erased_at=now,
                    erased_by=request.by,
                )
            record.retention_days = request.retention_days
            record.erased_at = now
            record.victim_ids = victim_ids
            record.representation_ids = representation_ids
            record.licence_condition_ids = condition_ids
            record.correspondence_ids = correspondence_ids
            record.victims = len(victim_ids)
            record.representations = len(representation_ids)
            record.licence_conditions = len(condition_ids)
            record.correspondence = len(correspondence_ids)
            record.verified, record.verified_at, record.verification = None, None, "pending"
            session.add(record)
            if not already_done(session, erasure_key(case_id)):
                append_audit(
                    session,
                    case_id=case_id,
                    actor=request.by,
                    action=ERASED_ACTION,
                    detail=AuditDetail.of(
                        retention_days=request.retention_days,
                        victims=len(victim_ids),
                        representations=len(representation_ids),
                        licence_conditions=len(condition_ids),
                        letters=len(correspondence_ids),
                    ),
                    idempotency_key=erasure_key(case_id),
                )
        activity.logger.info(
            "case %s: personal data erased (%d victims, %d representations, %d conditions, "
            "%d letters)",
            case.case_ref,
            len(victim_ids),
            len(representation_ids),
            len(condition_ids),
            len(correspondence_ids),
        )
        return ErasureOutcome(
            case_id=case_id,
            skipped=False,
            victims=len(victim_ids),
            representations=len(representation_ids),
            licence_conditions=len(condition_ids),
            correspondence=len(correspondence_ids),
        )

    @activity.defn
    def verify_erasure(self, case_id: int) -> VerificationOutcome:
        """Re-read every row of the case in a fresh transaction: no personal field may be left,
        every row must be in the record, and the audit entry must be there. The result is
        written to the ErasureRecord; problems name tables, fields and IDs, never values."""
        with session_scope(self.engine) as session:
            record = session.exec(
                select(ErasureRecord).where(ErasureRecord.case_id == case_id)
            ).first()
            if record is None:
                raise data_error(f"case id {case_id} has no erasure record to verify")
            problems: list[str] = []
            if stored_case(session, case_id).eligibility_reason != ERASED:
                problems.append("case: eligibility_reason not erased")
            victims = session.exec(select(Victim).where(Victim.case_id == case_id)).all()
            for victim in victims:
                if victim.full_name != ERASED:
                    problems.append(f"victim {victim.id}: full_name not erased")
                problems += [
                    f"victim {victim.id}: {name} not erased"
                    for name in VICTIM_NULLED
                    if getattr(victim, name) is not None
                ]
                if victim.erased_at is None:
                    problems.append(f"victim {victim.id}: erased_at not set")
            checks: list[tuple[str, type, str, list[int]]] = [
                ("representation", Representation, "text", record.representation_ids),
                (
                    "licence condition",
                    LicenceCondition,
                    "description",
                    record.licence_condition_ids,
                ),
                ("letter", Correspondence, "body", record.correspondence_ids),
            ]

            def rows_of(model: type) -> list[Any]:
                where = model.case_id == case_id  # type: ignore[attr-defined]
                return list(session.exec(select(model).where(where)).all())

            for label, model, field, recorded in checks:
                rows = rows_of(model)
                problems += [
                    f"{label} {row.id}: {field} not erased"
                    for row in rows
                    if getattr(row, field) != ERASED
                ]
                missing = sorted({row.id for row in rows} - set(recorded))
                if missing:
                    problems.append(f"{label}s {missing} are not in the erasure record")
            for label, model, field in UNCOUNTED_FREE_TEXT:
                rows = rows_of(model)
                problems += [
                    f"{label} {row.id}: {field} not erased"
                    for row in rows
                    if getattr(row, field) not in (None, "", ERASED)
                ]
            missing_victims = sorted(
                {v.id for v in victims if v.id is not None} - set(record.victim_ids)
            )
            if missing_victims:
                problems.append(f"victims {missing_victims} are not in the erasure record")
            if not already_done(session, erasure_key(case_id)):
                problems.append(f"no {ERASED_ACTION} audit entry")
            record.verified = not problems
            record.verified_at = datetime.now(UTC)
            record.verification = (
                "; ".join(problems)[:2000]
                if problems
                else (
                    f"re-read {len(victims)} victims, {len(record.representation_ids)} "
                    f"representations, {len(record.licence_condition_ids)} licence conditions, "
                    f"{len(record.correspondence_ids)} letters: no personal field left"
                )
            )
            session.add(record)
        if problems:
            activity.logger.error("case id %s: erasure not verified: %s", case_id, problems)
        return VerificationOutcome(case_id=case_id, verified=not problems, problems=problems)
