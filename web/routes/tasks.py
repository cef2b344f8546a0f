"""My tasks (the signed-in VLO's open tasks, overdue first, and those escalated to their role)
and a manager's view of the region's work."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.access import Action, Scope, allowed
from service.queries import escalated_tasks, my_tasks, region_view
from web.pages import actor_of, page

router = APIRouter()


@router.get("/tasks", response_class=HTMLResponse)
async def tasks(request: Request) -> Response:
    actor = actor_of(request)
    state = request.app.state
    lines = my_tasks(state.engine, actor, state.today())
    escalated = (
        escalated_tasks(state.engine, actor, state.today())
        if allowed(actor, Action.VIEW_ESCALATED_TASKS, Scope.OWN)
        else None
    )
    context = {
        "tasks": lines,
        "overdue": sum(t.overdue for t in lines),
        "escalated": escalated,
        "nav": "tasks",
    }
    return page(request, "tasks.html", context)


@router.get("/region", response_class=HTMLResponse)
async def region(request: Request) -> Response:
    actor = actor_of(request)
    state = request.app.state
    view = region_view(state.engine, actor, state.today())
    return page(request, "region.html", {"view": view, "nav": "region"})
