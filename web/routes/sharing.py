"""Information sharing from the case page (models/sharing.py holds the rules and their
sources): what another agency supplied, a disclosure (refused, with every reason, unless each
sharing rule allows it) and the case's record of disclosures. As the CLI's record-supplied,
disclose and disclosures; IDs only in the URLs."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.sharing import (
    DisclosureRequest,
    InformationCategory,
    LawfulBasis,
    OnwardConsent,
    RecipientKind,
    SuppliedRequest,
)
from service.actor import Actor
from service.contacts import Invalid, Problem
from service.queries import case_summary
from web.forms import Form, parsed, posted, submit, vcs_of, viewable
from web.pages import page

router = APIRouter()
CASE = "/cases/{case_ref}"

SUPPLIED = Form(
    "supplied.html",
    (
        "supplying_agency",
        "category",
        "received_on",
        "onward_consent",
        "consented_agencies",
        "written_consent_ref",
    ),
    {
        "supplying_agency": "Enter the supplying agency, up to 120 characters on one line",
        "category": "Choose what kind of information it is",
        "received_on": "Enter the date it was received as a real date",
        "onward_consent": "Choose what the agency has agreed to in writing",
        "consented_agencies": "Enter each agency on its own line",
        "written_consent_ref": "Enter the consent's reference in up to 120 characters",
    },
)
DISCLOSE = Form(
    "disclose.html",
    (
        "recipient_agency",
        "recipient_kind",
        "lawful_basis",
        "purpose",
        "own_categories",
        "supplied_ids",
        "victim_id",
        "victim_consent_ref",
    ),
    {
        "recipient_agency": "Enter the recipient agency, up to 120 characters on one line",
        "recipient_kind": "Choose the kind of recipient",
        "lawful_basis": "Choose the lawful basis",
        "purpose": "Enter the purpose in up to 500 characters",
        "own_categories": "Choose what of ours is shared",
        "supplied_ids": "Enter the numbers of the supplied information, separated by commas",
        "victim_id": "Choose the victim whose information is shared",
        "victim_consent_ref": "Enter the consent's reference in up to 120 characters",
    },
    rules_anchor="disclosure",  # the refusals are of the whole disclosure: they point at it
)
# How the choices read (the values are models/sharing.py's).
BASES = {
    LawfulBasis.DVCVA_S36A: "DVCVA 2004 s 36A: hospital managers (hospital order)",
    LawfulBasis.DVCVA_S42A: "DVCVA 2004 s 42A: hospital managers (transfer direction)",
    LawfulBasis.CJA_S325_MAPPA: "CJA 2003 s 325: the MAPPA duty to co-operate",
    LawfulBasis.CDA_S115: "Crime and Disorder Act 1998 s 115",
    LawfulBasis.VICTIM_CONSENT: "The victim's recorded consent",
    LawfulBasis.COURT_ORDER: "An order of a court",
}
KINDS = {k: k.value.replace("_", " ").capitalize() for k in RecipientKind} | {
    RecipientKind.DWP: "DWP",
    RecipientKind.DHR_PANEL: "Domestic homicide review panel",
}
CHOICES: dict[str, Any] = {
    "categories": list(InformationCategory),
    "consents": list(OnwardConsent),
    "bases": BASES,
    "kinds": KINDS,
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get(CASE + "/supplied", response_class=HTMLResponse)
async def supplied_form(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    values = dict.fromkeys(SUPPLIED.fields, "") | {"onward_consent": OnwardConsent.NONE.value}
    return SUPPLIED.show(request, values, case_ref=case_ref, **CHOICES)


@router.post(CASE + "/supplied", response_class=HTMLResponse)
async def supplied(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, SUPPLIED)

    async def action() -> tuple[str, str]:
        given: dict[str, Any] = {k: v or None for k, v in values.items()}
        given["consented_agencies"] = _lines(values["consented_agencies"])
        supplied_id = vcs_of(request).record_supplied(
            case_ref, SuppliedRequest.model_validate(given), actor
        )
        return case_ref, (
            f"Supplied information {supplied_id} recorded: name it by its number to pass it on "
            "in a disclosure"
        )

    return await submit(request, SUPPLIED, values, action, case_ref=case_ref, **CHOICES)


def victims_of(request: Request, actor: Actor, case_ref: str) -> list[int]:
    state = request.app.state
    summary = case_summary(state.engine, actor, case_ref, state.today())
    return [v.victim_id for v in summary.victims]


def supplied_ids(values: dict[str, str]) -> list[int]:
    words = values["supplied_ids"].replace(",", " ").split()
    if not all(w.isdigit() and int(w) > 0 for w in words):
        raise Invalid([Problem("supplied_ids", DISCLOSE.fixes["supplied_ids"])])
    return [int(w) for w in words]


def disclosure_of(values: dict[str, str], categories: list[str]) -> DisclosureRequest:
    """The form's fields as the service's request: blank is none, as the CLI's absent flags."""
    given: dict[str, Any] = {k: v or None for k, v in values.items()}
    given |= {
        "purpose": values["purpose"],
        "own_categories": categories,
        "supplied_ids": supplied_ids(values),
        "victim_id": parsed(DISCLOSE, values, "victim_id", int) if values["victim_id"] else None,
    }
    return DisclosureRequest.model_validate(given)


@router.get(CASE + "/disclose", response_class=HTMLResponse)
async def disclose_form(request: Request, case_ref: str) -> Response:
    actor = viewable(request, case_ref)
    values = dict.fromkeys(DISCLOSE.fields, "")
    victims = victims_of(request, actor, case_ref)
    return DISCLOSE.show(request, values, case_ref=case_ref, victims=victims, **CHOICES)


@router.post(CASE + "/disclose", response_class=HTMLResponse)
async def disclose(request: Request, case_ref: str) -> Response:
    viewable(request, case_ref)
    actor, values = await posted(request, DISCLOSE)
    categories = [str(c) for c in (await request.form()).getlist("own_categories")]
    values["own_categories"] = ",".join(categories)  # shown ticked again on a problem

    async def action() -> tuple[str, str]:
        request_ = disclosure_of(values, categories)
        disclosure_id = vcs_of(request).disclose(case_ref, request_, actor)
        return case_ref, f"Disclosure {disclosure_id} recorded and audited"

    victims = victims_of(request, actor, case_ref)
    context = {"case_ref": case_ref, "victims": victims, **CHOICES}
    return await submit(request, DISCLOSE, values, action, **context)


@router.get(CASE + "/disclosures", response_class=HTMLResponse)
async def disclosures(request: Request, case_ref: str) -> Response:
    actor = viewable(request, case_ref)
    records = vcs_of(request).disclosures(case_ref, actor)
    context = {"case_ref": case_ref, "records": records, "nav": "cases"}
    return page(request, "disclosures.html", context | {"bases": BASES, "kinds": KINDS})
