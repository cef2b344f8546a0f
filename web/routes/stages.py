"""What happens in custody, from the case page: a key stage (models/key_stages.py says when
each may be recorded and who is told), the prison's recalculated sentence dates, and a
direction to take part in a domestic homicide review (DVCVA 2004 s 9). Each is checked as the
CLI's record-key-stage, record-milestones and dhr are; the confirmation is the engine's."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from models.case import MilestoneDates
from models.key_stages import ENDS_THE_CASE, URGENT
from models.vocabulary import KeyStage
from service.actor import Actor
from service.contacts import Invalid, Problem
from service.queries import case_summary
from web.forms import Form, Target, action_form, offering, parsed, vcs_of

router = APIRouter()

# A transfer to hospital is recorded with its transfer direction (MHA 1983 s 47), and a Parole
# Board review by its referral (which records the key stage): each has its own form, and the
# engine refuses either as a bare key stage.
ELSEWHERE = (KeyStage.TRANSFER_TO_HOSPITAL, KeyStage.PAROLE_REVIEW)
STAGES = [s for s in KeyStage if s not in ELSEWHERE]
KEY_STAGE = Form(
    "key_stage.html",
    ("key_stage", "on"),
    {
        "key_stage": "Choose the key stage",
        "on": "Enter the date it happened as a real date",
    },
)
STAGE_CHOICES: dict[str, Any] = {
    "stages": STAGES,
    "urgent": URGENT,
    "ends_the_case": ENDS_THE_CASE,
}

# The prison's dates a VLO may change (workflows/case.py: the sentence date is a new case, the
# release is recorded as a release).
FIXED = ("sentence_date", "release_date")
DATES = tuple(name for name in MilestoneDates.model_fields if name not in FIXED)
MILESTONES = Form(
    "milestones.html",
    DATES,
    {name: f"Enter the {name.replace('_', ' ')} as a real date" for name in DATES},
)
NO_DATE = "Enter at least one new date"

DHR = Form(
    "dhr.html",
    ("reviewed_by", "directed_on", "due_on"),
    {
        "reviewed_by": "Enter who directed the review, in 2 to 120 characters on one line",
        "directed_on": "Enter the date of the direction as a real date",
        "due_on": "Enter the date our part is due as a real date",
    },
)


async def key_stage(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    stage = parsed(KEY_STAGE, values, "key_stage", KeyStage)
    if stage not in STAGES:
        fix = "Record a transfer to hospital with its transfer direction (MHA 1983 s 47)"
        raise Invalid([Problem("key_stage", fix)])
    on = parsed(KEY_STAGE, values, "on", date)
    result = await vcs_of(request).record_key_stage(target.case_ref, stage, on, actor)
    return result.message.replace(stage.value, stage.value.replace("_", " "))


action_form(router, "/key-stage", KEY_STAGE, key_stage, offering(STAGE_CHOICES))


def changed_dates(values: dict[str, str]) -> dict[str, date | None]:
    """The dates given (blank: unchanged), or every field's problem at once."""
    changes: dict[str, date | None] = {}
    problems: list[Problem] = []
    for name in DATES:
        if values[name]:
            try:
                changes[name] = parsed(MILESTONES, values, name, date)
            except Invalid as error:
                problems += error.problems
    if problems:
        raise Invalid(problems)
    if not changes:
        raise Invalid([Problem(DATES[0], NO_DATE)])
    return changes


def dates_now(request: Request, actor: Actor) -> dict[str, Any]:
    """The case's dates now, shown beside each field (a blank field keeps its date)."""
    state = request.app.state
    case = case_summary(state.engine, actor, request.path_params["case_ref"], state.today()).case
    return {"dates": DATES, "now": {name: getattr(case, name) for name in DATES}}


async def milestones(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    changes = changed_dates(values)
    return (await vcs_of(request).record_milestones(target.case_ref, changes, actor)).message


action_form(router, "/milestones", MILESTONES, milestones, dates_now)


async def dhr(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    directed_on = parsed(DHR, values, "directed_on", date)
    due_on = parsed(DHR, values, "due_on", date)
    result = await vcs_of(request).record_dhr_direction(
        target.case_ref, values["reviewed_by"], directed_on, due_on, actor
    )
    return result.message


action_form(router, "/dhr", DHR, dhr, reviewed_by="community safety partnership")
