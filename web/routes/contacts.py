"""A victim's contact details: shown only when a VLO asks (each showing audited), and changed
through a form with the GOV.UK error summary. IDs only in the URLs."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.vocabulary import Channel, Language
from service import contacts
from web.forms import field_text
from web.pages import actor_of, page, verified_form

router = APIRouter()
BASE = "/cases/{case_ref}/victims/{victim_id}/contact"


def _form(
    request: Request, case_ref: str, victim_id: int, values: dict[str, str], **extra: object
) -> Response:
    return page(
        request,
        "contact_change.html",
        {
            "case_ref": case_ref,
            "victim_id": victim_id,
            "values": values,
            "channels": list(Channel),
            "languages": list(Language),
            "nav": "cases",
            **extra,
        },
        status_code=400 if extra.get("problems") else 200,
    )


@router.post(BASE, response_class=HTMLResponse)
async def show(request: Request, case_ref: str, victim_id: int) -> Response:
    actor = actor_of(request)
    await verified_form(request)
    details = contacts.show(request.app.state.engine, actor, case_ref, victim_id)
    context = {"case_ref": case_ref, "victim_id": victim_id, "details": details, "nav": "cases"}
    return page(request, "contact.html", context)


@router.post(BASE + "/change-form", response_class=HTMLResponse)
async def change_form(request: Request, case_ref: str, victim_id: int) -> Response:
    actor = actor_of(request)
    await verified_form(request)
    details = contacts.show(request.app.state.engine, actor, case_ref, victim_id)
    values = {f: str(getattr(details, f) or "") for f in contacts.FIELDS}
    return _form(request, case_ref, victim_id, values)


@router.post(BASE + "/change", response_class=HTMLResponse)
async def change(request: Request, case_ref: str, victim_id: int) -> Response:
    actor = actor_of(request)
    form = await verified_form(request)
    values = {f: field_text(form, f) for f in contacts.FIELDS}
    try:
        changed = contacts.change(request.app.state.engine, actor, case_ref, victim_id, values)
    except contacts.Invalid as invalid:
        return _form(request, case_ref, victim_id, values, problems=invalid.problems)
    words = ", ".join(f.replace("_", " ") for f in changed) or "nothing (the details were the same)"
    request.session["flash"] = f"Victim {victim_id}'s contact details changed: {words}"
    return RedirectResponse(f"/cases/{case_ref}", status_code=303)
