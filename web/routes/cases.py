"""Find a case by reference, and the case page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.case import CASE_REF
from service.access import Action, allowed, scope_of
from service.queries import case_summary
from web.pages import actor_of, page

router = APIRouter()


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
    context = {
        "summary": summary,
        "nav": "cases",
        "flash": request.session.pop("flash", None),
        "can_see_contacts": allowed(
            actor, Action.VIEW_CONTACT_DETAILS, scope_of(actor, summary.case.region)
        ),
        # Offered the action forms only if the actor may change the case (the service checks
        # each action again).
        "can_act": allowed(actor, Action.ADD_VICTIM, scope_of(actor, summary.case.region)),
    }
    return page(request, "case.html", context)
