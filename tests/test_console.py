"""The VLO console in a real browser (tests/browser.py): sign-in through a local OpenID
provider, each role seeing only what it may, refusals that change nothing and are recorded,
the session's safeguards, and accessibility (axe-core: no serious or critical violation)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from models.access_log import AccessRefusal
from models.db import session_scope
from models.records import AuditEntry
from models.victim import Victim
from models.vocabulary import Channel, Language
from tests.browser import Console, console, identity_provider, served, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import eventually, registration, tasks, victim, vlo_actor
from web.settings import ConfigurationError, ConsoleSettings


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, str]]:
    """A console over a case registered in Yorkshire and the Humber with one victim, whose
    offer task is vlo.demo's, and one like it in Wales (the same reference, ending in W)."""
    case_ref = unique_ref("WEB")
    async with served(local_env, engine, task_queue, actions=False) as (c, vcs):
        for ref, region in ((case_ref, "Yorkshire and the Humber"), (case_ref + "W", "Wales")):
            reg = registration(ref, today(), region=region)
            reg = reg.model_copy(update={"responsible_vlo": "vlo.demo"})
            actor = vlo_actor("vlo.demo", region=region)
            await vcs.register_case(reg, actor=actor)
            victim_id, _ = await vcs.add_victim(ref, victim(), actor=actor)
            await eventually(lambda v=victim_id: tasks(engine, v))  # type: ignore[misc]
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
    # A task of theirs on a case of another region is not listed (nor is the case).
    assert f"{case_ref}W" not in await page.get_by_role("table").inner_text()
    row = page.get_by_role("row").filter(has_text=case_ref)
    assert "Contact victim to offer the Victim Contact Scheme" in await row.inner_text()
    await row.get_by_role("link", name=case_ref).click()
    assert await page.get_by_role("heading", level=1).inner_text() == f"Case {case_ref}"
    victims = page.get_by_role("table", name="Victims and where each stands")
    assert "Identified" in await victims.inner_text()
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
    # The contact details, their form, and the form with its error summary.
    await page.goto(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("button", name="Show contact details").click()
    await assert_accessible(axe, page, "contact details")
    await page.get_by_role("button", name="Change contact details").click()
    await assert_accessible(axe, page, "contact form")
    await page.get_by_role("textbox", name="Full name").fill("")
    await page.get_by_role("button", name="Save contact details").click()
    assert await page.locator(".govuk-error-summary").count() == 1
    await assert_accessible(axe, page, "contact form with errors")
    for subject, path in (
        ("admin.clarke", "/outbox"),
        ("admin.clarke", "/tasks"),  # refused
        ("manager.evans", "/region"),
        ("senior.patel", "/tasks"),
    ):
        other = await new_page(browser, bypass_csp=True)
        await sign_in(other, c, subject)
        await other.goto(c.url + path)
        await assert_accessible(axe, other, f"{subject} {path}")


async def assert_accessible(axe: Axe, page: Page, what: str) -> None:
    results = await axe.run(page)
    bad = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{what}: {bad}"


def test_production_refuses_to_start_without_an_identity_provider() -> None:
    with pytest.raises(ConfigurationError, match="VCS_OIDC_ISSUER"):
        ConsoleSettings.from_env({"VCS_CONSOLE_MODE": "production"})
    with pytest.raises(ConfigurationError, match="VCS_CONSOLE_SESSION_KEY"):
        ConsoleSettings.from_env(
            {"VCS_CONSOLE_MODE": "production", "VCS_OIDC_ISSUER": "https://idp.example"}
        )
    settings = ConsoleSettings.from_env({"VCS_CONSOLE_MODE": "development"})
    assert settings.issuer == "http://127.0.0.1:9400" and not settings.production


def audit_actions(engine: Engine, action: str) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(r.actor, r.detail) for r in rows]


