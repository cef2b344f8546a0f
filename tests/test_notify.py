"""Email and text messages through GOV.UK Notify, exactly once; letters in Welsh.

A fake Notify runs on 127.0.0.1 (a free port) in the test's event loop: it checks every request's
JWT as Notify does, records every notification, and finds them by reference. The letter activity
is synchronous (it runs in the worker's thread pool), so direct calls here go through a thread.
"""

import asyncio
import logging
import re
import string
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import jwt
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import notify
from activities.letter_bodies import BODIES
from activities.letter_wording import KEY_STAGE_WORDS, MONTHS, WORDING
from activities.letters import LetterActivities
from models.activity_requests import LetterRequest
from models.case_repository import register_case
from models.db import session_scope
from models.ids import victim_key
from models.records import AuditEntry, Correspondence
from models.victim_repository import add_victim
from models.vocabulary import (
    Channel,
    ContactLevel,
    KeyStage,
    Language,
    LetterKind,
    Stage,
    TaskKind,
)
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.fake_notify import API_KEY, EMAIL_TEMPLATE, SECRET, SERVICE_ID, FakeNotify, serving
from tests.helpers import VLO_ACTOR, audit_facts, eventually, registration, stage, tasks, victim
from worker import build_worker

NAME = "Alice Example"
EMAIL = "alice.example@example.org"
PHONE = "07700900123"
ADDRESS = "1 Test Street, Leeds"


# ---- the fake Notify (tests/fake_notify.py) ------------------------------------------------


@pytest.fixture
async def fake_notify(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeNotify]:
    async with serving() as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        yield fake


# ---- scenario builders ---------------------------------------------------------------------


@dataclass
class Scenario:
    engine: Engine
    case_id: int
    victim_id: int

    def request(
        self, kind: LetterKind = LetterKind.OFFER, key: str = "offer", **fields: Any
    ) -> LetterRequest:
        return LetterRequest(
            idempotency_key=f"test-{self.case_id}-{self.victim_id}:letter:{key}",
            case_id=self.case_id,
            victim_id=self.victim_id,
            kind=kind,
            **fields,
        )

    async def send(self, request: LetterRequest) -> int:
        """The activity as the worker runs it: synchronous, in a thread of its own."""
        return await asyncio.to_thread(LetterActivities(self.engine).send_letter, request)

    def row(self, request: LetterRequest) -> Correspondence:
        with session_scope(self.engine) as session:
            return session.exec(
                select(Correspondence).where(
                    Correspondence.idempotency_key == request.idempotency_key
                )
            ).one()

    def rows(self) -> list[Correspondence]:
        with session_scope(self.engine) as session:
            return list(
                session.exec(
                    select(Correspondence).where(Correspondence.victim_id == self.victim_id)
                ).all()
            )


def scenario(engine: Engine, channel: Channel, **extra: object) -> Scenario:
    case_ref = unique_ref()
    registered = register_case(engine, registration(case_ref, date.today()), by="vlo.jones")
    fields: dict[str, object] = {"preferred_channel": channel, "email": EMAIL, "phone": PHONE}
    fields.update(extra)
    row = add_victim(engine, case_ref, victim(NAME, **fields), by="vlo.jones")
    assert registered.case.id is not None and row.id is not None
    return Scenario(engine, registered.case.id, row.id)


def personal_words(text: str) -> list[str]:
    """Whichever of the victim's details, or sentences of a letter, appear in `text`."""
    private = [NAME, EMAIL, PHONE, ADDRESS, "Victim Contact Scheme", "Cynllun Cyswllt"]
    return [word for word in private if word in text]


