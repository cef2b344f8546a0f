"""Hand-offs to a region, in a real browser: a Yorkshire manager hands a case off to Wales from
the case page; the Wales manager finds it on "Hand-offs to your region" (IDs, regions, steps
and dates, never a victim) and accepts it there; the case is then Wales's. A VLO, a manager of
a third region and a tampered hand-off ID are refused, logged, and nothing changes; axe-core
finds no serious violation on the new pages. Fixtures from tests/test_console_case.py."""

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import select

from models.access_log import AccessRefusal
from models.db import session_scope
from models.handoff import WithdrawalReason
from models.vocabulary import HandoffReason, HandoffStep, Provider
from service.vcs import Vcs
from tests.browser import Console
from tests.helpers import MANAGER_ACTOR, VLO_ACTOR, eventually, victim
from tests.test_console import assert_accessible
from tests.test_console_case import (
    REGION,
    case_row,
    crc_case,
    handoff_rows,
    signed_in,
    site,
)
from tests.test_console_journey import banner

__all__ = ["site"]  # the fixture, used by name
NAME = "Ingrid Incoming"
WALES = "Wales"
INCOMING = "/handoffs/incoming"


def refusals(engine: Engine, actor: str) -> int:
    with session_scope(engine) as session:
        rows = session.exec(select(AccessRefusal.id).where(AccessRefusal.actor == actor)).all()
        return len(rows)


async def status(page: Page, url: str) -> int:
    response = await page.goto(url)
    assert response is not None
    return response.status


async def post_decision(page: Page, c: Console, handoff_id: str, decision: str) -> int:
    """Post an acceptance or refusal as a tampering user would: with the session's own CSRF
    token (from a form the user may see), to an address they typed."""
    await page.goto(f"{c.url}/bulk-transfers")
    token = await page.locator("input[name=csrf_token]").first.input_value()
    response = await page.request.post(
        f"{c.url}{INCOMING}/{handoff_id}/{decision}", form={"csrf_token": token, "confirm": "yes"}
    )
    return response.status


