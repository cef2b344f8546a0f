"""Find a case by reference, and the case page: its rows from the case database, and (when the
console has the engine) what the engine holds: what is scheduled next, an open parole review,
the hospital path and a hand-off in progress."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.exceptions import TemporalError

from models.case import CASE_REF
from models.errors import VcsError
from service.access import Action, allowed, scope_of
from service.actor import Actor
from service.queries import case_summary
from service.timeline import EngineView, engine_view
from web.pages import actor_of, page

router = APIRouter()
# How long the case page waits for the engine's view before showing the page without it.
ENGINE_WAIT_SECONDS = 3.0


@router.get("/cases", response_class=HTMLResponse)
async def find(request: Request, ref: str | None = None) -> Response:
    actor_of(request)
    if ref is None:
        return page(request, "find.html", {"nav": "cases"})
    ref = ref.strip()
    if not CASE_REF.fullmatch(ref):
        error = "Enter a case reference like LDS-2026-0042"
        return page(request, "find.html", {"nav": "cases", "ref": ref, "error": error}, 400)
    return RedirectResponse(f"/cases/{ref}", status_code=303)


@router.get("/cases/{case_ref}", response_class=HTMLResponse)
async def case(request: Request, case_ref: str) -> Response:
    actor = actor_of(request)
    state = request.app.state
    summary = case_summary(state.engine, actor, case_ref, state.today())
    engine = await _engine(request, actor, case_ref)
    scope = scope_of(actor, summary.case.region)
    context = {
        "summary": summary,
        "engine": engine,
        "engine_connected": state.vcs is not None,
        "nav": "cases",
        "flash": request.session.pop("flash", None),
        "can_see_contacts": allowed(actor, Action.VIEW_CONTACT_DETAILS, scope),
        # Offered the action forms only if the actor may change the case (the service checks
        # each action again).
        "can_act": allowed(actor, Action.ADD_VICTIM, scope),
        "can_hand_off": allowed(actor, Action.HAND_OFF, scope),
        "can_report_crc": allowed(actor, Action.RECORD_KEY_STAGE, scope),
        "can_audit": allowed(actor, Action.EXPORT_AUDIT, scope),
        "can_reassign": allowed(actor, Action.REASSIGN_TASK, scope),  # any open task of the region
    }
    return page(request, "case.html", context)


async def _engine(request: Request, actor: Actor, case_ref: str) -> EngineView | None:
    """The engine's view of the case, or None (the page says so) when the console has no
    engine, or it did not answer in time: the case's rows are shown either way."""
    vcs = request.app.state.vcs
    if vcs is None:
        return None
    try:
        return await asyncio.wait_for(engine_view(vcs, actor, case_ref), ENGINE_WAIT_SECONDS)
    except (TemporalError, VcsError, TimeoutError):
        return None