async def test_a_vlo_asks_to_see_contact_details_and_changes_them(
    browser: Browser, site: tuple[Console, str]
) -> None:
    """Contact details are shown only when asked, each showing audited; a change goes through
    the same validators as registration, with the GOV.UK error summary, and changes nothing
    when refused."""
    c, case_ref = site
    page = await new_page(browser)
    await sign_in(page, c, "vlo.demo")
    await page.goto(f"{c.url}/cases/{case_ref}")
    assert "Alice Example" not in await page.content()
    await page.get_by_role("button", name="Show contact details").click()
    assert await page.title() == "Victim 1 contact details \N{EN DASH} Victim Contact Scheme"
    assert "Alice Example" in await page.content() and "1 Test Street" in await page.content()
    assert [actor for actor, _ in audit_actions(c.engine, "contact_details_shown")] == ["vlo.demo"]

    await page.get_by_role("button", name="Change contact details").click()
    await page.get_by_role("textbox", name="Email address").fill("")
    await page.get_by_role("radio", name="Email").check()  # a channel with no address to use
    await page.get_by_role("button", name="Save contact details").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "Preferred channel email needs an email address" in summary
    with session_scope(c.engine) as session:
        unchanged = session.get(Victim, 1)
        assert unchanged is not None and unchanged.preferred_channel is Channel.LETTER

    await page.get_by_role("textbox", name="Email address").fill("alice@example.invalid")
    await page.get_by_role("radio", name="Welsh").check()
    await page.get_by_role("button", name="Save contact details").click()
    assert page.url == f"{c.url}/cases/{case_ref}"
    banner = await page.locator(".govuk-notification-banner").inner_text()
    assert "contact details changed: email, preferred channel, language" in banner
    with session_scope(c.engine) as session:
        changed = session.get(Victim, 1)
        assert changed is not None and changed.email == "alice@example.invalid"
        assert changed.language is Language.WELSH
    [(actor, detail)] = audit_actions(c.engine, "contact_details_changed")
    assert actor == "vlo.demo" and "alice@" not in detail


async def test_an_auditor_sees_the_case_but_not_the_contact_details(
    browser: Browser, site: tuple[Console, str]
) -> None:
    c, case_ref = site
    page = await new_page(browser)
    await sign_in(page, c, "auditor.khan")
    await page.goto(f"{c.url}/cases/{case_ref}")
    assert await page.get_by_role("button", name="Show contact details").count() == 0
    token = await page.locator("input[name=csrf_token]").first.input_value()
    response = await page.request.post(
        f"{c.url}/cases/{case_ref}/victims/1/contact",
        form={"csrf_token": token},
    )
    assert response.status == 403 and "Alice Example" not in await response.text()
    assert ("auditor.khan", "view_contact_details", "own") in refusals(c.engine)
    assert audit_actions(c.engine, "contact_details_shown") == []


async def test_escalations_reach_senior_vlos_and_managers_see_the_region(
    browser: Browser, local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """An offer nobody made in time escalates (local policy: senior VLO first); the senior VLO
    sees it under "Escalated to you", the manager sees the region's overdue work, and a VLO
    may not see the region view."""
    case_ref = unique_ref("ESC")
    async with served(local_env, engine, task_queue, actions=False) as (c, vcs):
        reg = registration(case_ref, today() - timedelta(days=100))
        await vcs.register_case(
            reg.model_copy(update={"responsible_vlo": "vlo.demo"}), actor=vlo_actor("vlo.demo")
        )
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=vlo_actor("vlo.demo"))
        await eventually(lambda: len(tasks(engine, victim_id)) >= 2)  # the offer, escalated
        senior = await new_page(browser)
        await sign_in(senior, c, "senior.patel")
        escalated = senior.locator("table").filter(has_text=case_ref)
        assert "Escalated" in await escalated.inner_text()
        assert "Overdue" in await escalated.inner_text()

        manager = await new_page(browser)
        await sign_in(manager, c, "manager.evans")
        await manager.get_by_role("link", name="Region").click()
        workloads = await manager.get_by_role("table").inner_text()
        assert "vlo.demo\t1\t1" in workloads
        assert "escalated: senior-vlo" in workloads
        assert case_ref in await manager.locator("main").inner_text()

        vlo = await new_page(browser)
        await sign_in(vlo, c, "vlo.demo")
        response = await vlo.goto(c.url + "/region")
        assert response is not None and response.status == 403
        assert await vlo.get_by_text("Escalated to you").count() == 0
