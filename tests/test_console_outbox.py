"""The admin team's outbox in the browser: the letters their region must post, a print-ready
PDF (one letter, or those chosen) in the victim's language, marking them posted; nobody else
reaches it (tests/browser.py)."""

import io
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from models.db import session_scope
from models.records import AuditEntry, Correspondence
from models.vocabulary import Language, LetterKind
from tests.browser import Console, served, sign_in
from tests.cli_harness import today
from tests.conftest import unique_ref
from tests.helpers import eventually, letters, offered_and_opted_in, registration, victim, vlo_actor


@pytest.fixture
async def outbox(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[tuple[Console, dict[Language, int]]]:
    """A case with an English and a Welsh victim, each offered the scheme by letter."""
    case_ref = unique_ref("OUT")
    async with served(local_env, engine, task_queue, actions=False) as (c, vcs):
        await vcs.register_case(registration(case_ref, today()), actor=vlo_actor("vlo.demo"))
        english, _ = await vcs.add_victim(
            case_ref, victim("Alice Example"), actor=vlo_actor("vlo.demo")
        )
        welsh, _ = await vcs.add_victim(
            case_ref,
            victim("Bryn Enghraifft", language=Language.WELSH),
            actor=vlo_actor("vlo.demo"),
        )
        for victim_id in (english, welsh):
            await offered_and_opted_in(vcs, engine, victim_id, level=None)
            await eventually(lambda v=victim_id: LetterKind.OFFER in letters(engine, v))  # type: ignore[misc]
        ids = {}
        with session_scope(engine) as session:
            for language, victim_id in ((Language.ENGLISH, english), (Language.WELSH, welsh)):
                ids[language] = session.exec(
                    select(Correspondence.id).where(Correspondence.victim_id == victim_id)
                ).one()
        yield c, ids  # type: ignore[misc]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def signed_in(browser: Browser, c: Console, subject: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await sign_in(page, c, subject)
    return page


async def test_the_admin_prints_the_letters_and_marks_them_posted(
    browser: Browser, outbox: tuple[Console, dict[Language, int]]
) -> None:
    c, ids = outbox
    page = await signed_in(browser, c, "admin.clarke")
    assert page.url == c.url + "/outbox"  # the admin team's first page
    table = await page.get_by_role("table").inner_text()
    assert f"Letter {ids[Language.ENGLISH]}" in table and "Welsh" in table

    # One letter, as a PDF in the victim's language, addressed for a window envelope.
    response = await page.request.get(f"{c.url}/outbox/letters/{ids[Language.WELSH]}.pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    welsh = pdf_text(await response.body())
    assert "Annwyl Bryn Enghraifft" in welsh and "Dear" not in welsh
    assert "1 Test Street, Leeds" in welsh

    # Nothing chosen: the error summary, nothing changed.
    await page.get_by_role("button", name="Mark selected as posted").click()
    assert "Select at least one letter" in await page.locator(".govuk-error-summary").inner_text()

    # Both chosen: one PDF of the batch (what "Print selected letters" posts), each letter in
    # its own language; then marked posted and gone from the list.
    token = await page.locator("input[name=csrf_token]").first.input_value()
    chosen = "&".join(f"letter={i}" for i in ids.values())
    response = await page.request.post(
        c.url + "/outbox",
        data=f"csrf_token={token}&do=print&{chosen}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    batch = pdf_text(await response.body())
    assert "Dear Alice Example" in batch and "Annwyl Bryn Enghraifft" in batch
    for letter_id in ids.values():
        await page.get_by_label(f"Letter {letter_id}", exact=True).check()
    await page.get_by_role("button", name="Mark selected as posted").click()
    assert "2 letters marked as posted" in await page.content()
    assert "There are no letters waiting to be posted" in await page.content()
    with session_scope(c.engine) as session:
        posted = session.exec(
            select(Correspondence.posted_by).where(col(Correspondence.id).in_(ids.values()))
        ).all()
        assert posted == ["admin.clarke", "admin.clarke"]
        audited = session.exec(
            select(AuditEntry.actor).where(AuditEntry.action == "letter_posted")
        ).all()
        assert audited == ["admin.clarke", "admin.clarke"]


@pytest.mark.parametrize("subject", ["vlo.demo", "auditor.khan", "vlo.wales"])
async def test_only_the_admin_team_reaches_the_outbox(
    browser: Browser, outbox: tuple[Console, dict[Language, int]], subject: str
) -> None:
    c, ids = outbox
    page = await signed_in(browser, c, subject)
    response = await page.goto(c.url + "/outbox")
    assert response is not None and response.status == 403
    response = await page.goto(f"{c.url}/outbox/letters/{ids[Language.ENGLISH]}.pdf")
    assert response is not None and response.status == 403
