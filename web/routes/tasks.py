"""My tasks (the signed-in VLO's open tasks, overdue first, and those escalated to their role)
and a manager's view of the region's work."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.task_repository import task_by_id
from service.access import Action, Scope, allowed
from service.queries import checked, escalated_tasks, my_tasks, region_view, viewable_case
from web.forms import Form, posted, submit, submit_to, vcs_of, viewable
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
        "flash": request.session.pop("flash", None),
        "may_reassign": allowed(actor, Action.REASSIGN_TASK, Scope.OWN),
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


OUTCOME = Form(
    "task_outcome.html",
    ("outcome",),
    {"outcome": "Say what happened, in up to 500 characters"},
)
TASK = "/cases/{case_ref}/tasks/{task_id}/outcome"


@router.get(TASK, response_class=HTMLResponse)
async def outcome_form(request: Request, case_ref: str, task_id: int) -> Response:
    viewable(request, case_ref, task_id=task_id)
    context: dict[str, Any] = {
        "case_ref": case_ref,
        "task_id": task_id,
        "task_title": _title(request, task_id),
    }
    return OUTCOME.show(request, {"outcome": ""}, **context)


@router.post(TASK, response_class=HTMLResponse)
async def complete(request: Request, case_ref: str, task_id: int) -> Response:
    viewable(request, case_ref, task_id=task_id)
    actor, values = await posted(request, OUTCOME)

    async def action() -> tuple[str, str]:
        result = await vcs_of(request).complete_task(task_id, actor, values["outcome"])
        return case_ref, result.message

    context: dict[str, Any] = {
        "case_ref": case_ref,
        "task_id": task_id,
        "task_title": _title(request, task_id),
    }
    return await submit(request, OUTCOME, values, action, **context)


REASSIGN = Form(
    "task_reassign.html",
    ("to_vlo",),
    {"to_vlo": "Enter the new VLO's user name (2 to 60 characters)"},
)
REASSIGN_TASK = "/cases/{case_ref}/tasks/{task_id}/reassign"


def _may_reassign(request: Request, case_ref: str, task_id: int) -> dict[str, Any]:
    """Before showing the form: the task is the case's and the actor may reassign its tasks
    (seniors and managers: the access table); the service checks the action again."""
    actor, engine = viewable(request, case_ref, task_id=task_id), request.app.state.engine
    checked(engine, actor, Action.REASSIGN_TASK, viewable_case(engine, actor, case_ref))
    task = task_by_id(engine, task_id)
    return {
        "case_ref": case_ref,
        "task_id": task_id,
        "task_title": task.title,
        "held_by": task.assigned_to,
        "nav": "tasks",
    }


@router.get(REASSIGN_TASK, response_class=HTMLResponse)
async def reassign_form(request: Request, case_ref: str, task_id: int) -> Response:
    context = _may_reassign(request, case_ref, task_id)
    return REASSIGN.show(request, {"to_vlo": ""}, **context)


@router.post(REASSIGN_TASK, response_class=HTMLResponse)
async def reassign(request: Request, case_ref: str, task_id: int) -> Response:
    context = _may_reassign(request, case_ref, task_id)
    actor, values = await posted(request, REASSIGN)

    async def action() -> tuple[str, str]:
        return "", vcs_of(request).reassign_task(task_id, values["to_vlo"], actor).message

    return await submit_to(request, REASSIGN, values, action, "/tasks", context)


def _title(request: Request, task_id: int) -> str:
    return task_by_id(request.app.state.engine, task_id).title
