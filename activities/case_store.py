"""Activities that read and write cases, enrolments and representations."""

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import select
from temporalio import activity

from activities.errors import data_error, stored_case
from models.activity_requests import (
    AuditRecord,
    CaseClosure,
    ForwardRepresentations,
    SaveMilestones,
    StageChange,
)
from models.audit import AuditDetail, Ref
from models.audit_chain import already_done, append_audit
from models.case import MilestoneDates, OffenderCase
from models.db import session_scope
from models.hospital import status_of
from models.records import LicenceCondition, Representation
from models.victim import Enrolment, Victim
from models.vocabulary import CaseStatus
from models.workflow_state import CaseSnapshot, ConditionNotice

MILESTONE_FIELDS = tuple(MilestoneDates.model_fields)
# What a stage change records in the audit trail beyond the stage (its note goes to a CaseNote).
STAGE_FACTS = ("contact_level", "offer_due", "offered_on", "opted_in_on", "opted_out_on")


class CaseStoreActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def load_case(self, case_ref: str) -> CaseSnapshot:
        with session_scope(self.engine) as session:
            case = session.exec(
                select(OffenderCase).where(OffenderCase.case_ref == case_ref)
            ).first()
            if case is None or case.id is None:
                raise data_error(f"case {case_ref} is not in the case database")
            victim_ids = session.exec(
                select(Victim.id).where(Victim.case_id == case.id).order_by(Victim.id)  # type: ignore[arg-type]
            ).all()
            return CaseSnapshot(
                case_id=case.id,
                case_ref=case.case_ref,
                responsible_vlo=case.responsible_vlo,
                provider=case.provider.value,
                region=case.region,
                milestones=MilestoneDates.model_validate(case, from_attributes=True),
                victim_ids=[v for v in victim_ids if v is not None],
                hospital=status_of(case),
            )

    @activity.defn
    def victims_of_case(self, case_id: int, victim_ids: list[int]) -> list[int]:
        """The given victims that belong to the case; any other ID is a data error."""
        with session_scope(self.engine) as session:
            found = set(
                session.exec(
                    select(Victim.id).where(Victim.case_id == case_id, Victim.id.in_(victim_ids))  # type: ignore[union-attr]
                ).all()
            )
        missing = sorted(set(victim_ids) - found)
        if missing:
            raise data_error(f"victim IDs {missing} are not victims of case {case_id}")
        return victim_ids

    @activity.defn
    def record_stage(self, change: StageChange) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, change.idempotency_key):
                return
            enrolment = session.exec(
                select(Enrolment).where(Enrolment.victim_id == change.victim_id)
            ).first()
            if enrolment is None:
                enrolment = Enrolment(
                    victim_id=change.victim_id,
                    case_id=change.case_id,
                    workflow_id=change.workflow_id,
                    updated_at=datetime.now(UTC),
                )
            enrolment.stage = change.stage
            for name in STAGE_FACTS:
                value = getattr(change, name)
                if value is not None:
                    setattr(enrolment, name, value)
            enrolment.updated_at = datetime.now(UTC)
            session.add(enrolment)
            append_audit(
                session,
                case_id=change.case_id,
                victim_id=change.victim_id,
                actor=change.by,
                action=f"stage:{change.stage.value}",
                detail=AuditDetail.of(**{name: getattr(change, name) for name in STAGE_FACTS}),
                note=change.note,
                idempotency_key=change.idempotency_key,
            )

    @activity.defn
    def save_milestones(self, request: SaveMilestones) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, request.idempotency_key):
                return
            case = stored_case(session, request.case_id)
            changed: dict[str, date | Ref] = {}  # each date that changed, to its new value
            for name in MILESTONE_FIELDS:
                new = getattr(request.milestones, name)
                if getattr(case, name) != new:
                    changed[name] = Ref("cleared") if new is None else new
                    setattr(case, name, new)
            session.add(case)
            append_audit(
                session,
                case_id=request.case_id,
                actor=request.by,
                action="milestones_recorded",
                detail=AuditDetail.of(**changed),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn
    def load_conditions(self, case_id: int, condition_ids: list[int]) -> list[ConditionNotice]:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(LicenceCondition).where(
                    LicenceCondition.case_id == case_id,
                    LicenceCondition.id.in_(condition_ids),  # type: ignore[union-attr]
                )
            ).all()
        by_id = {row.id: row for row in rows}
        missing = sorted(set(condition_ids) - set(by_id))
        if missing:
            raise data_error(f"licence conditions {missing} are not conditions of case {case_id}")
        return [
            ConditionNotice(
                condition_id=cid,
                victim_related=c.victim_related,
                ends_on=c.ends_on,
                starts_on=c.starts_on,
            )
            for cid in condition_ids
            if (c := by_id[cid])
        ]

    @activity.defn
    def forward_representations(self, request: ForwardRepresentations) -> None:
        """DVCVA s 35(4)-(5): forward representations to whoever decides licence conditions."""
        with session_scope(self.engine) as session:
            if already_done(session, request.idempotency_key):
                return
            rep = session.get(Representation, request.representation_id)
            if rep is None or rep.victim_id != request.victim_id:
                raise data_error(
                    f"representation {request.representation_id} is not from victim "
                    f"{request.victim_id}"
                )
            rep.forwarded_to = request.decided_by
            rep.forwarded_at = datetime.now(UTC)
            session.add(rep)
            append_audit(
                session,
                case_id=request.case_id,
                victim_id=request.victim_id,
                actor=request.by,
                action="representations_forwarded",
                detail=AuditDetail.of(representation=request.representation_id),
                idempotency_key=request.idempotency_key,
            )

    @activity.defn
    def record_audit(self, record: AuditRecord) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, record.idempotency_key):
                return
            append_audit(
                session,
                case_id=record.case_id,
                victim_id=record.victim_id,
                actor=record.actor,
                action=record.action,
                detail=record.detail,
                note=record.note,
                idempotency_key=record.idempotency_key,
            )

    @activity.defn
    def close_case(self, closure: CaseClosure) -> None:
        with session_scope(self.engine) as session:
            if already_done(session, closure.idempotency_key):
                return
            case = stored_case(session, closure.case_id)
            case.status = CaseStatus.CLOSED
            case.closed_at = datetime.now(UTC)
            session.add(case)
            append_audit(
                session,
                case_id=closure.case_id,
                actor=closure.by,
                action="case_closed",
                note=closure.reason,
                idempotency_key=closure.idempotency_key,
            )
