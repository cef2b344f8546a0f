"""My tasks: the signed-in VLO's open tasks, overdue first."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.queries import my_tasks
from web.pages import actor_of, page

router = APIRouter()


@router.get("/tasks", response_class=HTMLResponse)
async def tasks(request: Request) -> Response:
    actor = actor_of(request)
    state = request.app.state
    lines = my_tasks(state.engine, actor, state.today())
    return page(
        request,
        "tasks.html",
        {"tasks": lines, "overdue": sum(t.overdue for t in lines), "nav": "tasks"},
    )
