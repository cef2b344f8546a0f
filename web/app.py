"""The console as an ASGI app: sessions, security headers, CSRF, sign-in, and one router per
area. Pages call the service layer (service/) and hold no rule of their own."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.sessions import SessionMiddleware

from service.access import Refused
from service.actor import Role
from service.queries import NotFound
from service.vcs import Vcs
from web import auth, pages
from web.pages import page
from web.routes import (
    audit,
    bulk,
    cases,
    contacts,
    handoffs,
    handoffs_in,
    hospital,
    outbox,
    parole,
    register,
    sentence,
    sharing,
    stages,
    tasks,
    victims,
)
from web.settings import ASSETS, ConsoleSettings

LONDON = ZoneInfo("Europe/London")


def london_today() -> date:
    return datetime.now(LONDON).date()


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def create_app(
    settings: ConsoleSettings,
    engine: Engine,
    today: Callable[[], date] = london_today,
    vcs: Vcs | None = None,
) -> FastAPI:
    """The console; without `vcs` (Temporal) it shows the case database but takes no action."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.engine, app.state.today = settings, engine, today
    app.state.vcs = vcs

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.csp_nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        nonce = request.state.csp_nonce
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
            "img-src 'self' data:; font-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith(("/assets/", "/govuk/")):
            response.headers["Cache-Control"] = "no-store"  # pages may hold personal data
        return response

    # Added last, so it runs first: the session is there for everything above.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_key,
        session_cookie="vcs_session",
        same_site="lax",
        https_only=True,
    )

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> Response:
        return page(request, "refused.html", {"message": str(error)}, status_code=403)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        return page(request, "not_found.html", {"message": str(error)}, status_code=404)

    @app.exception_handler(Exception)
    async def broken(request: Request, _: Exception) -> Response:
        """Whatever went wrong, the person sees a plain page; the details stay in the server's
        log (which never holds personal data: errors name IDs only)."""
        return page(request, "problem.html", {}, status_code=500)

    @app.exception_handler(pages.SignInNeeded)
    async def sign_in_needed(request: Request, _: pages.SignInNeeded) -> Response:
        return RedirectResponse("/start", status_code=303)

    @app.exception_handler(pages.BadCsrf)
    async def bad_csrf(request: Request, _: pages.BadCsrf) -> Response:
        return page(request, "refused.html", {"message": pages.BAD_CSRF}, status_code=403)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        """Each person's first page: the admin team's is the outbox, everyone else's their
        tasks (an auditor finds a case)."""
        roles = pages.actor_of(request).roles
        first = (
            "/outbox" if Role.ADMIN in roles else "/cases" if roles == {Role.AUDITOR} else "/tasks"
        )
        return RedirectResponse(first, status_code=303)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        """For the compose healthcheck: no sign-in, and nothing but whether the console can
        reach its database."""
        reachable = await asyncio.to_thread(database_reachable, engine)
        return JSONResponse(
            {
                "status": "ok" if reachable else "unhealthy",
                "database": "reachable" if reachable else "unreachable",
            },
            status_code=200 if reachable else 503,
        )

    @app.get("/start", response_class=HTMLResponse)
    async def start(request: Request) -> Response:
        expired = bool(request.session.pop("expired", False))
        return page(request, "start.html", {"expired": expired})

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        await pages.verified_form(request)
        request.session.clear()
        return RedirectResponse("/start", status_code=303)

    app.include_router(auth.router(settings))
    app.include_router(tasks.router)
    app.include_router(cases.router)
    app.include_router(outbox.router)
    app.include_router(contacts.router)
    app.include_router(register.router)
    app.include_router(victims.router)
    app.include_router(sentence.router)
    app.include_router(stages.router)
    app.include_router(sharing.router)
    app.include_router(parole.router)
    app.include_router(hospital.router)
    app.include_router(handoffs.router)
    app.include_router(handoffs_in.router)
    app.include_router(bulk.router)
    app.include_router(audit.router)
    app.mount("/assets", StaticFiles(directory=ASSETS / "assets"), name="assets")
    app.mount("/govuk", StaticFiles(directory=ASSETS), name="govuk")
    return app
