"""Reassigning a task from My tasks, in a real browser (issue 14): a senior VLO follows the
task's "Reassign" link, a bad user name is shown in the GOV.UK error summary and changes
nothing, a good one returns to My tasks with the confirmation and the new VLO has the task. A
VLO sees no link and is refused the form; axe-core finds no serious violation on the form.
Fixtures from tests/test_console_case.py."""

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser

from models.task_repository import task_by_id
from service.actor import Role
from service.vcs import Vcs
from tests.browser import Console
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import eventually, registration, tasks, victim, vlo_actor
from tests.test_console import assert_accessible
from tests.test_console_case import signed_in, site
from tests.test_console_journey import banner

__all__ = ["site"]  # the fixture, used by name
SENIOR = "senior.patel"


async def test_a_senior_vlo_reassigns_their_task_to_a_vlo(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = unique_ref("RE")
    senior = vlo_actor(SENIOR, role=Role.SENIOR_VLO)
    reg = registration(case_ref, today()).model_copy(update={"responsible_vlo": SENIOR})
    await vcs.register_case(reg, actor=senior)
    victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=senior)
    [offer] = await eventually(lambda: tasks(c.engine, victim_id))
    assert offer.assigned_to == SENIOR

    page = await signed_in(browser, c, SENIOR)
    row = page.get_by_role("row").filter(has_text=case_ref)
    await row.get_by_role("link", name=f"Reassign task {offer.id}").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "Reassign a task"
    axe = Axe()
    await assert_accessible(axe, page, "reassign form")

    # A role is not a user name: refused in the error summary, nothing changed.
    await page.get_by_role("textbox", name="New VLO").fill("role:vlo-manager")
    await page.get_by_role("button", name="Reassign task").click()
    summary = page.locator(".govuk-error-summary")
    assert "user name must be 2 to 60 letters" in await summary.inner_text()
    await assert_accessible(axe, page, "reassign form with errors")
    assert task_by_id(c.engine, offer.id or 0).assigned_to == SENIOR

    await page.get_by_role("textbox", name="New VLO").fill("vlo.demo")
    await page.get_by_role("button", name="Reassign task").click()
    await page.wait_for_url(f"{c.url}/tasks")
    assert "reassigned to vlo.demo" in await banner(page)
    assert await page.get_by_role("row").filter(has_text=case_ref).count() == 0
    assert task_by_id(c.engine, offer.id or 0).assigned_to == "vlo.demo"

    # The VLO now has it; a VLO has no Reassign link and may not open the form.
    vlo = await signed_in(browser, c, "vlo.demo")
    mine = vlo.get_by_role("row").filter(has_text=case_ref)
    assert "Contact victim to offer the Victim Contact Scheme" in await mine.inner_text()
    assert await mine.get_by_role("link", name=f"Reassign task {offer.id}").count() == 0
    response = await vlo.goto(f"{c.url}/cases/{case_ref}/tasks/{offer.id}/reassign")
    assert response is not None and response.status == 403
    await vlo.goto(f"{c.url}/cases/{case_ref}")
    assert await vlo.get_by_role("link", name=f"Reassign task {offer.id}").count() == 0

    # A senior VLO reassigns any open task of the region from the case page, not only theirs.
    await page.goto(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("link", name=f"Reassign task {offer.id}").click()
    await page.get_by_role("textbox", name="New VLO").fill("vlo.jones")
    await page.get_by_role("button", name="Reassign task").click()
    await page.wait_for_url(f"{c.url}/tasks")
    assert task_by_id(c.engine, offer.id or 0).assigned_to == "vlo.jones"
