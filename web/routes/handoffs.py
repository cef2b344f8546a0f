"""A case's hand-off from the case page (workflows/handoff_path.py): request it, record the case
information supplied and the receiving side's acceptance, or withdraw it with its reason; and a
CRC's report of a key event. The access table decides who may (managers hand off); the
confirmation is the engine's message."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.errors import VcsError
from models.handoff import RequestHandoff, WithdrawalReason
from models.vocabulary import CrcEventKind, HandoffReason, Provider
from service.access import Action
from service.contacts import Invalid, Problem
from service.queries import NotFound, checked, viewable_case
from web.forms import Form, blank_to_none, parsed, posted, submit, vcs_of, viewable
from web.pages import actor_of

router = APIRouter()
CASE = "/cases/{case_ref}"
REQUEST = Form(
    "handoff_request.html",
    ("reason", "to_provider", "to_region", "to_vlo"),
    {
        "reason": "Choose why the case is handed off",
        "to_provider": "Choose the provider the case goes to",
        "to_region": "Enter the region the case goes to (2 to 60 characters)",
        "to_vlo": "Enter the receiving VLO's user name (2 to 60 characters)",
    },
)
STEP = Form("handoff_step.html", ("confirm",))  # supply or accept: a confirmation
# The engine alone withdraws a hand-off as failed (its workflow ended without switching).
WITHDRAWABLE = [r for r in WithdrawalReason if r is not WithdrawalReason.HANDOFF_FAILED]
WITHDRAW = Form("handoff_withdraw.html", ("reason",), {"reason": "Choose why it is withdrawn"})
CRC_EVENT = Form(
    "crc_event.html",
    ("kind", "occurred_on"),
    {
        "kind": "Choose the kind of event",
        "occurred_on": "Enter the date the event happened as a real date",
    },
)
CHOICES: dict[str, Any] = {"reasons": list(HandoffReason), "providers": list(Provider)}
STEPS: dict[str, dict[str, str]] = {
    "supply": {
        "title": "Record the case information supplied",
        "explain": "The sending provider has sent the receiving provider what it needs to "
        "take the case on. The receiving side then accepts it.",
        "button": "Record supplied",
    },
    "accept": {
        "title": "Record the hand-off accepted",
        "explain": "The receiving provider accepts the case: responsibility for it, and every "
        "open task, moves to them at once.",
        "button": "Record accepted",
    },
}


def _may_hand_off(request: Request, case_ref: str) -> None:
    """Before showing a hand-off form: the actor may hand this case off (managers: the access
    table); the service checks each action again."""
    actor, engine = actor_of(request), request.app.state.engine
    checked(engine, actor, Action.HAND_OFF, viewable_case(engine, actor, case_ref))


@router.get(CASE + "/handoff", response_class=HTMLResponse)
async def request_form(request: Request, case_ref: str) -> Response:
    _may_hand_off(request, case_ref)
    return REQUEST.show(request, dict.fromkeys(REQUEST.fields, ""), case_ref=case_ref, **CHOICES)


@router.post(CASE + "/handoff", response_class=HTMLResponse)
async def request_handoff(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, REQUEST)

    async def action() -> tuple[str, str]:
        # The request's own model checks every field at once (the service checks it again).
        asked = RequestHandoff.model_validate({"by": actor.id, **blank_to_none(values)})
        result = await vcs_of(request).request_handoff(
            case_ref, asked.reason, asked.to_provider, asked.to_region, asked.to_vlo, actor
        )
        return case_ref, result.message

    return await submit(request, REQUEST, values, action, case_ref=case_ref, **CHOICES)


def _handoff_id(request: Request, case_ref: str) -> str:
    """The case's latest hand-off (the service refuses a step on one that has ended)."""
    try:
        return vcs_of(request).handoff_of(None, case_ref)
    except VcsError as error:
        raise NotFound(str(error)) from None


@router.get(CASE + "/handoff/{step}", response_class=HTMLResponse)
async def step_form(request: Request, case_ref: str, step: str) -> Response:
    _may_hand_off(request, case_ref)
    context: dict[str, Any] = {"case_ref": case_ref, "handoff_id": _handoff_id(request, case_ref)}
    if step == "withdraw":
        return WITHDRAW.show(request, {"reason": ""}, reasons=WITHDRAWABLE, **context)
    form = _step(step)
    return form.show(request, {}, step=step, words=STEPS[step], **context)


@router.post(CASE + "/handoff/{step}", response_class=HTMLResponse)
async def step(request: Request, case_ref: str, step: str) -> Response:
    viewable(request, case_ref)
    handoff_id = _handoff_id(request, case_ref)
    context: dict[str, Any] = {"case_ref": case_ref, "handoff_id": handoff_id}
    if step == "withdraw":
        actor, values = await posted(request, WITHDRAW)

        async def withdraw() -> tuple[str, str]:
            reason = parsed(WITHDRAW, values, "reason", WithdrawalReason)
            if reason not in WITHDRAWABLE:
                raise Invalid([Problem("reason", WITHDRAW.fixes["reason"])])
            result = await vcs_of(request).handoff_withdraw(handoff_id, reason, actor)
            return case_ref, result.message

        return await submit(request, WITHDRAW, values, withdraw, reasons=WITHDRAWABLE, **context)
    form = _step(step)
    actor, values = await posted(request, form)

    async def act() -> tuple[str, str]:
        vcs = vcs_of(request)
        take = vcs.handoff_supply if step == "supply" else vcs.handoff_accept
        return case_ref, (await take(handoff_id, actor)).message

    return await submit(request, form, values, act, step=step, words=STEPS[step], **context)


def _step(step: str) -> Form:
    if step not in STEPS:
        raise NotFound(f"no hand-off step {step}")
    return STEP


@router.get(CASE + "/crc-event", response_class=HTMLResponse)
async def crc_event_form(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    values = dict.fromkeys(CRC_EVENT.fields, "")
    return CRC_EVENT.show(request, values, case_ref=case_ref, kinds=list(CrcEventKind))


@router.post(CASE + "/crc-event", response_class=HTMLResponse)
async def crc_event(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, CRC_EVENT)

    async def action() -> tuple[str, str]:
        kind = parsed(CRC_EVENT, values, "kind", CrcEventKind)
        occurred_on = parsed(CRC_EVENT, values, "occurred_on", date)
        result = await vcs_of(request).report_crc_event(case_ref, kind, occurred_on, actor)
        return case_ref, result.message

    context: dict[str, Any] = {"case_ref": case_ref, "kinds": list(CrcEventKind)}
    return await submit(request, CRC_EVENT, values, action, **context)
