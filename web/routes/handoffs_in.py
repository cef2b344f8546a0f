"""Hand-offs to the manager's region: the open ones coming in (IDs, regions, steps, dates;
never a victim), and for each a page to accept it once the sending side has supplied the case
information, or to refuse it (workflows/handoff_path.py: the sender supplies, the receiver accepts
or refuses, a refusal being a withdrawal with reason refused_by_receiver). The sending
region's managers keep the case page's forms (web/routes/handoffs.py). service/incoming.py
checks each page against the hand-off's recorded receiving region; the service checks the
acceptance again."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.access import Action
from service.incoming import incoming_handoff, incoming_handoffs
from service.queries import NotFound
from web.forms import Form, posted, submit_to, vcs_of
from web.pages import actor_of, page

router = APIRouter()
INCOMING = "/handoffs/incoming"
ONE = INCOMING + "/{handoff_id}"
DECIDE = Form("handoff_incoming.html", ("confirm",))  # accept or refuse: a confirmation


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
    return DECIDE.show(request, {}, handoff=handoff, nav="region")


# The receiving side's steps: the access table's action for each.
DECISIONS = {"accept": Action.ACCEPT_HANDOFF, "refuse": Action.REFUSE_HANDOFF}


@router.post(ONE + "/{decision}", response_class=HTMLResponse)
async def decide(request: Request, handoff_id: str, decision: str) -> Response:
    if decision not in DECISIONS:
        raise NotFound(f"no hand-off step {decision}")
    actor, engine = actor_of(request), request.app.state.engine
    handoff = incoming_handoff(engine, actor, handoff_id, DECISIONS[decision])
    _, values = await posted(request, DECIDE)

    async def act() -> tuple[str, str]:
        vcs = vcs_of(request)
        take = vcs.handoff_accept if decision == "accept" else vcs.handoff_refuse
        return "", (await take(handoff.handoff_id, actor)).message

    context = {"handoff": handoff, "nav": "region"}
    return await submit_to(request, DECIDE, values, act, INCOMING, context)
