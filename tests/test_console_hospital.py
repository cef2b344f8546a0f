"""A VLO records a patient's hospital path in the browser (tests/browser.py, the real Temporal
dev server: these steps have no timer to skip): a prisoner transferred to hospital with a
restriction direction, a tribunal application, the restriction's end varied, a move to another
hospital, the managers notified again of a victim, remission to prison; and a hospital order
ended by an absolute discharge. Each confirmation is what the engine did; bad input on each
form shows the GOV.UK error summary and changes nothing; axe-core finds no serious or critical
violation on the new pages."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from models.hospital import HospitalBase
from models.vocabulary import ContactLevel, DisposalKind, LetterKind
from service.vcs import Vcs
from tests.browser import Console, served, sign_in
from tests.conftest import unique_ref
from tests.helpers import VLO_ACTOR, eventually, registration
from tests.test_console import assert_accessible, refusals
from tests.test_console_journey import banner, day, vlo_page
from tests.test_console_parole import refused, step
from tests.test_hospital import (
    HOSPITAL,
    OTHER_HOSPITAL,
    RESTRICTION_ENDS,
    SENTENCED,
    case_row,
    new_hospital,
    notices,
    opted_in_victim,
    registered_patient,
    today,
    victim_letters,
)


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, Vcs]]:
    async with served(local_env, engine, task_queue) as site:
        yield site


def choice(hospital: HospitalBase) -> str:
    """How the form lists a hospital."""
    return f"{hospital.name}, {hospital.postcode}"


async def on(page: Page, label: str = "Date", days: int = 0) -> None:
    await page.get_by_label(label, exact=True).fill(str(today() + timedelta(days=days)))


async def custodial_case(vcs: Vcs) -> tuple[str, int]:
    """A prisoner's case (four years), with a victim in the scheme."""
    case_ref = unique_ref("HWEB")
    await vcs.register_case(registration(case_ref, SENTENCED, term_months=48), actor=VLO_ACTOR)
    return case_ref, await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)


