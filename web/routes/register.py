"""Register a case: the VLO's own region, one offence, the prison's dates. The service checks
it as the CLI's register-case does (models/plausibility.py, models/eligibility.py); the case
page then says why the case is eligible."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.case import CaseRegistration
from models.vocabulary import OffenceCategory, SentenceType
from service.actor import Actor
from service.queries import case_summary
from web.forms import FORM_ERRORS, Form, blank_to_none, posted, submit, vcs_of
from web.pages import actor_of

router = APIRouter()
PATH = "/register-case"
DATES = ("conditional_release_date", "licence_expiry_date", "sentence_expiry_date")
FORM = Form(
    "register.html",
    (
        "case_ref",
        "sentence_type",
        "term_months",
        "sentence_date",
        *DATES,
        "offence_category",
        "offence_description",
    ),
    fixes={
        "case_ref": "Enter a case reference of 3 to 40 letters, digits, '-', '/' or '_'",
        "sentence_type": "Choose the sentence type",
        "term_months": "Enter the term in whole months, or leave it blank if indeterminate",
        "sentence_date": "Enter the sentence date as a real date",
        "conditional_release_date": "Enter the conditional release date as a real date",
        "licence_expiry_date": "Enter the licence expiry date as a real date",
        "sentence_expiry_date": "Enter the sentence expiry date as a real date",
        "offence_category": "Choose the offence's category",
        "offence_description": "Describe the offence in up to 200 characters on one line",
    },
    aliases={"offences": "offence_category"},
)
CHOICES: dict[str, Any] = {
    "sentence_types": list(SentenceType),
    "categories": list(OffenceCategory),
}


@router.get(PATH, response_class=HTMLResponse)
async def form(request: Request) -> Response:
    actor_of(request)
    return FORM.show(request, dict.fromkeys(FORM.fields, ""), **CHOICES)


def registration_of(values: dict[str, str], actor: Actor) -> CaseRegistration:
    """The form's fields as the service's registration: the VLO's own region, and them as its
    VLO."""
    given = blank_to_none(values)
    category = given.pop("offence_category")
    description = given.pop("offence_description") or category
    return CaseRegistration.model_validate(
        {
            **given,
            "region": actor.region,
            "responsible_vlo": actor.id,
            "offences": [{"category": category, "description": description}],
        }
    )


@router.post(PATH + "/check", response_class=HTMLResponse)
async def check(request: Request) -> Response:
    """Before registering: whether the case is eligible and why, the form kept as typed."""
    actor, values = await posted(request, FORM)
    try:
        decision = await vcs_of(request).check_eligibility(registration_of(values, actor), actor)
    except FORM_ERRORS as error:
        return FORM.show(request, values, problems=FORM.problems(error), **CHOICES)
    return FORM.show(request, values, decision=decision, **CHOICES)


@router.post(PATH, response_class=HTMLResponse)
async def register(request: Request) -> Response:
    actor, values = await posted(request, FORM)

    async def action() -> tuple[str, str]:
        registration = registration_of(values, actor)
        _, _, created = await vcs_of(request).register_case(registration, actor)
        state = request.app.state
        case = case_summary(state.engine, actor, registration.case_ref, state.today()).case
        done = "registered" if created else "was already registered"
        why = f"{case.eligibility_basis}: {case.eligibility_reason}"
        return case.case_ref, f"Case {case.case_ref} {done}: eligible ({why})"

    return await submit(request, FORM, values, action, **CHOICES)
