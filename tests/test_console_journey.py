"""A VLO carries a victim through the scheme in the browser (tests/browser.py, the real
Temporal dev server and worker): register a case, add a victim, record the offer's outcome,
opt them in, paste their representations, record a victim-related licence condition and the
release; the admin team sees the victim's letters. Bad input shows the GOV.UK error summary
and changes nothing; axe-core finds no serious or critical violation on the forms."""

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import func, select
from temporalio.testing import WorkflowEnvironment

from models.case import OffenderCase
from models.db import session_scope
from models.victim import Victim
from models.vocabulary import LetterKind, Stage, TaskKind
from tests.browser import Console, served, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import eventually, letters, stage, tasks
from tests.test_console import assert_accessible

NAME, ADDRESS = "Dora Journey", "7 Form Lane\nLeeds"


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[Console]:
    """The console with the service (Temporal) behind it, and a worker."""
    async with served(local_env, engine, task_queue) as (c, _):
        yield c


async def vlo_page(browser: Browser, c: Console, **options: object) -> Page:
    page = await (await browser.new_context(**options)).new_page()  # type: ignore[arg-type]
    await sign_in(page, c, "vlo.demo")
    return page


async def register(page: Page, c: Console, case_ref: str, sentenced: str) -> None:
    """Fill in the registration form: 24 months, release in 30 days, violent offence."""
    day = today()
    await page.goto(c.url + "/cases")
    await page.get_by_role("link", name="Register a case").click()
    await page.get_by_label("Case reference").fill(case_ref)
    await page.get_by_label("Sentence type").select_option("imprisonment")
    await page.get_by_label("Term in months").fill("24")
    await page.get_by_label("Sentence date").fill(sentenced)
    await page.get_by_label("Conditional release date (CRD)").fill(str(day + timedelta(30)))
    await page.get_by_label("Licence expiry date (LED)").fill(str(day + timedelta(400)))
    await page.get_by_label("Sentence expiry date (SED)").fill(str(day + timedelta(400)))
    await page.get_by_label("Offence category").select_option("sch15_violent")
    await page.get_by_label("Offence", exact=True).fill("Wounding with intent")
    await page.get_by_role("button", name="Register case").click()


async def add_victim(page: Page, c: Console) -> int:
    """On the add-victim form: fill in the victim's name and address, add them; their ID."""
    await page.get_by_label("Full name").fill(NAME)
    await page.get_by_label("Address", exact=True).fill(ADDRESS)
    await page.get_by_role("button", name="Add victim").click()
    with session_scope(c.engine) as session:
        victim_id = session.exec(select(Victim.id).where(Victim.full_name == NAME)).one()
    assert victim_id is not None
    return victim_id


async def banner(page: Page) -> str:
    """The confirmation on the case page (or, failing, the page's error summary)."""
    found = page.locator(".govuk-notification-banner, .govuk-error-summary, h1")
    return await found.first.inner_text()


def day(d: date) -> str:
    """A date as the console writes it in a confirmation (web/labels.py)."""
    return d.strftime("%-d %B %Y")


def cases_named(engine: Engine, case_ref: str) -> int:
    with session_scope(engine) as session:
        query = select(func.count()).where(OffenderCase.case_ref == case_ref)
        return int(session.exec(query).one())


def victim_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(Victim)).one())


