"""What the engine holds about a case beyond its database rows: what is scheduled next (the
case's, an open parole review's and each victim's), the open Parole Board review and where it
stands, the hospital path, and the hand-off in progress. IDs, kinds and dates only; every part
is read with the actor's VIEW_CASE permission checked first (by the case's own view)."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from models.errors import UnavailableError, VcsError
from models.handoff import HandoffView
from models.ids import case_workflow_id
from models.parole import ParoleView
from models.workflow_state import HospitalStatus
from service.actor import Actor
from service.vcs import Vcs
from workflows.case import CaseWorkflow

T = TypeVar("T")


@dataclass(frozen=True)
class ParoleStanding:
    review_id: str
    step: str
    waiting_for: str
    due_on: date | None
    open_task_ids: list[int]


@dataclass(frozen=True)
class EngineView:
    scheduled: list[tuple[date, str]]  # soonest first: (on, "whose: what")
    parole: ParoleStanding | None
    hospital: HospitalStatus | None
    handoff: HandoffView | None
    victims_not_running: list[int]  # victims recorded but not (yet) held by the case


def parole_standing(view: ParoleView) -> ParoleStanding:
    """Where a review stands and what it waits for (workflows/review_path.py's order: statements by
    the Board's deadline, then the hearing, then the decision)."""
    t = view.timetable
    if view.decision is not None:
        step, waiting, due = f"decided: {view.decision.outcome.value}", "nothing", None
    elif not view.deadline_passed:
        step = "referred"
        waiting, due = "victim personal statements and representations", t.vps_due_on
    elif t.hearing_on is not None:
        step, waiting, due = "hearing set", "the hearing and the Board's decision", t.hearing_on
    else:
        step, waiting, due = "statements closed", "the Board to set a hearing or decide", None
    tasks = [task.task_id for task in view.open_tasks]
    return ParoleStanding(view.review_id, step, waiting, due, tasks)


async def engine_view(vcs: Vcs, actor: Actor, case_ref: str) -> EngineView:
    """The engine's view of the case; its parts are asked for at once."""
    case = await vcs.case_view(case_ref, actor)  # checks VIEW_CASE
    review, handoff_id = case.open_parole_review, case.open_handoff
    parole, handoff, victims = await asyncio.gather(
        _unless_ended(vcs.parole_view(case_ref, actor, review)) if review else _none(),
        _unless_ended(vcs.handoff_view(handoff_id, actor)) if handoff_id else _none(),
        vcs.client.get_workflow_handle(case_workflow_id(case_ref)).query(CaseWorkflow.victim_views),
    )
    scheduled = [(s.on, f"case: {s.what}") for s in case.scheduled]
    if isinstance(parole, ParoleView):
        scheduled += [(on, f"parole review: {what}") for on, what in parole.scheduled]
    for view in victims:
        scheduled += [(s.on, f"victim {view.victim_id}: {s.what}") for s in view.scheduled]
    # A victim the case has not yet taken in (the worker was down when they were added).
    gone = sorted(set(case.victim_ids) - {view.victim_id for view in victims})
    return EngineView(
        scheduled=sorted(scheduled),
        parole=parole_standing(parole) if isinstance(parole, ParoleView) else None,
        hospital=case.hospital,
        handoff=handoff if isinstance(handoff, HandoffView) else None,
        victims_not_running=gone,
    )


async def _none() -> None:
    return None


async def _unless_ended(view: Awaitable[T]) -> T | None:
    """A review's or hand-off's view; None if its workflow has just ended (the service says
    it is not running), as the case's view may name it a moment longer."""
    try:
        return await view
    except UnavailableError:
        raise
    except VcsError:
        return None