# ---- exactly once --------------------------------------------------------------------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_email_victims_offer_letter_is_sent_once_however_often_the_activity_runs(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    fake_notify: FakeNotify,
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, today), actor=VLO_ACTOR)
        victim_id, added = await vcs.add_victim(
            case_ref,
            victim(NAME, preferred_channel=Channel.EMAIL, email=EMAIL),
            actor=VLO_ACTOR,
        )
        [offer_task] = await eventually(lambda: tasks(engine, victim_id))
        assert added.offer_task_id == offer_task.id  # the answer names the task it opened
        assert offer_task.kind is TaskKind.OFFER_SCHEME and offer_task.id is not None
        await vcs.complete_task(offer_task.id, actor=VLO_ACTOR, outcome="emailed the offer")
        await eventually(lambda: fake_notify.notifications)

    key = f"{victim_key(case_ref, victim_id)}:letter:offer"
    reference = notify.reference_for(key)
    [sent] = fake_notify.notifications
    assert sent["type"] == "email" and sent["recipient"] == EMAIL
    assert sent["reference"] == reference
    assert sent["personalisation"]["subject"] == "Victim Contact Scheme"
    assert sent["personalisation"]["body"].startswith(f"Dear {NAME},")
    assert ADDRESS not in sent["personalisation"]["body"]  # an email carries no postal address
    assert fake_notify.auth_failures == 0

    with session_scope(engine) as session:
        case_id = session.exec(
            select(Correspondence.case_id).where(Correspondence.idempotency_key == key)
        ).one()
    s = Scenario(engine, case_id, victim_id)
    request = LetterRequest(
        idempotency_key=key, case_id=case_id, victim_id=victim_id, kind=LetterKind.OFFER
    )
    row = s.row(request)
    assert row.provider_id == sent["id"] and row.sent_at is not None

    # A retry of the same activity (same idempotency key): the same row, nothing sent.
    assert await s.send(request) == row.id
    assert await s.send(request) == row.id
    assert len(fake_notify.notifications) == 1

    # A crash after Notify took the message but before the row recorded it: the next attempt
    # finds the message by its reference and records it instead of sending again.
    with session_scope(engine) as session:
        stored = session.get(Correspondence, row.id)
        assert stored is not None
        stored.provider_id, stored.sent_at = None, None
        session.add(stored)
    assert await s.send(request) == row.id
    assert len(fake_notify.notifications) == 1
    assert s.row(request).provider_id == sent["id"]
    assert [r.kind for r in s.rows()] == [LetterKind.OFFER]


async def test_text_message_victim_is_sent_one_text(
    engine: Engine, fake_notify: FakeNotify
) -> None:
    s = scenario(engine, Channel.PHONE)
    request = s.request(LetterKind.OPT_IN_CONFIRMED, "opt-in-1")
    first = await s.send(request)
    assert await s.send(request) == first
    [sent] = fake_notify.notifications
    assert sent["type"] == "sms" and sent["recipient"] == PHONE
    assert sent["personalisation"] == {"body": s.row(request).body}
    assert s.row(request).provider_id == sent["id"]
    assert fake_notify.posts == 1
    with session_scope(engine) as session:
        audit = session.exec(
            select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.victim_id == s.victim_id)
        ).all()
    sent_facts = {"letter": s.row(request).id, "kind": "opt_in_confirmed", "channel": "phone"}
    assert ("letter_sent", sent_facts) in [(a, audit_facts(d)) for a, d in audit]


async def test_letter_victim_is_not_sent_anything_through_notify(
    engine: Engine, fake_notify: FakeNotify
) -> None:
    s = scenario(engine, Channel.LETTER)
    request = s.request()
    await s.send(request)
    assert fake_notify.notifications == [] and fake_notify.lookups == 0
    row = s.row(request)
    assert row.sent_at is None and row.provider_id is None
    assert row.body.startswith(f"{NAME}\n{ADDRESS}\nLS1 1AA\n\nDear {NAME},")


