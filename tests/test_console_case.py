"""The case page in a real browser (tests/browser.py, the Temporal dev server and a worker):
its timeline (what happened, what is scheduled next), an open Parole Board review, a hospital
path and a hand-off in progress; and the hand-off forms a VLO manager uses (request, supply,
accept, withdraw) and a CRC's event report. Bad input shows the GOV.UK error summary and
changes nothing; a VLO of another region is refused; axe-core finds no serious violation."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.case import OffenderCase
from models.db import session_scope
from models.handoff import CaseHandoff, WithdrawalReason, bulk_workflow_id
from models.parole import ParoleTimetable, parole_review_id
from models.records import AuditEntry
from models.vocabulary import (
    ContactLevel,
    DisposalKind,
    HandoffReason,
    HandoffStep,
    Provider,
    TaskKind,
)
from service.vcs import Vcs
from tests.browser import Console, served, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import (
    MANAGER_ACTOR,
    VLO_ACTOR,
    eventually,
    offered_and_opted_in,
    registration,
    tasks,
    victim,
)
from tests.test_console import assert_accessible
from tests.test_console_journey import banner
from tests.test_hospital import hospital_case, new_hospital

REGION = "Yorkshire and the Humber"
NAME = "Tess Timeline"
BULK_ID = f"console-{uuid.uuid4().hex[:8]}"
BULK_WORKFLOW = bulk_workflow_id(BULK_ID)


@pytest.fixture
async def site(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, Vcs]]:
    """The console with the service behind it and a worker; hand-offs the test left running
    are ended afterwards."""
    async with served(local_env, engine, task_queue) as site:
        yield site
    with session_scope(engine) as session:
        handoffs = session.exec(select(CaseHandoff.handoff_id)).all()
    ended = [*handoffs, BULK_WORKFLOW]
    for workflow_id in ended:
        with contextlib.suppress(RPCError):
            await local_env.client.get_workflow_handle(workflow_id).terminate(reason="test done")


async def signed_in(browser: Browser, c: Console, subject: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await sign_in(page, c, subject)
    return page


def case_row(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        return session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()


def handoff_rows(engine: Engine, case_ref: str) -> list[CaseHandoff]:
    case_id = case_row(engine, case_ref).id
    with session_scope(engine) as session:
        return list(session.exec(select(CaseHandoff).where(CaseHandoff.case_id == case_id)).all())


def crc_tasks(engine: Engine, case_ref: str) -> list[int]:
    case_id = case_row(engine, case_ref).id
    crc = TaskKind.CRC_EVENT
    return [t.id or 0 for t in tasks(engine) if t.case_id == case_id and t.kind is crc]


def audit_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(AuditEntry.id)).all())


async def crc_case(vcs: Vcs) -> str:
    case_ref = unique_ref("HO")
    reg = registration(case_ref, today() - timedelta(days=200), provider=Provider.CRC)
    await vcs.register_case(reg, actor=MANAGER_ACTOR)
    return case_ref


async def test_the_timeline_shows_what_happened_and_what_is_scheduled_next(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = unique_ref("TL")
    await vcs.register_case(registration(case_ref, today() - timedelta(days=300)), VLO_ACTOR)
    page = await signed_in(browser, c, "vlo.demo")
    await page.goto(f"{c.url}/cases/{case_ref}")
    happened = await page.locator("#happened").inner_text()
    assert "Case registered" in happened and "vlo.jones" in happened
    assert "Letter queued" not in happened

    victim_id, _ = await vcs.add_victim(case_ref, victim(NAME), actor=VLO_ACTOR)
    await offered_and_opted_in(vcs, c.engine, victim_id, ContactLevel.ALL_KEY_STAGES)
    await page.goto(f"{c.url}/cases/{case_ref}")  # a fresh load (reload lost the page once)
    happened = await page.locator("#happened").inner_text()
    assert "Letter queued: letter " in happened and "kind offer, channel letter" in happened
    assert "kind opt-in confirmed" in happened and "Now opted in" in happened
    # Newest first: the registration is the last line.
    rows = await page.locator("#happened tbody tr").all_inner_texts()
    assert "Case registered" in rows[-1]
    scheduled = await page.locator("#scheduled").inner_text()
    assert "Case:" in scheduled and f"Victim {victim_id}:" in scheduled
    assert NAME not in await page.content()  # IDs, kinds and dates only
    await assert_accessible(Axe(), page, "case page with its timeline")


async def test_an_open_review_a_hospital_path_and_a_handoff_are_shown(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    now = today()
    case_ref = await crc_case(vcs)
    await vcs.refer_parole(
        case_ref,
        ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10)),
        actor=MANAGER_ACTOR,
    )
    await vcs.request_handoff(
        case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, "vlo.smith", MANAGER_ACTOR
    )
    [handoff] = handoff_rows(c.engine, case_ref)
    hospital_ref = unique_ref("HOSP")
    reg = hospital_case(
        hospital_ref,
        DisposalKind.HOSPITAL_ORDER,
        restricted=True,
        hospital_id=new_hospital(c.engine),
    )
    await vcs.register_case(reg, actor=MANAGER_ACTOR)

    page = await signed_in(browser, c, "vlo.demo")
    await page.goto(f"{c.url}/cases/{case_ref}")
    text = await page.locator("main").inner_text()
    assert parole_review_id(case_ref, 1) in text
    assert (
        "victim personal statements" in text
        and (now + timedelta(days=10)).strftime("%-d %B %Y") in text
    )
    assert handoff.handoff_id in text and "Requested" in text
    assert "Waiting for" in text
    assert await page.get_by_role("link", name="Hand off this case").count() == 0  # a VLO
    await assert_accessible(Axe(), page, "case page with a review and a hand-off")

    await page.goto(f"{c.url}/cases/{hospital_ref}")
    text = await page.locator("main").inner_text()
    assert "Hospital path" in text and "DVCVA s36 restricted" in text
    assert "Rampton" not in text  # the hospital by its ID only


async def test_a_manager_hands_a_case_off_request_supply_accept(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = await crc_case(vcs)
    page = await signed_in(browser, c, "manager.evans")
    await page.goto(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("link", name="Hand off this case").click()

    # Nothing chosen: the error summary names each field; no hand-off, nothing audited.
    before = audit_count(c.engine)
    await page.get_by_role("button", name="Request hand-off").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "Choose why the case is handed off" in summary
    assert "Choose the provider the case goes to" in summary
    assert handoff_rows(c.engine, case_ref) == [] and audit_count(c.engine) == before
    await assert_accessible(Axe(), page, "hand-off request with errors")

    await page.get_by_label("Risk has risen (CRC to NPS)").check()
    await page.get_by_label("NPS", exact=True).check()
    await page.get_by_label("Receiving region").fill(REGION)
    await page.get_by_label("Receiving VLO").fill("v")  # too short
    await page.get_by_role("button", name="Request hand-off").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "Enter the receiving VLO's user name" in summary
    assert await page.get_by_label("Receiving region").input_value() == REGION  # kept
    assert handoff_rows(c.engine, case_ref) == []

    await page.get_by_label("Receiving VLO").fill("vlo.smith")
    await page.get_by_role("button", name="Request hand-off").click()
    [row] = handoff_rows(c.engine, case_ref)
    assert row.handoff_id in await banner(page)
    assert "Requested" in await page.locator("main").inner_text()

    await page.get_by_role("link", name="Record the case information supplied").click()
    await assert_accessible(Axe(), page, "hand-off supply")
    await page.get_by_role("button", name="Record supplied").click()
    assert page.url == f"{c.url}/cases/{case_ref}"
    await eventually(lambda: handoff_rows(c.engine, case_ref)[0].step is HandoffStep.SUPPLIED)
    await page.goto(f"{c.url}/cases/{case_ref}")  # a fresh load (reload lost the page once)
    await page.get_by_role("link", name="Record the hand-off accepted").click()
    await page.get_by_role("button", name="Record accepted").click()
    assert page.url == f"{c.url}/cases/{case_ref}"
    case = case_row(c.engine, case_ref)
    assert (case.provider, case.responsible_vlo) == (Provider.NPS, "vlo.smith")
    await page.goto(f"{c.url}/cases/{case_ref}")  # a fresh load (reload lost the page once)
    assert "No hand-off in progress" in await page.locator("main").inner_text()
    assert "Hand-off switched" in await page.locator("#happened").inner_text()


async def test_a_handoff_is_withdrawn_with_its_reason_and_a_crc_reports_an_event(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = await crc_case(vcs)
    await vcs.request_handoff(
        case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, "vlo.smith", MANAGER_ACTOR
    )
    page = await signed_in(browser, c, "manager.evans")
    await page.goto(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("link", name="Withdraw the hand-off").click()
    await page.get_by_role("button", name="Withdraw hand-off").click()
    assert "Choose why it is withdrawn" in await page.locator(".govuk-error-summary").inner_text()
    assert handoff_rows(c.engine, case_ref)[0].step is HandoffStep.REQUESTED
    await assert_accessible(Axe(), page, "hand-off withdrawal with errors")
    await page.get_by_label("It was requested in error").check()
    await page.get_by_role("button", name="Withdraw hand-off").click()
    assert "stays with CRC" in await banner(page)
    [row] = handoff_rows(c.engine, case_ref)
    assert (row.step, row.withdrawn_reason) == (
        HandoffStep.WITHDRAWN,
        WithdrawalReason.REQUESTED_IN_ERROR,
    )
    assert case_row(c.engine, case_ref).provider is Provider.CRC

    # A CRC's event report: a date in the future is refused by the engine, nothing recorded.
    await page.get_by_role("link", name="Report a CRC event").click()
    await page.get_by_label("Breach of licence").check()
    await page.get_by_label("Date it happened").fill("2026-02-30")
    await page.get_by_role("button", name="Report event").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "Enter the date the event happened as a real date" in summary
    assert crc_tasks(c.engine, case_ref) == []
    await page.get_by_label("Date it happened").fill(str(today()))
    await page.get_by_role("button", name="Report event").click()
    assert page.url == f"{c.url}/cases/{case_ref}"
    await eventually(lambda: crc_tasks(c.engine, case_ref))


async def test_others_are_refused_the_case_and_its_handoff(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, vcs = site
    case_ref = await crc_case(vcs)
    wales = await signed_in(browser, c, "vlo.wales")
    for path in ("", "/handoff", "/crc-event"):
        response = await wales.goto(f"{c.url}/cases/{case_ref}{path}")
        assert response is not None and response.status == 403, path
    assert "may not view case for a case of another region" in await wales.content()

    # A VLO of the region sees the case but may not hand it off: not offered, and refused.
    page = await signed_in(browser, c, "vlo.demo")
    await page.goto(f"{c.url}/cases/{case_ref}")
    assert await page.get_by_role("link", name="Hand off this case").count() == 0
    response = await page.goto(f"{c.url}/cases/{case_ref}/handoff")
    assert response is not None and response.status == 403
    assert "may not hand off" in await page.content()
    assert handoff_rows(c.engine, case_ref) == []


async def test_a_manager_starts_pauses_and_resumes_a_bulk_transfer(
    browser: Browser, site: tuple[Console, Vcs]
) -> None:
    c, _ = site
    vlo = await signed_in(browser, c, "vlo.demo")
    response = await vlo.goto(f"{c.url}/bulk-transfers")
    assert response is not None and response.status == 403

    page = await signed_in(browser, c, "manager.evans")
    await page.goto(f"{c.url}/region")
    await page.get_by_role("link", name="Start a bulk transfer").click()
    await page.get_by_label("Cases at a time").fill("0")
    await page.get_by_role("button", name="Start bulk transfer").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    for fix in ("Name the transfer", "Choose the provider the cases leave", "from 1 to 500"):
        assert fix in summary
    await assert_accessible(Axe(), page, "bulk transfer start with errors")

    await page.get_by_label("Name of the transfer").fill(BULK_ID)
    await page.get_by_role("group", name="Cases leave").get_by_label("CRC").check()
    await page.get_by_role("group", name="Cases go to").get_by_label("CRC").check()
    await page.get_by_label("Cases at a time").fill("20")
    await page.get_by_role("button", name="Start bulk transfer").click()
    summary = await page.locator(".govuk-error-summary").inner_text()
    assert "moves cases between two different providers" in summary
    missing = await page.goto(f"{c.url}/bulk-transfers/{BULK_ID}")
    assert missing is not None and missing.status == 404  # nothing was started

    await page.goto(f"{c.url}/bulk-transfers")
    await page.get_by_label("Name of the transfer").fill(BULK_ID)
    await page.get_by_role("group", name="Cases leave").get_by_label("CRC").check()
    await page.get_by_role("group", name="Cases go to").get_by_label("NPS").check()
    await page.get_by_role("button", name="Start bulk transfer").click()
    assert page.url == f"{c.url}/bulk-transfers/{BULK_ID}"
    assert "started paused" in await banner(page)
    assert "Paused" in await page.locator(".govuk-summary-list").inner_text()
    await assert_accessible(Axe(), page, "bulk transfer progress")
    await page.get_by_role("button", name="Resume transfer").click()
    assert page.url == f"{c.url}/bulk-transfers/{BULK_ID}"
    assert "Paused" not in await page.locator(".govuk-summary-list").inner_text()