async def test_a_vlo_records_a_transfer_to_hospital_and_back_to_prison(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    first = new_hospital(c.engine)
    case_ref, victim_id = await custodial_case(vcs)
    page = await vlo_page(browser, c)
    await page.goto(f"{c.url}/cases/{case_ref}")

    await step(page, "Record a transfer to hospital")
    await page.get_by_label("Hospital", exact=True).select_option(label=choice(HOSPITAL))
    await on(page, "Date of the transfer")
    await page.get_by_role("group", name="Was a restriction direction").get_by_label("Yes").check()
    await page.get_by_label("Date the restriction ends").fill(str(RESTRICTION_ENDS))
    await page.get_by_role("button", name="Record the transfer").click()
    said = await banner(page)
    assert f"Transfer to hospital {first} on {day(today())} recorded" in said
    assert f"case {case_ref} is on the DVCVA s 42 path" in said
    await eventually(lambda: LetterKind.HOSPITAL_DETAILS in victim_letters(c.engine, victim_id))
    assert case_row(c.engine, case_ref).disposal is DisposalKind.TRANSFER_DIRECTION

    await step(page, "Record a tribunal application")
    await on(page, "Date of the application or reference")
    await page.get_by_role("button", name="Record the application").click()
    assert "invited to give views on discharge conditions (DVCVA s 37(7))" in await banner(page)

    varied = today() + timedelta(days=800)
    await step(page, "Record a restriction lifted or varied")
    await page.get_by_label("Its end date was varied").check()
    await on(page, "Date of the change")
    await page.get_by_label("New date the restriction ends").fill(str(varied))
    await page.get_by_role("button", name="Record the change").click()
    assert "victims in the scheme told; representations about discharge" in await banner(page)
    assert case_row(c.engine, case_ref).restriction_ends_on == varied

    # The patient moves to a hospital not yet recorded: added from the form, then chosen.
    await step(page, "Record the hospital the patient is in")
    await page.get_by_role("link", name="Add a hospital that is not listed").click()
    await page.get_by_label("Name of the hospital").fill(OTHER_HOSPITAL.name)
    await page.get_by_label("Address").fill(OTHER_HOSPITAL.address)
    await page.get_by_label("Postcode").fill(str(OTHER_HOSPITAL.postcode))
    await page.get_by_role("button", name="Add hospital").click()
    other = new_hospital(c.engine, OTHER_HOSPITAL)  # the same hospital: its ID
    assert f"Hospital {other} recorded: choose it on the transfer" in await banner(page)
    await step(page, "Record the hospital the patient is in")
    await page.get_by_label("Hospital", exact=True).select_option(label=choice(OTHER_HOSPITAL))
    await on(page)
    await page.get_by_role("button", name="Record the hospital").click()
    assert f"hospital {other} on {day(today())}" in await banner(page)
    assert case_row(c.engine, case_ref).hospital_id == other

    await eventually(lambda: len(notices(c.engine, victim_id)) == 2)  # one per hospital
    await step(page, f"Notify hospital again for victim {victim_id}")
    await page.get_by_role("button", name="Notify the hospital").click()
    assert f"Victim {victim_id}: managers of hospital {other} notified" in await banner(page)
    assert len(notices(c.engine, victim_id)) == 3

    await step(page, "Record remission to prison")
    await on(page, "Date of remission")
    await page.get_by_role("button", name="Record remission").click()
    assert f"case {case_ref} is back on the custodial path" in await banner(page)
    await eventually(lambda: LetterKind.REMITTED in victim_letters(c.engine, victim_id))
    assert case_row(c.engine, case_ref).disposal is DisposalKind.CUSTODIAL
    for kind in (LetterKind.TRIBUNAL_APPLICATION, LetterKind.RESTRICTION_VARIED):
        assert kind in victim_letters(c.engine, victim_id)


async def test_an_absolute_discharge_ends_a_hospital_order(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref, _ = await registered_patient(
        vcs, "HDIS", DisposalKind.HOSPITAL_ORDER, restricted=False
    )
    await opted_in_victim(vcs, case_ref, ContactLevel.ANNUAL)
    page = await vlo_page(browser, c)
    await page.goto(f"{c.url}/cases/{case_ref}/hospital/discharge")
    await page.get_by_label("Absolute discharge").check()
    await on(page, "Date of discharge")
    await page.get_by_role("button", name="Record the discharge").click()
    assert f"the order has ended; victims told; case {case_ref} closed" in await banner(page)


def path_of(engine: Engine, case_ref: str) -> tuple[object, ...]:
    row = case_row(engine, case_ref)
    return (row.disposal, row.restricted, row.hospital_id, row.restriction_ends_on, row.status)


async def test_bad_input_on_each_hospital_form_shows_the_errors_and_changes_nothing(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref, hospital_id = await registered_patient(
        vcs, "HBAD", DisposalKind.HOSPITAL_ORDER, restricted=True
    )
    await opted_in_victim(vcs, case_ref, ContactLevel.ALL_KEY_STAGES)
    prisoner, prisoner_victim = await custodial_case(vcs)
    before = path_of(c.engine, case_ref)
    page = await vlo_page(browser, c)
    case = f"{c.url}/cases/{case_ref}"

    await page.goto(case + "/hospital/transfer")
    await refused(
        page,
        c.engine,
        "Record the transfer",
        *("Choose the hospital", "Enter the date of the transfer", "Choose whether a restr"),
    )
    await page.goto(case + "/hospital/move")
    await refused(page, c.engine, "Record the hospital", "Choose the hospital")
    await page.get_by_label("Hospital", exact=True).select_option(str(hospital_id))
    await on(page)
    await refused(page, c.engine, "Record the hospital", "already in hospital")

    await page.goto(case + "/hospital/new")
    every = ("Enter the hospital's name", "Enter the hospital's address")
    await refused(page, c.engine, "Add hospital", *every)
    await page.goto(case + "/hospital/tribunal")
    await refused(page, c.engine, "Record the application", "Enter the date as a real date")
    await page.goto(case + "/hospital/restriction")
    every = ("Choose whether the restriction", "Enter the date of the change")
    await refused(page, c.engine, "Record the change", *every)
    await page.get_by_label("The restriction was lifted").check()
    await on(page, "Date of the change")
    await on(page, "New date the restriction ends", days=30)
    await refused(page, c.engine, "Record the change", "Leave the new end date blank")

    await page.goto(case + "/hospital/remission")
    await on(page, "Date of remission")
    await refused(page, c.engine, "Record remission", "cannot be remitted to prison")
    await page.goto(case + "/hospital/discharge")
    await refused(page, c.engine, "Record the discharge", "Choose the kind of discharge")
    await page.get_by_label("Conditional discharge").check()
    await on(page, "Date of discharge", days=2)
    await refused(page, c.engine, "Record the discharge", "in the future")
    assert path_of(c.engine, case_ref) == before

    await page.goto(f"{c.url}/cases/{prisoner}/victims/{prisoner_victim}/notify-hospital")
    await refused(page, c.engine, "Notify the hospital", "custodial path")
    assert notices(c.engine, prisoner_victim) == []


async def test_the_hospital_pages_have_no_serious_accessibility_violations(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    new_hospital(c.engine)
    case_ref, victim_id = await custodial_case(vcs)
    page = await vlo_page(browser, c, bypass_csp=True)  # axe-core injects its own script
    axe = Axe()
    for path in (
        "/hospital/new",
        "/hospital/transfer",
        "/hospital/move",
        "/hospital/tribunal",
        "/hospital/restriction",
        "/hospital/remission",
        "/hospital/discharge",
        f"/victims/{victim_id}/notify-hospital",
    ):
        await page.goto(f"{c.url}/cases/{case_ref}{path}")
        await assert_accessible(axe, page, path)
        await page.locator("main button.govuk-button").first.click()
        await page.wait_for_load_state()
        await assert_accessible(axe, page, path + " submitted blank")


async def test_who_may_not_act_is_refused_and_nothing_changes(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    """The service checks each step (service/access.py): an auditor may see the case but not
    record a step; a VLO of another region may not see it; a victim of another case named in
    the address is not found. Each refusal changes nothing."""
    c, vcs = site
    hospital_id = new_hospital(c.engine)
    case_ref, victim_id = await custodial_case(vcs)
    other_case, _ = await custodial_case(vcs)
    before = path_of(c.engine, case_ref)
    transfer = f"{c.url}/cases/{case_ref}/hospital/transfer"
    form = {"hospital_id": str(hospital_id), "on": str(today()), "restricted": "no"}
    for subject, shown, action in (
        ("auditor.khan", 200, "record_hospital_step"),
        ("vlo.wales", 403, "view_case"),
    ):
        page = await (await browser.new_context()).new_page()
        await sign_in(page, c, subject)
        response = await page.goto(transfer)
        assert response is not None and response.status == shown, subject
        token = await page.locator("input[name=csrf_token]").first.input_value()
        answer = await page.request.post(transfer, form={"csrf_token": token, **form})
        assert answer.status == 403, subject
        assert (subject, action) in [(a, b) for a, b, _ in refusals(c.engine)]
    assert path_of(c.engine, case_ref) == before

    page = await vlo_page(browser, c)
    await page.goto(f"{c.url}/cases/{case_ref}")
    token = await page.locator("input[name=csrf_token]").first.input_value()
    elsewhere = f"{c.url}/cases/{other_case}/victims/{victim_id}/vps"
    answer = await page.request.post(elsewhere, multipart={"csrf_token": token, "text": "x"})
    assert answer.status == 404
    assert (await page.request.get(elsewhere)).status == 404
