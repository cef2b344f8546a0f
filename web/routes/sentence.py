"""What happens to the sentence, from the case page: licence conditions (checked as the CLI's
record-conditions checks them) and the release. The confirmation is the engine's message."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.records import LicenceConditionBase
from models.vocabulary import ConditionKind
from web.forms import Form, blank_to_none, parsed, posted, submit, vcs_of, viewable

router = APIRouter()
CASE = "/cases/{case_ref}"
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


@router.get(CASE + "/conditions", response_class=HTMLResponse)
async def conditions_form(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    values = dict.fromkeys(CONDITIONS.fields, "")
    return CONDITIONS.show(request, values, case_ref=case_ref, **KINDS)


@router.post(CASE + "/conditions", response_class=HTMLResponse)
async def conditions(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, CONDITIONS)

    async def action() -> tuple[str, str]:
        condition = LicenceConditionBase.model_validate(blank_to_none(values))
        result = await vcs_of(request).record_conditions(case_ref, [condition], actor)
        return case_ref, result.message

    return await submit(request, CONDITIONS, values, action, case_ref=case_ref, **KINDS)


@router.get(CASE + "/release", response_class=HTMLResponse)
async def release_form(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    return RELEASE.show(request, {"on": ""}, case_ref=case_ref)


@router.post(CASE + "/release", response_class=HTMLResponse)
async def release(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, RELEASE)

    async def action() -> tuple[str, str]:
        on = parsed(RELEASE, values, "on", date)
        result = await vcs_of(request).record_release(case_ref, on, actor)
        return case_ref, result.message

    return await submit(request, RELEASE, values, action, case_ref=case_ref)
