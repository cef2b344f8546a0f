"""Hand-offs coming to a region (models/handoff.py CaseHandoff, written by
activities/handoff.py): what the receiving region's manager reads before accepting one. IDs,
regions, providers, steps and dates only: never a victim, nor the case's victims.

The scope of each check is the hand-off's recorded receiving region (service/access.py
VIEW_INCOMING_HANDOFFS), never a region taken from the address; a refusal is logged as every
other (service/queries.py checked)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import col, select

from models.case import OffenderCase
from models.db import session_scope
from models.handoff import ENDED_STEPS, CaseHandoff
from models.vocabulary import HandoffReason, HandoffStep, Provider
from service.access import Action
from service.actor import Actor
from service.queries import NotFound, checked

# What an open hand-off waits for, by its step (workflows/handoff_path.py: the sender supplies the
# case information, the receiver accepts; accepted is the engine switching responsibility).
WAITING_FOR = {
    HandoffStep.REQUESTED: "the sending provider to supply the case information",
    HandoffStep.SUPPLIED: "your region to accept the case",
    HandoffStep.ACCEPTED: "the engine to switch responsibility",
}


@dataclass(frozen=True)
class IncomingHandoff:
    handoff_id: str
    case_ref: str
    reason: HandoffReason
    from_provider: Provider
    from_region: str
    to_provider: Provider
    to_region: str
    to_vlo: str
    step: HandoffStep
    requested_at: datetime
    supplied_at: datetime | None

    @property
    def waiting_for(self) -> str:
        return WAITING_FOR.get(self.step, "nothing: it has ended")

    @property
    def acceptable(self) -> bool:
        """The receiving side's step is due (the service and the engine check again)."""
        return self.step is HandoffStep.SUPPLIED

    @property
    def refusable(self) -> bool:
        """Until it is accepted the receiving side may refuse it (workflows/handoff_path.py)."""
        return self.step in (HandoffStep.REQUESTED, HandoffStep.SUPPLIED)


def _line(row: CaseHandoff, case_ref: str) -> IncomingHandoff:
    return IncomingHandoff(
        handoff_id=row.handoff_id,
        case_ref=case_ref,
        reason=row.reason,
        from_provider=row.from_provider,
        from_region=row.from_region,
        to_provider=row.to_provider,
        to_region=row.to_region,
        to_vlo=row.to_vlo,
        step=row.step,
        requested_at=row.requested_at,
        supplied_at=row.supplied_at,
    )


def incoming_handoffs(engine: Engine, actor: Actor) -> list[IncomingHandoff]:
    """The open hand-offs to the actor's region, oldest request first. A bulk transfer's are
    left out: the engine supplies and accepts them itself."""
    checked(engine, actor, Action.VIEW_INCOMING_HANDOFFS)
    with session_scope(engine) as session:
        rows = session.exec(
            select(CaseHandoff, OffenderCase.case_ref)
            .join(OffenderCase, col(OffenderCase.id) == col(CaseHandoff.case_id))
            .where(
                CaseHandoff.to_region == actor.region,
                col(CaseHandoff.step).not_in(ENDED_STEPS),
                col(CaseHandoff.bulk_id).is_(None),
            )
            .order_by(col(CaseHandoff.requested_at), col(CaseHandoff.id))
        ).all()
    return [_line(row, case_ref) for row, case_ref in rows]


def incoming_handoff(
    engine: Engine, actor: Actor, handoff_id: str, action: Action = Action.VIEW_INCOMING_HANDOFFS
) -> IncomingHandoff:
    """One hand-off, once the actor may take `action` on it as its receiving region's: one to
    another region is refused (and logged) whatever the address says."""
    with session_scope(engine) as session:
        found = session.exec(
            select(CaseHandoff, OffenderCase.case_ref)
            .join(OffenderCase, col(OffenderCase.id) == col(CaseHandoff.case_id))
            .where(CaseHandoff.handoff_id == handoff_id)
        ).first()
    if found is None:
        checked(engine, actor, action)  # who may not look at all is refused, not told
        raise NotFound(f"no hand-off {handoff_id}")
    row, case_ref = found
    checked(engine, actor, action, region=row.to_region)
    return _line(row, case_ref)
