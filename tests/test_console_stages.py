"""The case page's forms for custody, dates and sharing, in a real browser (tests/browser.py,
the real Temporal dev server and worker): a key stage, recalculated dates, a domestic homicide
review, supplied information, a disclosure (refused with every reason unless the sharing rules
allow it) and the record of disclosures, and representations uploaded as a file. Bad input
shows the GOV.UK error summary and changes nothing; axe-core finds no serious or critical
violation on any of these pages."""

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import col, func, select
from temporalio.testing import WorkflowEnvironment

from models.case import OffenderCase
from models.db import session_scope
from models.records import AuditEntry, Representation
from models.sharing import Disclosure, SuppliedInformation
from models.vocabulary import ContactLevel, TaskKind
from tests.browser import Console, served, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import offered_and_opted_in, registration, tasks, victim, vlo_actor
from tests.test_console import assert_accessible

SENTENCED = timedelta(days=300)


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, str, int]]:
    """The console with the service behind it, over a case of vlo.demo's in Yorkshire and the
    Humber whose one victim has opted in to hear of every key stage."""
    case_ref = unique_ref("STG")
    async with served(local_env, engine, task_queue) as (c, vcs):
        reg = registration(case_ref, today() - SENTENCED)
        actor = vlo_actor("vlo.demo")
        await vcs.register_case(reg.model_copy(update={"responsible_vlo": "vlo.demo"}), actor)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=actor)
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
        yield c, case_ref, victim_id


async def vlo_page(browser: Browser, c: Console, **options: object) -> Page:
    page = await (await browser.new_context(**options)).new_page()  # type: ignore[arg-type]
    await sign_in(page, c, "vlo.demo")
    return page


