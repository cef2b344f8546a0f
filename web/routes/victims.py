"""A victim on the case page: add one (the contact form's fields and checks), opt them in at a
contact level or out, and their representations. IDs only in the URLs; the confirmation is
what the engine said it did."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.repository import MAX_REPRESENTATION_CHARS
from models.vocabulary import Channel, ContactLevel, Language
from service import contacts
from web.forms import Form, parsed, posted, submit, vcs_of, viewable
from web.uploads import oversized, written

router = APIRouter()
VICTIM = "/cases/{case_ref}/victims/{victim_id}"

ADD = Form("victim_add.html", contacts.FIELDS, contacts.FIX)
CONTACT_CHOICES: dict[str, Any] = {"channels": list(Channel), "languages": list(Language)}
OPT_IN = Form(
    "opt_in.html",
    ("contact_level",),
    {"contact_level": "Choose how much the victim wants to hear"},
)
OPT_OUT = Form("opt_out.html", ("confirm",))
REPRESENTATIONS = Form(
    "representations.html",
    ("text",),
    {"text": "Paste the victim's representations (up to 20,000 characters), or choose a file"},
)
LEVELS: dict[str, Any] = {"levels": list(ContactLevel)}


@router.get("/cases/{case_ref}/victims/new", response_class=HTMLResponse)
async def add_form(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    values = dict.fromkeys(ADD.fields, "") | {"preferred_channel": "letter", "language": "en"}
    return ADD.show(request, values, case_ref=case_ref, **CONTACT_CHOICES)


@router.post("/cases/{case_ref}/victims", response_class=HTMLResponse)
async def add(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, ADD)

    async def action() -> tuple[str, str]:
        # The case's workflow answers once the victim's path is set up and the offer task open
        # (workflows/case_victims.py), so the case page the VLO goes back to lists them.
        victim_id, added = await vcs_of(request).add_victim(case_ref, contacts.parse(values), actor)
        due = f", due {added.offer_due}" if added.offer_due else ""
        return case_ref, f"Victim {victim_id} added: the offer of the scheme is on My tasks{due}"

    return await submit(request, ADD, values, action, case_ref=case_ref, **CONTACT_CHOICES)


@router.get(VICTIM + "/opt-in", response_class=HTMLResponse)
async def opt_in_form(request: Request, case_ref: str, victim_id: int) -> Response:
    viewable(request, case_ref, victim_id=victim_id)
    values = {"contact_level": ""}
    return OPT_IN.show(request, values, case_ref=case_ref, victim_id=victim_id, **LEVELS)


@router.post(VICTIM + "/opt-in", response_class=HTMLResponse)
async def opt_in(request: Request, case_ref: str, victim_id: int) -> Response:
    viewable(request, case_ref, victim_id=victim_id)
    actor, values = await posted(request, OPT_IN)

    async def action() -> tuple[str, str]:
        level = parsed(OPT_IN, values, "contact_level", ContactLevel)
        result = await vcs_of(request).opt_in(victim_id, level, actor)
        return case_ref, result.message

    context = {"case_ref": case_ref, "victim_id": victim_id, **LEVELS}
    return await submit(request, OPT_IN, values, action, **context)


@router.get(VICTIM + "/opt-out", response_class=HTMLResponse)
async def opt_out_form(request: Request, case_ref: str, victim_id: int) -> Response:
    viewable(request, case_ref, victim_id=victim_id)
    return OPT_OUT.show(request, {}, case_ref=case_ref, victim_id=victim_id)


@router.post(VICTIM + "/opt-out", response_class=HTMLResponse)
async def opt_out(request: Request, case_ref: str, victim_id: int) -> Response:
    viewable(request, case_ref, victim_id=victim_id)
    actor, values = await posted(request, OPT_OUT)

    async def action() -> tuple[str, str]:
        result = await vcs_of(request).opt_out(victim_id, actor)
        return case_ref, result.message

    return await submit(request, OPT_OUT, values, action, case_ref=case_ref, victim_id=victim_id)


@router.get(VICTIM + "/representations", response_class=HTMLResponse)
async def representations_form(request: Request, case_ref: str, victim_id: int) -> Response:
    viewable(request, case_ref, victim_id=victim_id)
    values = {"text": ""}
    return REPRESENTATIONS.show(request, values, case_ref=case_ref, victim_id=victim_id)


@router.post(VICTIM + "/representations", response_class=HTMLResponse)
async def representations(request: Request, case_ref: str, victim_id: int) -> Response:
    """Pasted, or uploaded as a plain-text file (web/uploads.py): the same words either way."""
    viewable(request, case_ref, victim_id=victim_id)
    context = {"case_ref": case_ref, "victim_id": victim_id}
    too_big = await oversized(request, "file", MAX_REPRESENTATION_CHARS)
    if too_big:
        return REPRESENTATIONS.show(request, {"text": ""}, problems=too_big, **context)
    actor, values = await posted(request, REPRESENTATIONS)

    async def action() -> tuple[str, str]:
        text = await written(
            request,
            REPRESENTATIONS.fixes["text"],
            MAX_REPRESENTATION_CHARS,
            "Paste the representations or choose a file, not both",
        )
        result = await vcs_of(request).submit_representations(victim_id, text, actor)
        return case_ref, f"Victim {victim_id}: {result.message}"

    return await submit(request, REPRESENTATIONS, values, action, **context)
