"""What happens to the sentence, from the case page: licence conditions (checked as the CLI's
record-conditions checks them) and the release. The confirmation is the engine's message."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from models.records import LicenceConditionBase
from models.vocabulary import ConditionKind
from service.actor import Actor
from web.forms import Form, Target, action_form, blank_to_none, offering, parsed, vcs_of

router = APIRouter()
CONDITIONS = Form(
    "conditions.html",
    ("kind", "victim_related", "description", "starts_on", "ends_on"),
    {
        "kind": "Choose the kind of condition",
        "victim_related": "Choose whether the condition relates to the victim",
        "description": "Describe the condition in up to 2,000 characters",
        "starts_on": "Enter the date the condition starts as a real date",
        "ends_on": "Enter the date the condition ends as a real date, or leave it blank",
    },
)
RELEASE = Form("release.html", ("on",), {"on": "Enter the date of release as a real date"})
KINDS: dict[str, Any] = {"kinds": list(ConditionKind)}


async def conditions(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    condition = LicenceConditionBase.model_validate(blank_to_none(values))
    return (await vcs_of(request).record_conditions(target.case_ref, [condition], actor)).message


async def release(request: Request, actor: Actor, values: dict[str, str], target: Target) -> str:
    on = parsed(RELEASE, values, "on", date)
    return (await vcs_of(request).record_release(target.case_ref, on, actor)).message


action_form(router, "/conditions", CONDITIONS, conditions, offering(KINDS))
action_form(router, "/release", RELEASE, release)