async def open_form(page: Page, c: Console, case_ref: str, link: str) -> None:
    await page.goto(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("link", name=link).click()


async def banner(page: Page) -> str:
    """The confirmation on the case page (or, failing, the page's error summary)."""
    found = page.locator(".govuk-notification-banner, .govuk-error-summary, h1")
    return await found.first.inner_text()


async def summary(page: Page) -> list[str]:
    """The error summary's lines (the form was shown again)."""
    heading = await page.get_by_role("heading", level=1).inner_text()
    assert await page.title() == f"Error: {heading} \N{EN DASH} Victim Contact Scheme"
    return await page.locator(".govuk-error-summary__list li").all_inner_texts()


def audited(engine: Engine, case_ref: str, action: str) -> int:
    with session_scope(engine) as session:
        query = (
            select(func.count())
            .select_from(AuditEntry)
            .join(OffenderCase, col(OffenderCase.id) == col(AuditEntry.case_id))
            .where(OffenderCase.case_ref == case_ref, AuditEntry.action == action)
        )
        return int(session.exec(query).one())


def case_row(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        return session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()


def rows(engine: Engine, table: type[Disclosure | SuppliedInformation | Representation]) -> int:
    with session_scope(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def long_day(day: date) -> str:
    return day.strftime("%-d %B %Y")


async def test_a_key_stage_new_dates_and_a_review_from_the_case_page(
    browser: Browser, site: tuple[Console, str, int]
) -> None:
    c, case_ref, _ = site
    page = await vlo_page(browser, c)

    await open_form(page, c, case_ref, "Record a key stage")
    # A referral to the Board and a transfer to hospital have their own forms, linked here.
    assert await page.get_by_label("Parole review").count() == 0
    assert await page.get_by_role("link", name="referral to the Parole Board").count() == 1
    await page.get_by_role("button", name="Record key stage").click()
    assert await summary(page) == ["Choose the key stage"]
    await page.get_by_label("Recall").check()  # the offender is in custody: refused
    await page.get_by_label("Date it happened").fill(str(today()))
    await page.get_by_role("button", name="Record key stage").click()
    assert "a recall is of an offender released on licence" in " ".join(await summary(page))
    assert audited(c.engine, case_ref, "key_stage") == 0
    await page.get_by_label("Temporary release").check()
    await page.get_by_role("button", name="Record key stage").click()
    assert "Temporary release recorded and victims told" in await banner(page)
    assert audited(c.engine, case_ref, "key_stage") == 1

    crd = case_row(c.engine, case_ref).conditional_release_date
    assert crd is not None
    await open_form(page, c, case_ref, "Record recalculated dates")
    assert (
        f"Now {long_day(crd)}" in await page.locator("#conditional_release_date-hint").inner_text()
    )
    await page.get_by_role("button", name="Record dates").click()
    assert await summary(page) == ["Enter at least one new date"]
    later = crd + timedelta(days=10)
    await page.get_by_label("Licence expiry date (LED)").fill(str(later - timedelta(days=30)))
    await page.get_by_label("Conditional release date (CRD)").fill(str(later))
    await page.get_by_role("button", name="Record dates").click()
    [problem] = await summary(page)
    assert problem.startswith("Conditional release date") and "is after the licence" in problem
    assert case_row(c.engine, case_ref).conditional_release_date == crd  # nothing changed
    await page.get_by_label("Licence expiry date (LED)").fill("")
    await page.get_by_role("button", name="Record dates").click()
    confirmed = await banner(page)  # what the engine does next: the moved date
    assert "Milestones recorded; every timer follows the new dates" in confirmed
    assert f"next: conditional release date on {long_day(later)}" in confirmed
    assert long_day(later) in await page.locator(".govuk-summary-list").inner_text()  # case page
    assert case_row(c.engine, case_ref).conditional_release_date == later

    await open_form(page, c, case_ref, "Record a domestic homicide review")
    await page.get_by_label("Date of the direction").fill(str(today()))
    await page.get_by_label("Our part is due").fill(str(today() - timedelta(days=1)))
    await page.get_by_role("button", name="Record review").click()
    [problem] = await summary(page)
    assert problem.startswith("The review is due") and "before it was directed" in problem
    assert audited(c.engine, case_ref, "dhr_directed") == 0
    await page.get_by_label("Our part is due").fill(str(today() + timedelta(days=28)))
    await page.get_by_role("button", name="Record review").click()
    confirmed = await banner(page)
    assert "Domestic homicide review recorded: task" in confirmed
    assert f"due {long_day(today() + timedelta(days=28))}" in confirmed
    assert "Take part in the domestic homicide review" in await page.content()
    assert [t.kind for t in tasks(c.engine) if t.kind is TaskKind.DOMESTIC_HOMICIDE_REVIEW]


async def test_information_is_recorded_and_disclosed_only_as_the_rules_allow(
    browser: Browser, site: tuple[Console, str, int]
) -> None:
    c, case_ref, victim_id = site
    page = await vlo_page(browser, c)
    supplied_before = rows(c.engine, SuppliedInformation)

    await open_form(page, c, case_ref, "Record information another agency supplied")
    await page.get_by_label("Supplying agency").fill("Leeds Housing")
    await page.get_by_label("Kind of information").select_option("risk_information")
    await page.get_by_label("Date received").fill(str(today() + timedelta(days=2)))
    await page.get_by_role("button", name="Record supplied information").click()
    assert "is in the future" in " ".join(await summary(page))
    assert rows(c.engine, SuppliedInformation) == supplied_before
    await page.get_by_label("Date received").fill(str(today()))
    await page.get_by_role("button", name="Record supplied information").click()
    confirmed = await banner(page)
    assert "Supplied information" in confirmed and "recorded" in confirmed
    with session_scope(c.engine) as session:
        supplied_id = session.exec(select(func.max(SuppliedInformation.id))).one()

    # Everything wrong at once: each rule broken is its own line of the error summary.
    await open_form(page, c, case_ref, "Make a disclosure")
    await page.get_by_label("Recipient agency").fill("West Yorkshire Police")
    await page.get_by_label("Kind of recipient").select_option("police")
    await page.get_by_label("Victim address").check()
    await page.get_by_label("Supplied information passed on").fill(str(supplied_id))
    await page.get_by_role("button", name="Make disclosure").click()
    reasons = await summary(page)
    assert len(reasons) >= 4, reasons
    joined = " ".join(reasons)
    for reason in (
        "No lawful basis recorded",
        "No purpose recorded",
        "A victim's address leaves the system only to hospital managers",
        "has not consented in writing to its disclosure to West Yorkshire Police",
    ):
        assert reason in joined, reason
    assert await page.get_by_label("Victim address").is_checked()  # kept for correcting
    assert rows(c.engine, Disclosure) == 0

    await page.get_by_label("Victim address").uncheck()
    await page.get_by_label("Supplied information passed on").fill("")
    await page.get_by_label("Lawful basis").select_option("cda1998_s115")
    await page.get_by_label("Purpose").fill("Risk assessment before release")
    await page.get_by_label("Sentence dates").check()
    await page.get_by_role("button", name="Make disclosure").click()
    assert "recorded and audited" in await banner(page)
    assert audited(c.engine, case_ref, "information_disclosed") == rows(c.engine, Disclosure) == 1

    await page.get_by_role("link", name="Disclosures").click()
    listed = await page.get_by_role("table").inner_text()
    assert "West Yorkshire Police (Police)" in listed
    assert "Crime and Disorder Act 1998 s 115" in listed
    assert "Sentence dates" in listed
    assert f"victim {victim_id}" not in listed.lower()


async def test_representations_uploaded_as_a_file(
    browser: Browser, site: tuple[Console, str, int]
) -> None:
    c, case_ref, victim_id = site
    page = await vlo_page(browser, c)
    link = f"Representations of victim {victim_id}"
    before = rows(c.engine, Representation)
    for name, content, problem in (
        ("words.pdf", b"%PDF-1.4", "The selected file must be a plain text (.txt) file"),
        ("words.txt", "Caf\N{LATIN SMALL LETTER E WITH ACUTE}".encode("latin-1"), "UTF-8"),
        ("words.txt", b"", "The selected file is empty"),
        ("long.txt", b"a" * 300_000, "no more than 20,000 characters"),
    ):
        await open_form(page, c, case_ref, link)
        await page.get_by_label("Or upload their words as a file").set_input_files(
            {"name": name, "mimeType": "text/plain", "buffer": content}
        )
        await page.get_by_role("button", name="Submit representations").click()
        assert problem in " ".join(await summary(page)), name
        assert rows(c.engine, Representation) == before

    words = "Please keep him away from Leeds.\r\nI still live near the park."
    await page.get_by_label("Or upload their words as a file").set_input_files(
        {"name": "Words.TXT", "mimeType": "text/plain", "buffer": words.encode("utf-8-sig")}
    )
    await page.get_by_role("button", name="Submit representations").click()
    assert f"Victim {victim_id}: representations forwarded" in await banner(page)
    with session_scope(c.engine) as session:
        stored = session.exec(
            select(Representation.text).where(Representation.victim_id == victim_id)
        ).all()
    assert stored == [words.replace("\r\n", "\n")]


async def test_the_new_pages_have_no_serious_accessibility_violations(
    browser: Browser, site: tuple[Console, str, int]
) -> None:
    c, case_ref, victim_id = site
    page = await vlo_page(browser, c, bypass_csp=True)  # axe-core injects its own script
    axe = Axe()
    base = f"{c.url}/cases/{case_ref}"
    await page.goto(base)
    await assert_accessible(axe, page, "case page with the new links")
    for path in (
        "/key-stage",
        "/milestones",
        "/dhr",
        "/supplied",
        "/disclose",
        f"/victims/{victim_id}/representations",
    ):
        await page.goto(base + path)
        await assert_accessible(axe, page, path)
        await page.locator("main button.govuk-button").first.click()  # blank: the errors
        await page.wait_for_load_state()
        assert await page.locator(".govuk-error-summary").count() == 1, path
        await assert_accessible(axe, page, path + " submitted blank")
    await page.goto(base + "/disclosures")
    await assert_accessible(axe, page, "disclosures, none yet")


async def test_another_region_is_refused_and_an_auditor_only_reads(
    browser: Browser, site: tuple[Console, str, int]
) -> None:
    """The service checks each action (service/access.py): a VLO of another region is refused
    every form, shown or posted, and nothing changes; an auditor sees the disclosures only."""
    c, case_ref, _ = site
    wales = await (await browser.new_context()).new_page()
    await sign_in(wales, c, "vlo.wales")
    base = f"{c.url}/cases/{case_ref}"
    for path in ("/key-stage", "/milestones", "/dhr", "/supplied", "/disclose", "/disclosures"):
        shown = await wales.goto(base + path)
        assert shown is not None and shown.status == 403, path
    await wales.goto(c.url + "/tasks")
    token = await wales.locator("input[name=csrf_token]").first.input_value()
    posted = await wales.request.post(
        base + "/key-stage",
        form={"csrf_token": token, "key_stage": "temporary_release", "on": str(today())},
    )
    assert posted.status == 403
    assert audited(c.engine, case_ref, "key_stage") == 0

    auditor = await (await browser.new_context()).new_page()
    await sign_in(auditor, c, "auditor.khan")
    await auditor.goto(base)
    assert await auditor.get_by_role("link", name="Make a disclosure").count() == 0
    await auditor.get_by_role("link", name="Disclosures").click()
    assert "No disclosures have been recorded" in await auditor.locator("main").inner_text()
