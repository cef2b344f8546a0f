"""The auditor's audit trail in the console, in a real browser (tests/browser.py): the hash chain
checked in plain words, the entries (IDs, kinds, dates, who: no personal data), the CLI's export
to download, a refusal for anyone else that is recorded and changes nothing, and a tampered
entry shown as the break."""

import json
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser
from sqlmodel import col, select, update

from models.case import OffenderCase
from models.db import session_scope
from models.records import AuditEntry
from tests.browser import Console, sign_in
from tests.test_console import assert_accessible, new_page, refusals, site  # noqa: F401


def audit_rows(console: Console) -> list[AuditEntry]:
    with session_scope(console.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


async def test_an_auditor_verifies_and_downloads_a_case_audit_trail(
    browser: Browser,
    site: tuple[Console, str],  # noqa: F811
) -> None:
    c, case_ref = site
    page = await new_page(browser, accept_downloads=True, bypass_csp=True)
    await sign_in(page, c, "auditor.khan")
    assert page.url == c.url + "/cases"
    await page.get_by_role("textbox").fill(case_ref)
    await page.get_by_role("button").filter(has_text="Find").click()
    await page.wait_for_url(f"{c.url}/cases/{case_ref}")
    await page.get_by_role("link", name="Audit trail").click()
    assert page.url == f"{c.url}/cases/{case_ref}/audit"
    assert await page.title() == f"Audit trail of case {case_ref} \N{EN DASH} Victim Contact Scheme"
    assert "The audit trail is intact" in await page.locator("#chain").inner_text()
    content = await page.content()
    assert "Alice Example" not in content and "Test Street" not in content
    shown = await page.locator("#entries tbody tr").count()
    await assert_accessible(Axe(), page, "audit trail")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the audit trail (JSON)").click()
    download = await info.value
    assert download.suggested_filename == f"{case_ref}-audit.jsonl"
    text = Path(await download.path()).read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == shown > 0
    assert {line["case_ref"] for line in lines} == {case_ref}
    assert "Alice" not in text and "Example" not in text
    response = await page.request.get(f"{c.url}/cases/{case_ref}/audit.jsonl")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment")


async def test_a_vlo_is_refused_the_audit_trail_and_nothing_changes(
    browser: Browser,
    site: tuple[Console, str],  # noqa: F811
) -> None:
    c, case_ref = site
    before = [(r.id, r.entry_hash) for r in audit_rows(c)]
    page = await new_page(browser)
    await sign_in(page, c, "vlo.demo")
    await page.goto(f"{c.url}/cases/{case_ref}")
    assert await page.get_by_role("link", name="Audit trail").count() == 0
    for path in ("audit", "audit.jsonl"):
        response = await page.goto(f"{c.url}/cases/{case_ref}/{path}")
        assert response is not None and response.status == 403
        assert await page.get_by_role("heading", level=1).inner_text() == "You cannot do this"
    assert refusals(c.engine).count(("vlo.demo", "export_audit", "own")) == 2
    assert [(r.id, r.entry_hash) for r in audit_rows(c)] == before


async def test_a_tampered_entry_shows_where_the_chain_breaks(
    browser: Browser,
    site: tuple[Console, str],  # noqa: F811
) -> None:
    c, case_ref = site
    with session_scope(c.engine) as session:
        case_id = session.exec(
            select(OffenderCase.id).where(OffenderCase.case_ref == case_ref)
        ).one()
    target = next(r for r in audit_rows(c) if r.case_id == case_id and r.sequence == 2)
    with session_scope(c.engine) as session:
        session.exec(
            update(AuditEntry).where(col(AuditEntry.id) == target.id).values(actor="someone.else")
        )
    page = await new_page(browser)
    await sign_in(page, c, "auditor.khan")
    await page.goto(f"{c.url}/cases/{case_ref}/audit")
    chain = await page.locator("#chain").inner_text()
    assert f"The audit trail is broken at entry {target.id}" in chain
    assert "its contents were altered" in chain
