"""A VLO carries a Parole Board review through its steps in the browser (tests/browser.py):
the referral, a VPS pasted and one uploaded, representations, the hearing, an application to
read a VPS and the Board's answer, an adjournment, the decision (after the hearing: on the
time-skipping server) and a request for its summary; each confirmation is what the engine did.
Bad input on each form shows the GOV.UK error summary and changes nothing; axe-core finds no
serious or critical violation on the new pages."""

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, FilePayload, Page
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from models.parole import ParoleTimetable
from models.vocabulary import LetterKind
from models.working_days import london_date
from service.vcs import Vcs
from tests.browser import Console, served
from tests.cli_harness import today
from tests.helpers import MANAGER_ACTOR, letters, run_until
from tests.test_console import assert_accessible
from tests.test_console_journey import banner, day, vlo_page
from tests.test_parole import (
    OTHER_VPS,
    VPS_TEXT,
    Parole,
    parole_case,
    refer,
    snapshot,
    vps_rows,
)


@pytest.fixture
async def skipping_site(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, Vcs]]:
    """The console over the time-skipping server (a decision waits for its hearing)."""
    async with served(time_skipping_env, engine, task_queue) as site:
        yield site


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, Vcs]]:
    async with served(local_env, engine, task_queue) as site:
        yield site


async def step(page: Page, link: str) -> None:
    """From the case page, follow one of its step links (a victim's are folded away under
    their row's "Parole and hospital steps": opened first)."""
    found = page.get_by_role("link", name=link, exact=True, include_hidden=True)
    if not await found.is_visible():
        await page.locator("details").filter(has=found).locator("summary").click()
    await found.click()


async def fill(page: Page, **dates: date | None) -> None:
    for label, on in dates.items():
        await page.get_by_label(label.replace("_", " "), exact=True).fill(str(on or ""))


def text_file(content: bytes) -> FilePayload:
    return {"name": "vps.txt", "mimeType": "text/plain", "buffer": content}