async def test_lost_response_then_retry_yields_one_notification(
    engine: Engine, fake_notify: FakeNotify
) -> None:
    s = scenario(engine, Channel.EMAIL)
    request = s.request()
    fake_notify.lose_next_post = True
    with pytest.raises(ApplicationError) as failure:
        await s.send(request)
    assert not failure.value.non_retryable and failure.value.type == "NotifyUnavailable"
    assert "HTTP 500" in str(failure.value)
    assert len(fake_notify.notifications) == 1  # Notify has it; the row does not know
    assert s.row(request).sent_at is None

    await s.send(request)  # Temporal's retry
    [sent] = fake_notify.notifications
    assert fake_notify.posts == 1  # found by reference, not sent again
    row = s.row(request)
    assert row.provider_id == sent["id"] and row.sent_at is not None
    assert len(s.rows()) == 1


async def test_concurrent_attempts_send_once(engine: Engine, fake_notify: FakeNotify) -> None:
    """An attempt that outlived its timeout is still talking to Notify when the retry starts:
    the row's lock makes the retry wait, then find the message sent."""
    s = scenario(engine, Channel.EMAIL)
    request = s.request()
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VCS_NOTIFY_BASE_URL")
        letter_id = await s.send(request)  # the row exists before either attempt sends
    fake_notify.delay = 0.5
    results = list(await asyncio.gather(s.send(request), s.send(request)))
    assert results == [letter_id, letter_id]
    assert len(fake_notify.notifications) == 1 and fake_notify.posts == 1


@pytest.mark.parametrize(
    ("channel", "contact"),
    [
        (Channel.EMAIL, {"email": "alice.example.example.org"}),
        (Channel.PHONE, {"phone": "07700 9OO123"}),
    ],
)
async def test_invalid_address_or_number_is_undelivered_and_not_retried(
    engine: Engine, fake_notify: FakeNotify, channel: Channel, contact: dict[str, str]
) -> None:
    """Only a recipient error (Notify's 400 ValidationError on email_address / phone_number)
    means the message cannot be delivered: the letter's workflow opens the undelivered task."""
    s = scenario(engine, channel, **contact)
    request = s.request()
    with pytest.raises(ApplicationError) as failure:
        await s.send(request)
    assert failure.value.non_retryable and failure.value.type == "NotifyRejected"
    kind = "email" if channel is Channel.EMAIL else "sms"
    assert failure.value.message == (
        f"Notify send {kind}: HTTP 400 ValidationError: the recipient's address or number is not "
        "valid"
    )
    [given] = contact.values()  # (the parameter is shared by both backends: never mutated)
    assert personal_words(str(failure.value)) == [] and given not in str(failure.value)
    assert fake_notify.notifications == []
    row = s.row(request)  # the outbox keeps it for the admin team, and says why
    assert row.sent_at is None and row.provider_id is None
    assert row.delivery_status == "rejected"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_notify_outage_is_retryable(
    engine: Engine, fake_notify: FakeNotify, status: int
) -> None:
    s = scenario(engine, Channel.PHONE)
    fake_notify.answer_posts_with = status
    with pytest.raises(ApplicationError) as failure:
        await s.send(s.request())
    assert not failure.value.non_retryable and failure.value.type == "NotifyUnavailable"
    fake_notify.answer_posts_with = None
    await s.send(s.request())
    assert len(fake_notify.notifications) == 1


async def test_notify_timeout_and_refused_connection_are_retryable(
    fake_notify: FakeNotify,
) -> None:
    config = notify.NotifyConfig.from_api_key(
        fake_notify.url, API_KEY, email_template_id=EMAIL_TEMPLATE, timeout=0.2
    )
    fake_notify.delay = 1.0
    with pytest.raises(ApplicationError) as failure:
        await asyncio.to_thread(
            notify.NotifyClient(config).send_email, EMAIL, "subject", "text", "vcs-x"
        )
    assert not failure.value.non_retryable and "no answer within 0.2 s" in str(failure.value)

    closed = notify.NotifyConfig.from_api_key("http://127.0.0.1:9", API_KEY)  # discard port
    with pytest.raises(ApplicationError) as failure:
        await asyncio.to_thread(notify.NotifyClient(closed).find, "vcs-x")
    assert not failure.value.non_retryable and failure.value.type == "NotifyUnavailable"


