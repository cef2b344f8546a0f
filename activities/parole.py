"""Activities of a Parole Board review: who is in the scheme, and sending a VPS to the Board.

A VPS's words are read only by the VLO's tools (and the Board); nothing here returns them."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio import activity

from activities.errors import data_error
from models.audit import AuditDetail, Ref
from models.audit_chain import already_done, append_audit
from models.db import session_scope
from models.parole import PAROLE_BOARD, ForwardVps, VictimPersonalStatement
from models.victim import Enrolment, Victim
from models.vocabulary import Stage


class ParoleActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def victims_in_scheme(self, case_id: int) -> list[int]:
        """The case's victims opted in now, from the stage each victim's path records
        (Enrolment). Victims in the scheme are offered a VPS (000_5a1d5e000983110f.txt)."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Enrolment.victim_id)
                .join(Victim, col(Victim.id) == col(Enrolment.victim_id))
                .where(
                    Enrolment.case_id == case_id,
                    Enrolment.stage == Stage.OPTED_IN,
                    col(Victim.erased_at).is_(None),
                )
                .order_by(col(Enrolment.victim_id))
            ).all()
        return list(rows)

    @activity.defn
    def forward_vps(self, request: ForwardVps) -> None:
        """Send the VPS to the Parole Board once: recorded as forwarded (and whether late, with
        the dates that make it so) and audited. A late VPS is still sent, for the panel to
        decide whether to consider it (models/parole.py ParolePolicy)."""
        with session_scope(self.engine) as session:
            if already_done(session, request.idempotency_key):
                return
            vps = session.get(VictimPersonalStatement, request.vps_id)
            if (
                vps is None
                or vps.victim_id != request.victim_id
                or vps.case_id != request.case_id
                or vps.review_id != request.review_id
            ):
                raise data_error(
                    f"VPS {request.vps_id} is not victim {request.victim_id}'s statement for "
                    f"review {request.review_id}"
                )
            vps.forwarded_to = PAROLE_BOARD
            vps.forwarded_at = datetime.now(UTC)
            vps.late = request.late_reason is not None
            vps.late_reason = request.late_reason
            session.add(vps)
            append_audit(
                session,
                case_id=request.case_id,
                victim_id=request.victim_id,
                actor=request.by,
                action="vps_forwarded",
                detail=AuditDetail.of(
                    vps=request.vps_id, review=Ref(request.review_id), late=vps.late
                ),  # why late: the statement's row
                idempotency_key=request.idempotency_key,
            )