async def test_a_vlo_carries_a_victim_through_the_scheme(browser: Browser, site: Console) -> None:
    c = site
    page = await vlo_page(browser, c)
    case_ref = unique_ref("JRN")
    await register(page, c, case_ref, str(today() - timedelta(days=300)))
    assert page.url == f"{c.url}/cases/{case_ref}"
    assert "registered: eligible (statutory" in await banner(page)

    await page.get_by_role("link", name="Add a victim").click()
    await page.get_by_label("Postcode").fill("LS1 1AA")
    victim_id = await add_victim(page, c)
    assert f"Victim {victim_id} added: the offer of the scheme is on My tasks" in await banner(page)
    victims = await page.locator("table", has_text="Stage").inner_text()
    assert f"Victim {victim_id}\tIdentified" in victims  # listed at once, not after a reload
    assert NAME not in await page.content()  # IDs only on the case page
    offer = await eventually(
        lambda: [t for t in tasks(c.engine, victim_id) if t.kind is TaskKind.OFFER_SCHEME]
    )

    # The offer task, from My tasks: its outcome, and what the engine did next.
    await page.goto(c.url + "/tasks")
    row = page.get_by_role("row").filter(has_text=case_ref)
    await row.get_by_role("link", name="Record the outcome").click()
    await page.get_by_label("What happened").fill("Wrote to the victim to offer the scheme")
    await page.get_by_role("button", name="Complete task").click()
    assert f"Task {offer[0].id} completed" in await banner(page)
    assert "offer letter sent; chase due" in await banner(page)  # what the engine did
    await eventually(lambda: LetterKind.OFFER in letters(c.engine, victim_id))

    await page.get_by_role("link", name=f"Opt in victim {victim_id}").click()
    await page.get_by_label("At every key stage").check()
    await page.get_by_role("button", name="Record opt-in").click()
    assert f"Victim {victim_id} opted in (at every key stage)" in await banner(page)
    await eventually(lambda: stage(c.engine, victim_id) is Stage.OPTED_IN)

    await page.get_by_role("link", name=f"Representations of victim {victim_id}").click()
    await page.get_by_label("What the victim wants said").fill("Please keep him away from Leeds.")
    await page.get_by_role("button", name="Submit representations").click()
    assert f"Victim {victim_id}: representations forwarded" in await banner(page)

    await page.get_by_role("link", name="Record a licence condition").click()
    await page.get_by_label("Exclusion zone").check()
    await page.get_by_role("group", name="Does the condition relate").get_by_label("Yes").check()
    await page.get_by_label("Wording of the condition").fill("Not to enter Leeds city centre")
    await page.get_by_label("Starts").fill(str(today() + timedelta(30)))
    await page.get_by_role("button", name="Record condition").click()
    assert "1 conditions recorded, 1 victim-related" in await banner(page)
    await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in letters(c.engine, victim_id))

    await page.get_by_role("link", name="Record the release").click()
    await page.get_by_label("Date of release").fill(str(today()))
    await page.get_by_role("button", name="Record release").click()
    assert f"Release on {day(today())} recorded" in await banner(page)

    # Every letter written to the victim (by post: their chosen channel) waits to be posted
    # (more may be written meanwhile; none is posted yet).
    written = letters(c.engine, victim_id)
    assert {LetterKind.OFFER, LetterKind.CONDITIONS_IMPOSED} <= set(written)
    admin = await (await browser.new_context()).new_page()
    await sign_in(admin, c, "admin.clarke")
    assert admin.url == c.url + "/outbox"
    rows = admin.get_by_role("row").filter(has_text=case_ref)
    assert await rows.count() >= len(written)
    outbox = await admin.get_by_role("table").inner_text()
    for kind in (LetterKind.OFFER, LetterKind.CONDITIONS_IMPOSED):
        assert kind.value.replace("_", " ").capitalize() in outbox
    assert NAME not in await admin.content()


