"""What every page shares: the signed-in actor, the CSRF check on every form, and rendering
with the GOV.UK Frontend templates."""

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader
from starlette.datastructures import FormData

from service.actor import Actor
from web.auth import SESSION_CSRF, csrf_token, signed_in
from web.labels import label, plain

BAD_CSRF = "This form has expired or did not come from this service: nothing was changed"

templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=True,
    )
)
templates.env.filters.update(label=label, plain=plain)


class SignInNeeded(Exception):
    pass


class BadCsrf(Exception):
    pass


def actor_of(request: Request) -> Actor:
    actor = signed_in(request, request.app.state.settings.idle_minutes)
    if actor is None:
        raise SignInNeeded
    return actor


async def verified_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form()
    sent, expected = form.get("csrf_token"), request.session.get(SESSION_CSRF)
    if not (isinstance(sent, str) and expected and secrets.compare_digest(sent, expected)):
        raise BadCsrf
    return form


def page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    stored = request.session.get("actor")
    return templates.TemplateResponse(
        request,
        template,
        {
            "cspNonce": request.state.csp_nonce,
            "csrf_token": csrf_token(request) if stored else "",
            "signed_in": stored,
            **context,
        },
        status_code=status_code,
    )