async def test_unconfigured_notify_leaves_the_row_for_manual_handling(
    engine: Engine,
    fake_notify: FakeNotify,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("VCS_NOTIFY_BASE_URL")
    s = scenario(engine, Channel.EMAIL)
    request = s.request()
    with caplog.at_level(logging.DEBUG):
        letter_id = await s.send(request)
    assert fake_notify.notifications == [] and fake_notify.lookups == 0
    row = s.row(request)
    assert row.sent_at is None and row.provider_id is None and row.body
    [record] = [r for r in caplog.records if "notify not configured" in r.getMessage()]
    assert str(letter_id) in record.getMessage()
    assert personal_words(caplog.text) == []


async def test_logs_and_errors_hold_no_personal_data(
    engine: Engine, fake_notify: FakeNotify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email_victim = scenario(engine, Channel.EMAIL)
    text_victim = scenario(engine, Channel.PHONE)
    await email_victim.send(email_victim.request())
    await text_victim.send(text_victim.request(LetterKind.CHASE, "chase"))
    fake_notify.answer_posts_with = 400
    with pytest.raises(ApplicationError) as failure:
        await email_victim.send(email_victim.request(LetterKind.CHASE, "chase"))
    fake_notify.answer_posts_with = None
    fake_notify.lose_next_post = True
    with pytest.raises(ApplicationError) as lost:
        await text_victim.send(text_victim.request(LetterKind.OFFER, "offer"))
    await text_victim.send(text_victim.request(LetterKind.OFFER, "offer"))

    assert len(fake_notify.notifications) == 3
    assert "sent through Notify" in caplog.text  # the logs were captured
    assert personal_words(caplog.text) == []
    assert personal_words(str(failure.value)) == [] and personal_words(str(lost.value)) == []
    for sent in fake_notify.notifications:  # no line of any message, and opaque references
        assert sent["personalisation"]["body"].splitlines()[2] not in caplog.text
        assert re.fullmatch(r"vcs-[0-9a-f]{32}", sent["reference"])


def test_reference_is_opaque_and_stable() -> None:
    key = "vcs-case-LDS-2026-0042:victim-17:letter:offer"
    reference = notify.reference_for(key)
    assert reference == notify.reference_for(key)
    assert re.fullmatch(r"vcs-[0-9a-f]{32}", reference)
    assert "LDS" not in reference and "offer" not in reference
    assert notify.reference_for(key + "x") != reference


def test_token_is_a_notify_jwt() -> None:
    config = notify.NotifyConfig.from_api_key("http://notify.test/", API_KEY)
    assert config.base_url == "http://notify.test"
    assert SECRET not in repr(config)
    token = notify.NotifyClient(config).token()
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == SERVICE_ID
    assert abs(claims["iat"] - time.time()) < 5
    with pytest.raises(ApplicationError, match="VCS_NOTIFY_API_KEY") as failure:
        notify.NotifyConfig.from_api_key("http://notify.test", "not-a-key")
    assert not failure.value.non_retryable  # mends when the worker restarts with the key


# ---- Welsh ---------------------------------------------------------------------------------


async def test_welsh_letters_render_in_welsh_with_the_month_in_welsh(
    engine: Engine, fake_notify: FakeNotify
) -> None:
    release = date(2028, 5, 19)
    s = scenario(engine, Channel.LETTER, language=Language.WELSH)
    invited = s.request(
        LetterKind.REPRESENTATIONS_INVITED,
        "reps",
        release_on=release,
        due_on=date(2028, 3, 7),
    )
    released = s.request(LetterKind.RELEASE, "release", release_on=release)
    key_stage = s.request(LetterKind.KEY_STAGE, "ks", key_stage=KeyStage.OPEN_CONDITIONS)
    for request in (invited, released, key_stage):
        await s.send(request)

    invited_body = s.row(invited).body
    assert invited_body.startswith(f"{NAME}\n{ADDRESS}\nLS1 1AA\n\nAnnwyl {NAME},")
    assert "tua mis Mai 2028" in invited_body
    assert "erbyn 7 Mawrth 2028" in invited_body
    assert invited_body.endswith("Yn gywir,\nSwyddog Cyswllt â Dioddefwyr, y Gwasanaeth Prawf")

    release_body = s.row(released).body
    assert "Cafodd y troseddwr ei ryddhau ar drwydded ym mis Mai 2028." in release_body
    for disclosed in ("19 Mai", "2028-05-19", "May", "Dear", "released"):
        assert disclosed not in release_body  # the month only, and no English
    assert s.row(released).language is Language.WELSH

    assert "mae'r troseddwr wedi symud i amodau agored" in s.row(key_stage).body
    assert fake_notify.notifications == []  # a letter is printed, not sent


async def test_welsh_email_is_sent_in_welsh(engine: Engine, fake_notify: FakeNotify) -> None:
    s = scenario(engine, Channel.EMAIL, language=Language.WELSH)
    await s.send(s.request(LetterKind.RELEASE, "release", release_on=date(2029, 12, 2)))
    [sent] = fake_notify.notifications
    assert sent["personalisation"]["subject"] == "Cynllun Cyswllt â Dioddefwyr"
    body = sent["personalisation"]["body"]
    assert body.startswith(f"Annwyl {NAME},") and "ym mis Rhagfyr 2029" in body
    assert ADDRESS not in body


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_letter_has_an_english_and_a_welsh_template() -> None:
    assert set(BODIES) == set(Language) == set(WORDING) == set(MONTHS) == set(KEY_STAGE_WORDS)
    for language in Language:
        assert set(BODIES[language]) == set(LetterKind), language
        assert set(KEY_STAGE_WORDS[language]) == set(KeyStage), language
        assert len(MONTHS[language]) == 12
    for kind in LetterKind:
        english, welsh = BODIES[Language.ENGLISH][kind], BODIES[Language.WELSH][kind]
        assert placeholders(english) == placeholders(welsh), kind
        assert english != welsh, kind
    assert MONTHS[Language.WELSH][4] == "Mai" and MONTHS[Language.WELSH][11] == "Rhagfyr"


@pytest.mark.usefixtures("cleanup_workflows")
async def test_refused_email_opens_a_vlo_task_and_the_case_goes_on(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    fake_notify: FakeNotify,
) -> None:
    """Notify refuses the email (a bad address): the letter stays in the outbox, a VLO task
    says to reach the victim another way, and the victim's workflow carries on."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    bad_address = "alice.example.example.org"  # Notify: "email_address Not a valid email address"
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, today), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(
            case_ref,
            victim(NAME, preferred_channel=Channel.EMAIL, email=bad_address),
            actor=VLO_ACTOR,
        )
        [offer_task] = await eventually(lambda: tasks(engine, victim_id))
        assert offer_task.id is not None
        await vcs.complete_task(offer_task.id, actor=VLO_ACTOR, outcome="emailed the offer")
        [undelivered] = await eventually(lambda: tasks(engine, victim_id))
        assert undelivered.kind is TaskKind.UNDELIVERED
        assert NAME not in undelivered.title and bad_address not in undelivered.title
        assert stage(engine, victim_id) is Stage.OFFERED
        await vcs.opt_in(victim_id, ContactLevel.RELEASE_ONLY, actor=VLO_ACTOR)
        assert stage(engine, victim_id) is Stage.OPTED_IN
    assert fake_notify.notifications == []
    assert [r.kind for r in Scenario(engine, 0, victim_id).rows()][:1] == [LetterKind.OFFER]
