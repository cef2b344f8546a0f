"""A VLO manager's bulk transfer (workflows/bulk_transfer.py: every open case of one provider
to another, as in the 2021 unification): start it (paused, if wanted), follow its progress,
pause and resume it. The access table lets managers only; the service checks each call."""

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from models.errors import VcsError
from models.handoff import BulkProgress
from models.vocabulary import Provider
from service.access import Action
from service.actor import Actor
from service.queries import NotFound, checked
from web.forms import Form, blank_to_none, posted, submit_to, vcs_of
from web.pages import actor_of, page

router = APIRouter()
# Local policy: a bulk transfer's name is one short token, as it names its workflow and page.
BULK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
START = Form(
    "bulk_start.html",
    ("bulk_id", "from_provider", "to_provider", "to_vlo", "page_size", "paused"),
    {
        "bulk_id": "Name the transfer: letters, digits, '-' or '_', up to 40 characters",
        "from_provider": "Choose the provider the cases leave",
        "to_provider": "Choose the provider the cases go to",
        "to_vlo": "Enter the new VLO's user name (2 to 60 characters), or leave it blank",
        "page_size": "Enter how many cases to move at a time, from 1 to 500",
        "paused": "Choose whether to start paused",
    },
)
CONTROL = Form("bulk_progress.html", ("control",))
PROVIDERS: dict[str, Any] = {"providers": list(Provider), "nav": "region"}


class BulkStart(BaseModel):
    """The start form's fields, each checked at once."""

    bulk_id: str = Field(pattern=BULK_ID.pattern + "$")
    from_provider: Provider
    to_provider: Provider
    to_vlo: str | None = Field(default=None, min_length=2, max_length=60)
    page_size: int = Field(default=50, ge=1, le=500)
    paused: bool


def _manager(request: Request, actor: Actor | None = None) -> Actor:
    """The actor, once the access table lets them run bulk transfers (a refusal is logged)."""
    actor = actor or actor_of(request)
    checked(request.app.state.engine, actor, Action.BULK_TRANSFER)
    return actor


@router.get("/bulk-transfers", response_class=HTMLResponse)
async def start_form(request: Request) -> Response:
    _manager(request)
    values = dict.fromkeys(START.fields, "") | {"page_size": "50", "paused": "yes"}
    return START.show(request, values, **PROVIDERS)


@router.post("/bulk-transfers", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    actor, values = await posted(request, START)
    _manager(request, actor)

    async def action() -> tuple[str, str]:
        asked = BulkStart.model_validate(blank_to_none(values))
        await vcs_of(request).bulk_start(
            asked.bulk_id,
            asked.from_provider,
            asked.to_provider,
            actor,
            to_vlo=asked.to_vlo,
            page_size=asked.page_size,
            paused=asked.paused,
        )
        how = "started paused: resume it to move cases" if asked.paused else "started"
        return asked.bulk_id, f"Bulk transfer {asked.bulk_id} {how}"

    return await submit_to(request, START, values, action, "/bulk-transfers/{}", PROVIDERS)


async def _progress(request: Request, actor: Actor, bulk_id: str) -> BulkProgress:
    """Where the transfer stands; an unknown one (or a name that cannot be one) is not found."""
    if not BULK_ID.fullmatch(bulk_id):
        raise NotFound(f"no bulk transfer {bulk_id}")
    try:
        return await vcs_of(request).bulk_progress(bulk_id, actor)
    except VcsError as error:
        raise NotFound(str(error)) from None


@router.get("/bulk-transfers/{bulk_id}", response_class=HTMLResponse)
async def progress(request: Request, bulk_id: str) -> Response:
    actor = _manager(request)
    context = {"p": await _progress(request, actor, bulk_id), "nav": "region"}
    flash = request.session.pop("flash", None)
    return page(request, "bulk_progress.html", {"values": {}, "flash": flash, **context})


@router.post("/bulk-transfers/{bulk_id}/{control}", response_class=HTMLResponse)
async def control(request: Request, bulk_id: str, control: str) -> Response:
    actor, values = await posted(request, CONTROL)
    _manager(request, actor)
    if control not in ("pause", "resume"):
        raise NotFound(f"no bulk transfer action {control}")
    context = {"p": await _progress(request, actor, bulk_id), "nav": "region"}
    vcs = vcs_of(request)

    async def action() -> tuple[str, str]:
        take = vcs.bulk_pause if control == "pause" else vcs.bulk_resume
        return bulk_id, (await take(bulk_id, actor)).message

    return await submit_to(request, CONTROL, values, action, "/bulk-transfers/{}", context)