async def vps(page: Page, victim_id: int, text: str = "", file: bytes = b"") -> None:
    await step(page, f"VPS for victim {victim_id}")
    await page.get_by_label("The victim's statement").fill(text)
    if file:
        await page.get_by_label("Or choose the file it is in").set_input_files(text_file(file))
    await page.get_by_label("I have read it").check()
    await page.get_by_role("button", name="Send the statement to the Parole Board").click()


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_vlo_carries_a_parole_review_from_referral_to_the_decision(
    browser: Browser, skipping_site: tuple[Console, Vcs], time_skipping_env: WorkflowEnvironment
) -> None:
    (c, vcs), env = skipping_site, time_skipping_env
    start = london_date(await env.get_current_time())
    p = await parole_case(vcs, c.engine, start)
    page = await vlo_page(browser, c)
    await page.goto(f"{c.url}/cases/{p.case_ref}")

    due = start + timedelta(days=30)
    await step(page, "Refer to the Parole Board")
    await fill(page, Date_of_the_referral=start, Deadline_for_statements=due)
    await page.get_by_role("button", name="Record the referral").click()
    assert f"Parole review {p.review} started" in await banner(page)

    await vps(page, p.a, VPS_TEXT)
    assert f"Victim {p.a}: VPS 1 of victim {p.a} sent to the Parole Board" in await banner(page)
    await vps(page, p.b, file=OTHER_VPS.encode())  # a VPS in a file: always in writing
    assert f"of victim {p.b} sent to the Parole Board" in await banner(page)
    assert [(r.victim_id, r.text) for r in vps_rows(c.engine)] == [
        (p.a, VPS_TEXT),
        (p.b, OTHER_VPS),
    ]
    assert LetterKind.VPS_RECEIVED in letters(c.engine, p.b)
    assert VPS_TEXT not in await page.content()  # the words are never shown again

    await step(page, f"Representations to the Board for victim {p.a}")
    await page.get_by_label("What the victim wants said").fill("Keep him out of Leeds.")
    await page.get_by_role("button", name="Send the representations").click()
    assert f"Victim {p.a}: representations forwarded to the Parole Board" in await banner(page)

    hearing = start + timedelta(days=60)
    await step(page, "Record the hearing date")
    await fill(page, Hearing_date=hearing)
    await page.get_by_role("button", name="Record the hearing").click()
    assert f"Oral hearing on {day(hearing)} recorded; a VPS sent after" in await banner(page)

    await step(page, f"Apply to read VPS for victim {p.a}")
    await page.get_by_role("button", name="Record the application").click()
    assert "the Parole Board decides; it is not a right" in await banner(page)
    await step(page, f"Board's answer on reading for victim {p.a}")
    await page.get_by_label("Granted").check()
    await page.get_by_role("button", name="Record the Board's decision").click()
    assert "application to read their VPS granted; victim told" in await banner(page)
    assert LetterKind.READ_VPS_GRANTED in letters(c.engine, p.a)

    later = hearing + timedelta(days=14)
    await step(page, "Adjourn or defer the hearing")
    await fill(page, New_hearing_date=later)
    await page.get_by_role("button", name="Record the adjournment").click()
    adjourned = f"Hearing adjourned from {day(hearing)} to {day(later)}; 2 VPS kept"
    assert adjourned in await banner(page)

    await step(page, "Where the Parole Board review stands")
    shown = await page.locator("main").inner_text()
    assert f"VPS 1 of victim {p.a}" in shown and f"VPS 2 of victim {p.b}" in shown
    assert "adjourned 1 time(s)" in shown and "granted" in shown
    assert VPS_TEXT not in await page.content()
    await page.get_by_role("link", name="Back to case").click()

    await run_until(env, later)  # the hearing has been held
    decided, next_review = later + timedelta(days=1), start + timedelta(days=400)
    await page.reload()
    await step(page, "Record the Parole Board's decision")
    await page.get_by_label("No release").check()
    await fill(page, Date_of_the_decision=decided, Date_of_the_next_review=next_review)
    await page.get_by_role("button", name="Record the decision").click()
    assert f"Decision no release of {day(decided)} recorded; 2 victim(s)" in await banner(page)
    assert LetterKind.PAROLE_NO_RELEASE in letters(c.engine, p.a)

    await step(page, f"Ask for decision summary for victim {p.a}")
    await page.get_by_role("button", name="Record the request").click()
    assert f"Victim {p.a}: victim {p.a}'s request for the decision summary" in await banner(page)
    assert letters(c.engine, p.a)[-1] is LetterKind.PAROLE_SUMMARY_REQUESTED


async def refused(page: Page, engine: Engine, button: str, *problems: str) -> None:
    """Submitting shows the error summary naming each problem, status 400, nothing changed."""
    before = snapshot(engine)
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.get_by_role("button", name=button).click()
    assert (await answer.value).status == 400
    summary = await page.locator(".govuk-error-summary").inner_text()
    for problem in problems:
        assert problem in summary, summary
    assert (await page.title()).startswith("Error: ")
    assert snapshot(engine) == before


async def reviewed(vcs: Vcs, engine: Engine) -> Parole:
    now = today()
    p = await parole_case(vcs, engine, now - timedelta(days=30))
    timetable = ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10))
    await refer(vcs, p.case_ref, timetable)
    return p


