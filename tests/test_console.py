"""The VLO console in a real browser (tests/browser.py): sign-in through a local OpenID
provider, each role seeing only what it may, refusals that change nothing and are recorded,
the session's safeguards, and accessibility (axe-core: no serious or critical violation)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from models.access_log import AccessRefusal
from models.db import session_scope
from service.vcs import Vcs
from tests.browser import Console, chromium, console, identity_provider, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import eventually, registration, tasks, victim, vlo_actor
from web.settings import ConfigurationError, ConsoleSettings
from worker import build_worker


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, str]]:
    """A console over a case registered in Yorkshire and the Humber with one victim, whose
    offer task is vlo.demo's."""
    vcs = Vcs(local_env.client, engine, task_queue)
    case_ref = unique_ref("WEB")
    async with build_worker(local_env.client, engine, task_queue):
        reg = registration(case_ref, today()).model_copy(update={"responsible_vlo": "vlo.demo"})
        await vcs.register_case(reg, actor=vlo_actor("vlo.demo"))
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=vlo_actor("vlo.demo"))
        await eventually(lambda: tasks(engine, victim_id))
        with identity_provider() as issuer:
            async with console(engine, issuer) as c:
                yield c, case_ref


async def new_page(browser: Browser, **options: object) -> Page:
    context = await browser.new_context(**options)  # type: ignore[arg-type]
    return await context.new_page()


def refusals(engine: Engine) -> list[tuple[str, str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(AccessRefusal)).all()
        return [(r.actor, r.action, r.scope) for r in rows]


async def test_a_vlo_signs_in_and_sees_their_tasks_and_the_case(
    browser: Browser, site: tuple[Console, str]
) -> None:
    c, case_ref = site
    page = await new_page(browser)
    await page.goto(c.url + "/tasks")  # not signed in: the start page
    assert page.url == c.url + "/start"
    await sign_in(page, c, "vlo.demo")
    assert page.url == c.url + "/tasks"
    assert await page.title() == "My tasks \N{EN DASH} Victim Contact Scheme"
    row = page.get_by_role("row").filter(has_text=case_ref)
    assert "Contact victim to offer the Victim Contact Scheme" in await row.inner_text()
    await row.get_by_role("link", name=case_ref).click()
    assert await page.get_by_role("heading", level=1).inner_text() == f"Case {case_ref}"
    assert "Identified" in await page.get_by_role("table").inner_text()
    # No name or address on any page: victims are shown by number.
    assert "Alice Example" not in await page.content()
    assert "1 Test Street" not in await page.content()


async def test_the_session_cookie_and_headers_protect_the_pages(
    browser: Browser, site: tuple[Console, str]
) -> None:
    c, _ = site
    page = await new_page(browser)
    await sign_in(page, c, "vlo.demo")
    [cookie] = [k for k in await page.context.cookies() if k["name"] == "vcs_session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    response = await page.goto(c.url + "/tasks")
    assert response is not None
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "'unsafe-inline'" not in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("subject", "tasks_allowed", "case_allowed"),
    [
        ("vlo.demo", True, True),
        ("senior.patel", True, True),
        ("manager.evans", True, True),
        ("admin.clarke", False, False),
        ("auditor.khan", False, True),
        ("vlo.wales", True, False),  # another region
    ],
)
async def test_each_role_sees_only_what_it_may(
    browser: Browser,
    site: tuple[Console, str],
    subject: str,
    tasks_allowed: bool,
    case_allowed: bool,
) -> None:
    c, case_ref = site
    page = await new_page(browser)
    await sign_in(page, c, subject)
    for path, allowed, action in (
        ("/tasks", tasks_allowed, "view_my_tasks"),
        (f"/cases/{case_ref}", case_allowed, "view_case"),
    ):
        response = await page.goto(c.url + path)
        assert response is not None
        heading = await page.get_by_role("heading", level=1).inner_text()
        if allowed:
            assert response.status == 200 and heading != "You cannot do this", path
        else:
            assert response.status == 403 and heading == "You cannot do this", path
            assert "the attempt has been recorded" in await page.content()
            assert (subject, action) in [(a, b) for a, b, _ in refusals(c.engine)]
    if subject == "vlo.wales":
        assert (subject, "view_case", "other") in refusals(c.engine)


async def test_a_forged_or_missing_csrf_token_is_refused(
    browser: Browser, site: tuple[Console, str]
) -> None:
    c, _ = site
    page = await new_page(browser)
    await sign_in(page, c, "vlo.demo")
    for token in ("", "forged"):
        await page.evaluate(
            "token => document.querySelector('input[name=csrf_token]').value = token", token
        )
        await page.get_by_role("button", name="Sign out").click()
        assert await page.get_by_role("heading", level=1).inner_text() == "You cannot do this"
        await page.goto(c.url + "/tasks")
        assert page.url == c.url + "/tasks"  # still signed in: nothing changed
    await page.get_by_role("button", name="Sign out").click()
    assert page.url == c.url + "/start"
    await page.goto(c.url + "/tasks")
    assert page.url == c.url + "/start"


async def test_an_idle_session_is_signed_out(
    browser: Browser, local_env: WorkflowEnvironment, engine: Engine
) -> None:
    with identity_provider() as issuer:
        async with console(engine, issuer, VCS_CONSOLE_IDLE_MINUTES="0.05") as c:
            page = await new_page(browser)
            await sign_in(page, c, "vlo.demo")
            assert page.url == c.url + "/tasks"
            await asyncio.sleep(4)  # idle for longer than 3 seconds
            await page.goto(c.url + "/tasks")
            assert page.url == c.url + "/start"
            assert "signed out after a period of inactivity" in await page.content()


async def test_pages_have_no_serious_accessibility_violations(
    browser: Browser, site: tuple[Console, str]
) -> None:
    c, case_ref = site
    page = await new_page(browser, bypass_csp=True)  # axe-core injects its own script
    await page.goto(c.url + "/start")
    pages = ["/start"]
    await sign_in(page, c, "vlo.demo")
    pages += ["/tasks", "/cases", "/cases?ref=not%20a%20ref", f"/cases/{case_ref}", "/cases/NOPE"]
    axe = Axe()
    for path in pages:
        await page.goto(c.url + path)
        results = await axe.run(page)
        bad = [
            v["id"]
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"{path}: {bad}"
    other = await new_page(browser, bypass_csp=True)
    await sign_in(other, c, "admin.clarke")
    await other.goto(c.url + "/tasks")
    results = await axe.run(other)
    assert [v["id"] for v in results.response["violations"] if v["impact"] == "critical"] == []


def test_production_refuses_to_start_without_an_identity_provider() -> None:
    with pytest.raises(ConfigurationError, match="VCS_OIDC_ISSUER"):
        ConsoleSettings.from_env({"VCS_CONSOLE_MODE": "production"})
    with pytest.raises(ConfigurationError, match="VCS_CONSOLE_SESSION_KEY"):
        ConsoleSettings.from_env(
            {"VCS_CONSOLE_MODE": "production", "VCS_OIDC_ISSUER": "https://idp.example"}
        )
    settings = ConsoleSettings.from_env({"VCS_CONSOLE_MODE": "development"})
    assert settings.issuer == "http://127.0.0.1:9400" and not settings.production
