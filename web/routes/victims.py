"""A victim on the case page: add one (the contact form's fields and checks), opt them in at a
contact level or out, and their representations. IDs only in the URLs; the confirmation is
what the engine said it did."""

from typing import Any

from fastapi import APIRouter, Request

from models.representation_repository import MAX_REPRESENTATION_CHARS
from models.vocabulary import Channel, ContactLevel, Language
from service import contacts
from service.actor import Actor
from web.forms import Form, Target, action_form, offering, parsed, vcs_of
from web.uploads import written

router = APIRouter()
VICTIM = "/victims/{victim_id:int}"

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
    ("text", "file"),
    {"text": "Paste the victim's representations (up to 20,000 characters), or choose a file"},
)
LEVELS: dict[str, Any] = {"levels": list(ContactLevel)}


async def add(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    # The case's workflow answers once the victim's path is set up and the offer task open
    # (workflows/case_victims.py), so the case page the VLO goes back to lists them.
    vcs = vcs_of(request)
    victim_id, added = await vcs.add_victim(target.case_ref, contacts.parse(values), actor)
    due = f", due {added.offer_due}" if added.offer_due else ""
    return f"Victim {victim_id} added: the offer of the scheme is on My tasks{due}"


async def opt_in(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    level = parsed(OPT_IN, values, "contact_level", ContactLevel)
    return (await vcs_of(request).opt_in(target.victim_id, level, actor)).message


async def opt_out(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    return (await vcs_of(request).opt_out(target.victim_id, actor)).message


async def representations(
    request: Request, actor: Actor, values: dict[str, str], target: Target
) -> str:
    """Pasted, or uploaded as a plain-text file (web/uploads.py): the same words either way."""
    text = await written(
        request,
        REPRESENTATIONS.fixes["text"],
        MAX_REPRESENTATION_CHARS,
        "Paste the representations or choose a file, not both",
    )
    return (await vcs_of(request).submit_representations(target.victim_id, text, actor)).message


action_form(
    router,
    "/victims/new",
    ADD,
    add,
    offering(CONTACT_CHOICES),
    post_to="/victims",
    preferred_channel="letter",
    language="en",
)
# The engine's message names the victim who opted in or out.
action_form(router, VICTIM + "/opt-in", OPT_IN, opt_in, offering(LEVELS), named=True)
action_form(router, VICTIM + "/opt-out", OPT_OUT, opt_out, named=True)
action_form(router, VICTIM + "/representations", REPRESENTATIONS, representations)