async def test_bad_input_on_each_parole_form_shows_the_errors_and_changes_nothing(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    p = await reviewed(vcs, c.engine)
    now = today()
    page = await vlo_page(browser, c)
    case = f"{c.url}/cases/{p.case_ref}"

    await page.goto(case + "/parole/refer")
    every = ("Enter the date of the referral", "Enter the Board's deadline for statements")
    await refused(page, c.engine, "Record the referral", *every)
    await fill(page, Date_of_the_referral=now, Deadline_for_statements=now - timedelta(days=1))
    await refused(page, c.engine, "Record the referral", f"already has parole review {p.review}")

    await page.goto(f"{case}/victims/{p.a}/vps")
    await refused(page, c.engine, "Send the statement", "Paste the victim's words", "Confirm")
    await page.get_by_label("The victim's statement").fill(VPS_TEXT)
    await refused(page, c.engine, "Send the statement", "Confirm you have read the statement")
    assert await page.get_by_label("The victim's statement").input_value() == VPS_TEXT  # kept
    upload = page.get_by_label("Or choose the file it is in")
    await upload.set_input_files(text_file(OTHER_VPS.encode()))
    await page.get_by_label("I have read it").check()
    await refused(page, c.engine, "Send the statement", "Paste the words or choose a file, not")
    # A file must be plain UTF-8 text of up to 20,000 characters (web/uploads.py); a body
    # too big for that is refused before it is read (300,000 bytes).
    for content, problem in (
        (b"\xff\xfe not UTF-8", "must be saved as UTF-8 text"),
        (b"x" * 20_001, "no more than 20,000 characters"),
        (b"x" * 300_000, "no more than 20,000 characters"),
    ):
        await page.get_by_label("The victim's statement").fill("")
        await upload.set_input_files(text_file(content))
        await page.get_by_label("I have read it").check()
        await refused(page, c.engine, "Send the statement", problem)
    await page.goto(f"{case}/victims/{p.c}/vps")  # opted out
    await page.get_by_label("The victim's statement").fill(VPS_TEXT)
    await page.get_by_label("I have read it").check()
    await refused(page, c.engine, "Send the statement", "is not in the Victim Contact Scheme")
    assert vps_rows(c.engine) == []

    await page.goto(f"{case}/victims/{p.c}/parole-representations")
    await page.get_by_label("What the victim wants said").fill("Keep him away from me.")
    await refused(page, c.engine, "Send the representations", "is not in the Victim Contact")

    for path, button, problem in (
        (f"/victims/{p.a}/apply-to-read", "Record the application", "has no VPS on this review"),
        (f"/victims/{p.a}/decision-summary", "Record the request", "no decision yet"),
    ):
        await page.goto(case + path)
        await refused(page, c.engine, button, problem)
    await page.goto(f"{case}/victims/{p.a}/read-decision")
    await refused(page, c.engine, "Record the Board's decision", "Choose whether the Board")
    await page.get_by_label("Refused").check()
    await refused(page, c.engine, "Record the Board's decision", "no application")

    await page.goto(case + "/parole/hearing")
    await refused(page, c.engine, "Record the hearing", "Enter the hearing date")
    await fill(page, Hearing_date=now - timedelta(days=1))
    await refused(page, c.engine, "Record the hearing", "is in the past")
    await page.goto(case + "/parole/adjourn")
    await fill(page, New_hearing_date=now + timedelta(days=90))
    await refused(page, c.engine, "Record the adjournment", "no hearing listed")
    await page.goto(case + "/parole/decision")
    every = ("Choose what the Board decided", "Enter the date the Board decided")
    await refused(page, c.engine, "Record the decision", *every)
    await page.get_by_label("Release", exact=True).check()
    await fill(page, Date_of_the_decision=now)
    await refused(page, c.engine, "Record the decision", "has no hearing date")
    assert (await vcs.parole_view(p.case_ref, MANAGER_ACTOR)).timetable.hearing_on is None


async def test_the_parole_pages_have_no_serious_accessibility_violations(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    p = await reviewed(vcs, c.engine)
    page = await vlo_page(browser, c, bypass_csp=True)  # axe-core injects its own script
    axe = Axe()
    case = f"/cases/{p.case_ref}"
    await page.goto(c.url + case)
    await assert_accessible(axe, page, "case page with the parole and hospital steps")
    await page.goto(c.url + case + "/parole")
    await assert_accessible(axe, page, "where the review stands")
    for path in (
        "/parole/refer",
        "/parole/hearing",
        "/parole/adjourn",
        "/parole/decision",
        f"/victims/{p.a}/vps",
        f"/victims/{p.a}/parole-representations",
        f"/victims/{p.a}/apply-to-read",
        f"/victims/{p.a}/read-decision",
        f"/victims/{p.a}/decision-summary",
    ):
        await page.goto(c.url + case + path)
        await assert_accessible(axe, page, path)
        await page.locator("main button.govuk-button").first.click()
        await page.wait_for_load_state()
        await assert_accessible(axe, page, path + " submitted blank")
