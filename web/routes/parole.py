"""Parole Board reviews from the case page (service/parole.py; domain.md 'Parole'): the
referral with its timetable, the hearing, an adjournment and the Board's decision for the case;
a victim's VPS (pasted or uploaded: always in writing), representations, application to read
the VPS, the Board's answer to it, and a request for the decision's summary. Each step acts on
the case's latest review; where the review stands is its own page. IDs only in the URLs; the
confirmation is what the engine said it did."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.errors import VcsError
from models.parole import READ_ALOUD_WORDS, ParoleTimetable
from models.vocabulary import ParoleOutcome
from service.actor import Actor
from service.contacts import Invalid, Problem
from web.forms import (
    OPTIONAL_DATE,
    Form,
    Target,
    action_form,
    parsed,
    parsed_all,
    vcs_of,
    viewable,
    wording,
)
from web.pages import page
from web.uploads import written

router = APIRouter()
VICTIM = "/victims/{victim_id:int}"
DATE_FIX = "as a real date"
ORAL_FIX = "Choose whether the Board holds an oral hearing or decides on the papers"

REFER = Form(
    "parole_refer.html",
    ("referred_on", "vps_due_on", "hearing_on", "oral"),
    {
        "referred_on": f"Enter the date of the referral {DATE_FIX}",
        "vps_due_on": f"Enter the Board's deadline for statements {DATE_FIX}",
        "hearing_on": f"Enter the hearing date {DATE_FIX}, or leave it blank if not listed",
        "oral": ORAL_FIX,
    },
)
HEARING = Form(
    "parole_hearing.html",
    ("hearing_on", "oral"),
    {"hearing_on": f"Enter the hearing date {DATE_FIX}", "oral": ORAL_FIX},
)
ADJOURN = Form(
    "parole_adjourn.html",
    ("hearing_on", "vps_due_on"),
    {
        "hearing_on": f"Enter the new hearing date {DATE_FIX}, or leave it blank if none is listed",
        "vps_due_on": f"Enter the new deadline for statements {DATE_FIX}, or leave it blank",
    },
)
DECISION = Form(
    "parole_decision.html",
    ("outcome", "decided_on", "next_review_on"),
    {
        "outcome": "Choose what the Board decided",
        "decided_on": f"Enter the date the Board decided {DATE_FIX}",
        "next_review_on": f"Enter the date of the next review {DATE_FIX}, or leave it blank",
    },
)
TEXT_FIX = "Paste the victim's words (up to 20,000 characters), or choose a plain text (.txt) file"
VPS = Form(
    "parole_statement.html",
    ("text", "file", "checked"),
    {
        "text": TEXT_FIX,
        "checked": "Confirm you have read the statement and it does not say whether the "
        "prisoner should be released",
    },
)
REPRESENTATIONS = Form("parole_statement.html", ("text", "file"), {"text": TEXT_FIX})
APPLY_TO_READ = Form("confirm_step.html", ("confirm",))
READ_DECISION = Form(
    "parole_read_decision.html",
    ("granted",),
    {"granted": "Choose whether the Board granted the application"},
)
SUMMARY = Form("confirm_step.html", ("confirm",))


# ---- the case's review ---------------------------------------------------------------------


async def refer(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(
        REFER, values, referred_on=date, vps_due_on=date, hearing_on=OPTIONAL_DATE, oral=bool
    )
    timetable = ParoleTimetable(
        referred_on=f["referred_on"],
        vps_due_on=f["vps_due_on"],
        hearing_on=f["hearing_on"],
        oral_hearing=f["oral"],
    )
    return (await vcs_of(request).refer_parole(target.case_ref, timetable, actor)).message


async def hearing(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(HEARING, values, hearing_on=date, oral=bool)
    vcs = vcs_of(request)
    return (await vcs.set_hearing(target.case_ref, f["hearing_on"], f["oral"], actor)).message


async def adjourn(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(ADJOURN, values, hearing_on=OPTIONAL_DATE, vps_due_on=OPTIONAL_DATE)
    vcs = vcs_of(request)
    return (
        await vcs.adjourn_hearing(target.case_ref, f["hearing_on"], f["vps_due_on"], actor)
    ).message


async def decision(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    f = parsed_all(
        DECISION, values, outcome=ParoleOutcome, decided_on=date, next_review_on=OPTIONAL_DATE
    )
    result = await vcs_of(request).record_parole_decision(
        target.case_ref, f["outcome"], f["decided_on"], f["next_review_on"], actor
    )
    return result.message


def outcomes(_: Request, __: Actor) -> dict[str, Any]:
    return {"outcomes": list(ParoleOutcome)}


action_form(router, "/parole/refer", REFER, refer, oral="yes")
action_form(router, "/parole/hearing", HEARING, hearing, oral="yes")
action_form(router, "/parole/adjourn", ADJOURN, adjourn)
action_form(router, "/parole/decision", DECISION, decision, outcomes)


@router.get("/cases/{case_ref}/parole", response_class=HTMLResponse)
async def review(request: Request, case_ref: str) -> Response:
    """Where the case's latest review stands (from the review itself): its timetable, the
    statements sent, applications to read them, the decision and what is scheduled."""
    actor = viewable(request, case_ref)
    context: dict[str, Any] = {"case_ref": case_ref, "nav": "cases"}
    try:
        context["view"] = await vcs_of(request).parole_view(case_ref, actor)
    except VcsError as error:
        context["missing"] = str(error)
    return page(request, "parole.html", context)


# ---- a victim's steps ----------------------------------------------------------------------


async def vps(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    """As the CLI's submit-vps: the VLO confirms the VPS says nothing on release (no program
    can tell) before it is stored; a long one is sent with a note."""
    problems = [] if values["checked"] == "yes" else [Problem("checked", VPS.fixes["checked"])]
    try:
        text = await written(request, TEXT_FIX)
    except Invalid as error:
        raise Invalid(error.problems + problems) from None
    if problems:
        raise Invalid(problems)
    result = await vcs_of(request).submit_vps(target.victim_id, text, True, actor)
    words = len(text.split())
    long = f" (note: {words} words; a VPS should take under 10 minutes to read aloud)"
    return result.message + (long if words > READ_ALOUD_WORDS else "")


async def representations(
    request: Request, actor: Actor, values: dict[str, str], target: Target
) -> str:
    text = await written(request, TEXT_FIX)
    vcs = vcs_of(request)
    return (await vcs.submit_parole_representations(target.victim_id, text, actor)).message


async def apply_to_read(
    request: Request, actor: Actor, values: dict[str, str], target: Target
) -> str:
    return (await vcs_of(request).apply_to_read(target.victim_id, actor)).message


async def read_decision(
    request: Request, actor: Actor, values: dict[str, str], target: Target
) -> str:
    granted = parsed(READ_DECISION, values, "granted", bool)
    return (await vcs_of(request).record_read_decision(target.victim_id, granted, actor)).message


async def summary(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    return (await vcs_of(request).request_decision_summary(target.victim_id, actor)).message


action_form(
    router,
    VICTIM + "/vps",
    VPS,
    vps,
    wording(
        title="Victim Personal Statement",
        button="Send the statement to the Parole Board",
        label="The victim's statement",
        hint="A VPS is always in writing: paste it as the victim gave it, or choose the file "
        "it is in. It is stored encrypted and sent to the Parole Board.",
    ),
)
action_form(
    router,
    VICTIM + "/parole-representations",
    REPRESENTATIONS,
    representations,
    wording(
        title="Representations to the Parole Board",
        button="Send the representations",
        label="What the victim wants said about the licence conditions",
        hint="Paste their words as they gave them, or choose the file they are in.",
    ),
)
action_form(
    router,
    VICTIM + "/apply-to-read",
    APPLY_TO_READ,
    apply_to_read,
    wording(
        title="Apply to read the VPS at the hearing",
        text="The victim asks to read their statement aloud at the oral hearing: the Parole "
        "Board decides, and you record its decision when it comes.",
        button="Record the application",
    ),
)
action_form(router, VICTIM + "/read-decision", READ_DECISION, read_decision)
action_form(
    router,
    VICTIM + "/decision-summary",
    SUMMARY,
    summary,
    wording(
        title="Ask for a summary of the Board's decision",
        text="The victim asks for a summary of the reasons for the Parole Board's decision.",
        button="Record the request",
    ),
)
