"""Hand-offs to the manager's region: the open ones coming in (IDs, regions, steps, dates;
never a victim), and for each a page to accept it once the sending side has supplied the case
information (workflows/handoff.py: the sender supplies, the receiver accepts). The sending
region's managers keep the case page's forms (web/routes/handoffs.py). service/incoming.py
checks each page against the hand-off's recorded receiving region; the service checks the
acceptance again."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.access import Action
from service.incoming import incoming_handoff, incoming_handoffs
from web.forms import Form, posted, submit_to, vcs_of
from web.pages import actor_of, page

router = APIRouter()
INCOMING = "/handoffs/incoming"
ONE = INCOMING + "/{handoff_id}"
ACCEPT = Form("handoff_accept_incoming.html", ("confirm",))  # a confirmation


@router.get(INCOMING, response_class=HTMLResponse)
async def incoming(request: Request) -> Response:
    actor, engine = actor_of(request), request.app.state.engine
    context = {
        "region": actor.region,
        "handoffs": incoming_handoffs(engine, actor),
        "flash": request.session.pop("flash", None),
        "nav": "region",
    }
    return page(request, "handoffs_incoming.html", context)


@router.get(ONE, response_class=HTMLResponse)
async def one(request: Request, handoff_id: str) -> Response:
    handoff = incoming_handoff(request.app.state.engine, actor_of(request), handoff_id)
    return ACCEPT.show(request, {}, handoff=handoff, nav="region")


@router.post(ONE + "/accept", response_class=HTMLResponse)
async def accept(request: Request, handoff_id: str) -> Response:
    actor, engine = actor_of(request), request.app.state.engine
    handoff = incoming_handoff(engine, actor, handoff_id, Action.ACCEPT_HANDOFF)
    _, values = await posted(request, ACCEPT)

    async def act() -> tuple[str, str]:
        result = await vcs_of(request).handoff_accept(handoff.handoff_id, actor)
        return "", result.message

    context = {"handoff": handoff, "nav": "region"}
    return await submit_to(request, ACCEPT, values, act, INCOMING, context)