async def test_bad_input_shows_the_error_summary_and_changes_nothing(
    browser: Browser, site: Console
) -> None:
    c = site
    page = await vlo_page(browser, c)
    case_ref = unique_ref("BAD")
    await register(page, c, case_ref, str(today() + timedelta(days=3)))  # sentenced in future
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "is in the future: a case is referred after sentence" in summary
    assert await page.title() == "Error: Register a case \N{EN DASH} Victim Contact Scheme"
    assert await page.get_by_label("Case reference").input_value() == case_ref  # kept
    assert cases_named(c.engine, case_ref) == 0

    await page.get_by_label("Sentence date").fill(str(today() - timedelta(days=300)))
    await page.get_by_role("button", name="Register case").click()
    assert "registered" in await banner(page)

    before = victim_count(c.engine)
    await page.get_by_role("link", name="Add a victim").click()
    await page.get_by_label("Full name").fill(NAME)
    await page.get_by_role("radio", name="Email").check()  # a channel with no address to use
    await page.get_by_role("button", name="Add victim").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "Preferred channel email needs an email address" in summary
    assert NAME not in summary
    assert victim_count(c.engine) == before

    await page.goto(f"{c.url}/cases/{case_ref}/release")
    await page.get_by_label("Date of release").fill(str(today() + timedelta(days=5)))
    await page.get_by_role("button", name="Record release").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "is in the future" in summary
    with session_scope(c.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        assert case.release_date is None


async def test_eligibility_is_explained_before_registering(browser: Browser, site: Console) -> None:
    """DVCVA 2004 s 45(3): a sentence of under 12 months is outside the statutory scheme;
    checking says so, and why, and registers nothing."""
    c = site
    page = await vlo_page(browser, c)
    case_ref = unique_ref("ELG")
    await page.goto(c.url + "/register-case")
    await page.get_by_label("Case reference").fill(case_ref)
    await page.get_by_label("Sentence type").select_option("imprisonment")
    await page.get_by_label("Term in months").fill("6")
    await page.get_by_label("Sentence date").fill(str(today() - timedelta(days=30)))
    await page.get_by_label("Offence category").select_option("sch15_violent")
    await page.get_by_role("button", name="Check eligibility").click()
    explained = await page.locator("#eligibility").inner_text()
    assert explained.startswith("Not eligible (refused)")
    assert "under the 12 months DVCVA s 45(3) requires" in explained
    assert cases_named(c.engine, case_ref) == 0
    await page.get_by_label("Term in months").fill("24")
    await page.get_by_role("button", name="Check eligibility").click()
    assert (await page.locator("#eligibility").inner_text()).startswith("Eligible (statutory)")
    assert cases_named(c.engine, case_ref) == 0
    await page.get_by_role("button", name="Register case").click()
    assert "registered: eligible (statutory" in await banner(page)
    assert cases_named(c.engine, case_ref) == 1


async def test_the_forms_have_no_serious_accessibility_violations(
    browser: Browser, site: Console
) -> None:
    c = site
    page = await vlo_page(browser, c, bypass_csp=True)  # axe-core injects its own script
    axe = Axe()
    case_ref = unique_ref("AXE")
    await register(page, c, case_ref, str(today() + timedelta(days=3)))
    await assert_accessible(axe, page, "register form with errors")
    await page.get_by_label("Sentence date").fill(str(today() - timedelta(days=300)))
    await page.get_by_role("button", name="Check eligibility").click()
    await assert_accessible(axe, page, "register form with the eligibility explained")
    await page.goto(c.url + "/register-case")
    await assert_accessible(axe, page, "register form")
    await register(page, c, case_ref, str(today() - timedelta(days=300)))
    await assert_accessible(axe, page, "case page with the action links")
    await page.get_by_role("link", name="Add a victim").click()
    await assert_accessible(axe, page, "add victim")
    await page.get_by_role("button", name="Add victim").click()  # no name
    assert await page.locator(".govuk-error-summary").count() == 1
    await assert_accessible(axe, page, "add victim with errors")
    victim_id = await add_victim(page, c)
    offer, *_ = await eventually(lambda: tasks(c.engine, victim_id))
    base = f"{c.url}/cases/{case_ref}"
    for path in (
        f"/tasks/{offer.id}/outcome",
        f"/victims/{victim_id}/opt-in",
        f"/victims/{victim_id}/opt-out",
        f"/victims/{victim_id}/representations",
        "/conditions",
        "/release",
    ):
        await page.goto(base + path)
        await assert_accessible(axe, page, path)
        # Submitted blank: the error summary (or the engine's answer on the case page).
        await page.locator("main button.govuk-button").first.click()
        await page.wait_for_load_state()
        await assert_accessible(axe, page, path + " submitted blank")


async def test_another_region_and_a_tampered_id_are_refused_and_change_nothing(
    browser: Browser, site: Console
) -> None:
    c = site
    page = await vlo_page(browser, c)
    case_a, case_b = unique_ref("TMA"), unique_ref("TMB")
    for ref in (case_a, case_b):
        await register(page, c, ref, str(today() - timedelta(days=300)))
    await page.goto(f"{c.url}/cases/{case_a}/victims/new")
    victim_id = await add_victim(page, c)
    token = await page.locator("input[name=csrf_token]").first.input_value()
    # Victim IDs are numbered across cases: one of case A's named under case B is not found.
    response = await page.request.post(
        f"{c.url}/cases/{case_b}/victims/{victim_id}/opt-out",
        form={"csrf_token": token, "confirm": "yes"},
    )
    assert response.status == 404
    assert stage(c.engine, victim_id) is not Stage.OPTED_OUT

    wales = await (await browser.new_context()).new_page()
    await sign_in(wales, c, "vlo.wales")
    shown = await wales.goto(f"{c.url}/cases/{case_a}/release")
    assert shown is not None and shown.status == 403
    token = await wales.locator("input[name=csrf_token]").first.input_value()
    posted = await wales.request.post(
        f"{c.url}/cases/{case_a}/release", form={"csrf_token": token, "on": str(today())}
    )
    assert posted.status == 403
    with session_scope(c.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_a)).one()
        assert case.release_date is None