async def test_the_receiving_manager_sees_and_accepts_a_handoff_from_another_region(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = await crc_case(vcs)
    victim_id, _ = await vcs.add_victim(case_ref, victim(NAME), actor=VLO_ACTOR)

    # The sending region's manager requests it from the case page, to Wales.
    yorkshire = await signed_in(browser, c, "manager.evans")
    await yorkshire.goto(f"{c.url}/cases/{case_ref}")
    await yorkshire.get_by_role("link", name="Hand off this case").click()
    await yorkshire.get_by_label("Risk has risen (CRC to NPS)").check()
    await yorkshire.get_by_label("NPS", exact=True).check()
    await yorkshire.get_by_label("Receiving region").fill(WALES)
    await yorkshire.get_by_label("Receiving VLO").fill("vlo.wales")
    await yorkshire.get_by_role("button", name="Request hand-off").click()
    [row] = handoff_rows(c.engine, case_ref)
    assert row.handoff_id in await banner(yorkshire)

    # Wales sees it coming from the region page, waiting for the sender: nothing to accept yet.
    wales = await signed_in(browser, c, "manager.wales")
    await wales.goto(f"{c.url}/region")
    await wales.get_by_role("link", name="Hand-offs to your region").click()
    table = await wales.locator("#incoming").inner_text()
    assert row.handoff_id in table and case_ref in table and REGION in table
    assert "Requested" in table and "sending provider to supply" in table
    await wales.get_by_role("link", name=row.handoff_id).click()
    assert await wales.get_by_role("button", name="Accept hand-off").count() == 0

    # The sender supplies the case information from the case page, as before.
    await yorkshire.goto(f"{c.url}/cases/{case_ref}")
    await yorkshire.get_by_role("link", name="Record the case information supplied").click()
    await yorkshire.get_by_role("button", name="Record supplied").click()
    await eventually(lambda: handoff_rows(c.engine, case_ref)[0].step is HandoffStep.SUPPLIED)
    # The sender's case page says who accepts it, and offers no accept of its own.
    await yorkshire.goto(f"{c.url}/cases/{case_ref}")
    assert await yorkshire.get_by_role("link", name="Record the hand-off accepted").count() == 0
    assert "Wales's VLO manager accepts it" in await yorkshire.content()

    await wales.goto(f"{c.url}{INCOMING}")
    table = await wales.locator("#incoming").inner_text()
    assert "Supplied" in table and "Your region to accept the case" in table
    await assert_accessible(Axe(), wales, "hand-offs to your region")
    for shown in (table, await wales.content()):
        assert NAME not in shown and f"Victim {victim_id}" not in shown  # IDs, steps, dates
    await wales.get_by_role("link", name=row.handoff_id).click()
    text = await wales.locator("main").inner_text()
    assert case_ref in text and "NPS, Wales, vlo.wales" in text and NAME not in text
    await assert_accessible(Axe(), wales, "an incoming hand-off")
    await wales.get_by_role("button", name="Accept hand-off").click()
    assert wales.url == f"{c.url}{INCOMING}"
    assert "accepted" in await banner(wales)
    assert row.handoff_id not in await wales.locator("main").inner_text()  # no longer open

    # The case is Wales's now: its VLO opens the case page; Yorkshire's VLO no longer can.
    case = case_row(c.engine, case_ref)
    assert (case.region, case.provider, case.responsible_vlo) == (WALES, Provider.NPS, "vlo.wales")
    wales_vlo = await signed_in(browser, c, "vlo.wales")
    assert await status(wales_vlo, f"{c.url}/cases/{case_ref}") == 200
    victims = await wales_vlo.locator("main").inner_text()
    assert f"Victim {victim_id}" in victims  # the victim went with the case
    yorkshire_vlo = await signed_in(browser, c, "vlo.demo")
    assert await status(yorkshire_vlo, f"{c.url}/cases/{case_ref}") == 403


async def test_others_and_a_tampered_handoff_id_are_refused_and_nothing_changes(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    to_wales = await crc_case(vcs)
    await vcs.request_handoff(
        to_wales, HandoffReason.RISK_ESCALATION, Provider.NPS, WALES, "vlo.wales", MANAGER_ACTOR
    )
    [row] = handoff_rows(c.engine, to_wales)
    await vcs.handoff_supply(row.handoff_id, MANAGER_ACTOR)
    # Another hand-off, staying in Yorkshire: not Wales's to see or accept.
    at_home = await crc_case(vcs)
    await vcs.request_handoff(
        at_home, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, "vlo.smith", MANAGER_ACTOR
    )
    [home_row] = handoff_rows(c.engine, at_home)
    await vcs.handoff_supply(home_row.handoff_id, MANAGER_ACTOR)
    await eventually(lambda: handoff_rows(c.engine, at_home)[0].step is HandoffStep.SUPPLIED)
    await eventually(lambda: handoff_rows(c.engine, to_wales)[0].step is HandoffStep.SUPPLIED)

    # A Wales VLO (not a manager): neither the list nor the hand-off nor the acceptance.
    wales_vlo = await signed_in(browser, c, "vlo.wales")
    assert await wales_vlo.get_by_role("link", name="Region").count() == 0
    assert await status(wales_vlo, f"{c.url}{INCOMING}") == 403
    assert "may not view incoming handoffs" in await wales_vlo.content()
    assert await status(wales_vlo, f"{c.url}{INCOMING}/{row.handoff_id}") == 403
    await assert_accessible(Axe(), wales_vlo, "refused")

    # A manager of a third region sees no Wales hand-off and may not take one by its address.
    london = await signed_in(browser, c, "manager.london")
    before = refusals(c.engine, "manager.london")
    await london.goto(f"{c.url}{INCOMING}")
    assert "No hand-off is coming to the region" in await london.locator("main").inner_text()
    assert await status(london, f"{c.url}{INCOMING}/{row.handoff_id}") == 403
    assert "for a case of another region" in await london.content()
    for decision in ("accept", "refuse"):
        assert await post_decision(london, c, row.handoff_id, decision) == 403
    assert refusals(c.engine, "manager.london") == before + 3

    # The Wales manager, with an ID edited to another region's hand-off or to none at all.
    wales = await signed_in(browser, c, "manager.wales")
    await wales.goto(f"{c.url}{INCOMING}")
    table = await wales.locator("#incoming").inner_text()
    assert row.handoff_id in table and home_row.handoff_id not in table
    before = refusals(c.engine, "manager.wales")
    assert await status(wales, f"{c.url}{INCOMING}/{home_row.handoff_id}") == 403
    assert await post_decision(wales, c, home_row.handoff_id, "accept") == 403
    assert refusals(c.engine, "manager.wales") == before + 2
    assert await status(wales, f"{c.url}{INCOMING}/vcs-handoff-NOSUCH-1") == 404

    # Nothing changed: both hand-offs wait to be accepted; the cases stay in Yorkshire.
    for case_ref in (to_wales, at_home):
        assert handoff_rows(c.engine, case_ref)[0].step is HandoffStep.SUPPLIED
        assert case_row(c.engine, case_ref).region == REGION


async def test_the_receiving_manager_refuses_a_handoff_and_the_case_stays(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = await crc_case(vcs)
    await vcs.request_handoff(
        case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, WALES, "vlo.wales", MANAGER_ACTOR
    )
    [row] = handoff_rows(c.engine, case_ref)
    wales = await signed_in(browser, c, "manager.wales")
    await wales.goto(f"{c.url}{INCOMING}/{row.handoff_id}")
    await wales.get_by_role("button", name="Refuse hand-off").click()
    assert wales.url == f"{c.url}{INCOMING}"
    assert "withdrawn (refused by receiver)" in await banner(wales)  # plain words
    [row] = handoff_rows(c.engine, case_ref)
    assert (row.step, row.withdrawn_reason, row.withdrawn_by) == (
        HandoffStep.WITHDRAWN,
        WithdrawalReason.REFUSED_BY_RECEIVER,
        "manager.wales",
    )
    case = case_row(c.engine, case_ref)
    assert (case.region, case.provider) == (REGION, Provider.CRC)

    # Ended: its page says so and offers neither step; a replayed post is told why.
    await wales.goto(f"{c.url}{INCOMING}/{row.handoff_id}")
    assert "Withdrawn" in await wales.locator("main").inner_text()
    assert await wales.get_by_role("button").filter(has_text="hand-off").count() == 0
    assert await post_decision(wales, c, row.handoff_id, "accept") == 400
