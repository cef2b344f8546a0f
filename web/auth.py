"""Sign-in through the organisation's OpenID Connect provider (authorization code with PKCE,
through authlib), the signed-in actor kept in the session, an idle timeout, and sign-out.

The session cookie is signed, Secure, HttpOnly and SameSite=Lax (Lax, not Strict: the provider
redirects back with a top-level GET that must carry it). It holds the actor's subject, roles and
region, the CSRF token and when the actor was last seen: no personal data."""

import secrets
import time
from typing import Any

from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from service.actor import Actor, roles_from
from web.settings import ConsoleSettings

SESSION_ACTOR = "actor"
SESSION_SEEN = "seen"
SESSION_CSRF = "csrf"


def oauth_client(settings: ConsoleSettings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        name="idp",
        server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client_kwargs={"scope": "openid", "code_challenge_method": "S256"},
    )
    return oauth


def actor_from_claims(claims: dict[str, Any], settings: ConsoleSettings) -> Actor:
    region = claims.get(settings.region_claim)
    return Actor(
        id=str(claims["sub"]),
        roles=roles_from(claims.get(settings.roles_claim)),
        region=region if isinstance(region, str) else "",
    )


def signed_in(request: Request, idle_minutes: float) -> Actor | None:
    """The actor of this session, unless there is none or it has been idle too long (then the
    session is cleared: the next page asks them to sign in again)."""
    session = request.session
    stored = session.get(SESSION_ACTOR)
    if not stored:
        return None
    if time.time() - float(session.get(SESSION_SEEN, 0)) > idle_minutes * 60:
        session.clear()
        session["expired"] = True
        return None
    session[SESSION_SEEN] = time.time()
    return Actor(id=stored["id"], roles=roles_from(stored["roles"]), region=stored["region"])


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return str(token)


def router(settings: ConsoleSettings) -> APIRouter:
    oauth = oauth_client(settings)
    routes = APIRouter()

    @routes.get("/sign-in")
    async def sign_in(request: Request) -> Response:
        redirect_uri = str(request.url_for("signed_in_callback"))
        response: Response = await oauth.idp.authorize_redirect(request, redirect_uri)
        return response

    @routes.get("/auth/callback", name="signed_in_callback")
    async def callback(request: Request) -> Response:
        token = await oauth.idp.authorize_access_token(request)
        actor = actor_from_claims(dict(token["userinfo"]), settings)
        request.session.clear()  # a new session for the signed-in actor (no fixation)
        request.session[SESSION_ACTOR] = {
            "id": actor.id,
            "roles": sorted(actor.roles),
            "region": actor.region,
        }
        request.session[SESSION_SEEN] = time.time()
        csrf_token(request)
        return RedirectResponse("/", status_code=303)

    return routes
