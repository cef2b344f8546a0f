"""What becomes of an email or text after the letter activity hands it to Notify
(activities/delivery.py, workflows/delivery.py): configuration faults are retried and alerted,
never a VLO task; a text message stays within Notify's 918 characters; every message is followed
to a final status, and a permanent failure opens the undelivered task exactly once.

Everything runs against the fake Notify (tests/fake_notify.py), which answers as Notify does.
"""

import asyncio
import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.delivery import (
    CONFIG_FAULT_METRIC,
    CUT_NOTE,
    SMS_CHAR_COUNT_LIMIT,
    DeliveryActivities,
    fit_text_message,
)
from activities.letter_wording import WORDING
from activities.letters import LetterActivities
from cli.tasks import print_timeline
from models.db import session_scope
from models.delivery import DeliveryPollInput, LetterUndelivered, StatusPollResult
from models.parole import ParoleTimetable
from models.records import Correspondence, LicenceCondition
from models.vocabulary import Channel, ConditionKind, Language, LetterKind, TaskKind
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.fake_notify import FakeNotify, serving_in_thread
from tests.helpers import VLO_ACTOR, eventually, registration, tasks, victim
from tests.test_notify import EMAIL, NAME, PHONE, fake_notify, personal_words, scenario
from tests.test_parole import parole_case, parole_tasks, refer
from worker import build_worker
from workflows.case import case_workflow_id
from workflows.delivery import UNDELIVERED_SIGNAL, DeliveryStatusWorkflow

__all__ = ["fake_notify"]  # fixtures, shared with their own modules

# ---- configuration faults ------------------------------------------------------------------

# Notify's refusals that are our configuration or our content, as Notify words them
# (docs.notifications.service.gov.uk "Error codes"), and the words our message names them by.
CONFIG_FAULTS = [
    (403, "AuthError", "Invalid token: API key not found", "API key is revoked or unknown"),
    (
        403,
        "AuthError",
        "Error: Your system clock must be accurate to within 30 seconds",
        "clock is more than 30 s",
    ),
    (401, "AuthError", "Unauthorized: authentication token must be provided", "API key"),
    (400, "BadRequestError", "Template not found", "template id is not a template"),
    (400, "ValidationError", "template_id is not a valid UUID", "template id is not valid"),
    (
        400,
        "BadRequestError",
        "sms template is not suitable for email notification",
        "wrong type",
    ),
    (400, "BadRequestError", "Missing personalisation: body", "placeholders"),
    (
        400,
        "BadRequestError",
        "Can't send to this recipient using a team-only API key",
        "team-only API key",
    ),
    (
        400,
        "BadRequestError",
        "Can't send to this recipient when service is in trial mode - see "
        "https://www.notifications.service.gov.uk/trial-mode",
        "trial mode",
    ),
    (400, "BadRequestError", "Service is not allowed to send emails", "not allowed to send"),
    (
        400,
        "BadRequestError",
        "Your message is too long. Text messages cannot be longer than 918 characters. Your "
        "message is 1040 characters long.",
        "too long",
    ),
]


@pytest.mark.parametrize(("status", "error", "message", "words"), CONFIG_FAULTS)
async def test_configuration_fault_is_retried_not_undelivered(
    engine: Engine, fake_notify: FakeNotify, status: int, error: str, message: str, words: str
) -> None:
    """A revoked key, a clock out, a wrong template, a team-only or trial key, a service not
    allowed, a message too long: the same for every letter. Retryable (never NotifyRejected, so
    no per-letter VLO task), named in our words; the letter goes once the fault is mended."""
    s = scenario(engine, Channel.EMAIL)
    request = s.request()
    fake_notify.refuse_posts_with = (status, error, message)
    with pytest.raises(ApplicationError) as failure:
        await s.send(request)
    err = failure.value
    assert err.type == "NotifyConfigFault" and not err.non_retryable
    assert err.message.startswith(f"Notify send email: HTTP {status} {error}: ")
    assert words in err.message and "letters wait until the Notify settings are mended" in (
        err.message
    )
    assert message not in err.message  # Notify's own words are never repeated
    assert personal_words(err.message) == []
    row = s.row(request)
    assert row.sent_at is None and row.delivery_status == "config-fault"

    fake_notify.refuse_posts_with = None  # ops mend the setting: the next retry sends it
    await s.send(request)
    [sent] = fake_notify.notifications
    row = s.row(request)
    assert row.provider_id == sent["id"] and row.delivery_status == "created"


def test_configuration_fault_backs_off_and_counts_a_metric(engine: Engine) -> None:
    """Ops see it: each failed attempt adds one to `vcs_notify_config_faults` on the worker's
    metrics, and the retry waits longer each time (1, 2, 4 ... minutes, at most 30)."""
    buffer = MetricBuffer(1000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    s = scenario(engine, Channel.EMAIL)
    delays = []
    with serving_in_thread() as fake, pytest.MonkeyPatch.context() as patch:
        for name, value in fake.env().items():
            patch.setenv(name, value)
        fake.refuse_posts_with = (403, "AuthError", "Invalid token: API key not found")
        for attempt in (1, 2, 3, 7):
            env = ActivityEnvironment()
            env.metric_meter = runtime.metric_meter
            env.info = dataclasses.replace(env.info, attempt=attempt)
            with pytest.raises(ApplicationError) as failure:
                env.run(LetterActivities(engine).send_letter, s.request())
            delays.append(failure.value.next_retry_delay)
        assert fake.notifications == []
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 30)]
    counted = [
        update.value
        for update in buffer.retrieve_updates()
        if update.metric.name == CONFIG_FAULT_METRIC
    ]
    assert sum(counted) == 4


async def email_victim_to_offer(env: WorkflowEnvironment, vcs: Vcs) -> tuple[str, int, str, int]:
    """A new case with one victim who chose email, up to the VLO's offer task: (case ref,
    victim id, the workflow holding the victim (the case's), the offer task's id)."""
    case_ref = unique_ref()
    today = (await env.get_current_time()).date()
    await vcs.register_case(registration(case_ref, today), actor=VLO_ACTOR)
    victim_id, _ = await vcs.add_victim(
        case_ref, victim(NAME, preferred_channel=Channel.EMAIL, email=EMAIL), actor=VLO_ACTOR
    )
    [offer_task] = await eventually(lambda: tasks(vcs.engine, victim_id))
    assert offer_task.id is not None
    return case_ref, victim_id, case_workflow_id(case_ref), offer_task.id


@pytest.mark.usefixtures("cleanup_workflows")
async def test_revoked_key_opens_no_task_and_the_letter_goes_once_mended(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    fake_notify: FakeNotify,
) -> None:
    """Through the workflow: the letter activity fails with a clear message ops can see in the
    Web UI (its pending activity's last failure), no undelivered task is opened, and when the
    key is mended the email is sent once."""
    env = time_skipping_env
    vcs = Vcs(env.client, engine, task_queue)
    fake_notify.refuse_posts_with = (403, "AuthError", "Invalid token: API key not found")
    async with build_worker(env.client, engine, task_queue):
        _, victim_id, workflow_id, offer_task = await email_victim_to_offer(env, vcs)
        # The VLO's action sends the offer letter: it is answered once the letter has gone.
        completing = asyncio.create_task(
            vcs.complete_task(offer_task, actor=VLO_ACTOR, outcome="emailed the offer")
        )

        async def failing_letter() -> str:
            description = await env.client.get_workflow_handle(workflow_id).describe()
            for pending in description.raw_description.pending_activities:
                # The letter's step, alone or with the action's other steps (workflows/steps.py).
                name = f"{pending.activity_type.name} {pending.activity_id}"
                letter = "send_letter" in name
                if letter and pending.HasField("last_failure"):
                    # As the Web UI shows it to ops holding the codec's decode role.
                    failure = await env.client.data_converter.decode_failure(pending.last_failure)
                    return str(failure)
            return ""

        message = ""
        for _ in range(300):
            message = await failing_letter()
            if message:
                break
            await asyncio.sleep(0.1)
        assert "HTTP 403 AuthError: the API key is revoked or unknown" in message
        assert personal_words(message) == []
        assert [t.kind for t in tasks(engine, victim_id)] == []  # no per-letter task

        fake_notify.refuse_posts_with = None
        await env.sleep(timedelta(minutes=5))  # past the retry's delay
        [sent] = await eventually(lambda: list(fake_notify.notifications))
        assert sent["recipient"] == EMAIL
        await completing
        assert [t.kind for t in tasks(engine, victim_id)] == []
    assert len(fake_notify.notifications) == 1


# ---- text messages within Notify's limit -----------------------------------------------------


def conditions(engine: Engine, case_id: int, count: int) -> list[int]:
    with session_scope(engine) as session:
        rows = [
            LicenceCondition(
                case_id=case_id,
                kind=ConditionKind.NO_CONTACT,
                description=f"Condition {n}: not to contact the victim or any member of the "
                "victim's family, directly or indirectly",
                victim_related=True,
                starts_on=date(2028, 5, 19),
                recorded_at=datetime.now(UTC),
            )
            for n in range(1, count + 1)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows if row.id is not None]


@pytest.mark.parametrize("language", [Language.ENGLISH, Language.WELSH])
async def test_text_message_with_many_conditions_stays_within_notifys_limit(
    engine: Engine, fake_notify: FakeNotify, language: Language
) -> None:
    """Fifteen licence conditions make a letter of some 1,700 characters: Notify refuses a text
    over 918. The text keeps whole lines as far as they fit, says it is cut and whom to ask, and
    keeps the sign-off; the outbox keeps the whole letter."""
    s = scenario(engine, Channel.PHONE, language=language)
    ids = conditions(engine, s.case_id, 15)
    request = s.request(LetterKind.CONDITIONS_IMPOSED, "conditions", condition_ids=ids)
    await s.send(request)
    [sent] = fake_notify.notifications
    text = sent["personalisation"]["body"]
    body = s.row(request).body
    assert len(body) > SMS_CHAR_COUNT_LIMIT  # the letter itself is longer than a text
    assert len(text) <= SMS_CHAR_COUNT_LIMIT
    assert sent["recipient"] == PHONE
    assert text.startswith(body.split("\n")[0])  # "Dear ..." / "Annwyl ..."
    assert "Condition 1:" in text and "Condition 15:" not in text
    assert all(
        line in body.splitlines()
        for line in text.split(f"\n\n{CUT_NOTE[language]}")[0].splitlines()
    )
    assert text.endswith(f"\n\n{CUT_NOTE[language]}\n\n{WORDING[language].sign_off}")


def test_short_text_is_sent_as_it_is_and_a_single_long_line_is_cut_inside() -> None:
    short = "Dear A,\n\nThank you.\n\nYours sincerely,\nVLO"
    assert fit_text_message(short, Language.ENGLISH) == short
    long_line = "Dear A,\n\n" + "word " * 400 + "\n\nYours sincerely,\nVLO"
    cut = fit_text_message(long_line, Language.ENGLISH)
    assert len(cut) <= SMS_CHAR_COUNT_LIMIT and cut.startswith("Dear A,\n\nword word")
    assert cut.endswith(f"{CUT_NOTE[Language.ENGLISH]}\n\nYours sincerely,\nVLO")


# ---- following each message to a final status ------------------------------------------------


async def poll(engine: Engine, run_id: str) -> StatusPollResult:
    return await asyncio.to_thread(
        DeliveryActivities(engine).poll_statuses, DeliveryPollInput(), run_id
    )


@pytest.mark.parametrize("failure", ["permanent-failure", "temporary-failure", "technical-failure"])
async def test_each_message_is_followed_to_a_final_status_and_told_once(
    engine: Engine, fake_notify: FakeNotify, failure: str
) -> None:
    """Notify's statuses are read until final; a failure (the victim has not been told) is
    returned for its workflow exactly once: again to a retry of the same run, never to a later
    run, and a final message is never asked about again."""
    emailed = scenario(engine, Channel.EMAIL)
    texted = scenario(engine, Channel.PHONE)
    email_request, text_request = emailed.request(), texted.request()
    await emailed.send(email_request)
    await texted.send(text_request)
    email_id, text_id = emailed.row(email_request).provider_id, texted.row(text_request).provider_id
    assert email_id and text_id

    fake_notify.set_status(text_id, "sending")
    first = await poll(engine, "run-1")  # Notify has not heard back yet
    assert first.undelivered == [] and first.final == 0 and first.checked == 2
    assert emailed.row(email_request).delivery_status == "created"
    assert texted.row(text_request).delivery_status == "sending"

    fake_notify.set_status(email_id, "delivered")
    fake_notify.set_status(text_id, failure)
    second = await poll(engine, "run-2")
    assert second.final == 2
    assert emailed.row(email_request).delivery_status == "delivered"
    assert texted.row(text_request).delivery_status == failure
    [(workflow_id, notice)] = second.undelivered
    assert (workflow_id, notice.key) == (f"test-{texted.case_id}-{texted.victim_id}", "offer")
    assert (notice.victim_id, notice.kind) == (texted.victim_id, LetterKind.OFFER)

    lookups = fake_notify.status_lookups
    assert (await poll(engine, "run-2")).undelivered == second.undelivered  # a retry of run 2
    third = await poll(engine, "run-3")
    assert third.undelivered == [] and third.checked == 0  # final: never read or told again
    assert fake_notify.status_lookups == lookups


async def test_messages_notify_no_longer_holds_are_not_followed(
    engine: Engine, fake_notify: FakeNotify
) -> None:
    s = scenario(engine, Channel.EMAIL)
    old, forgotten = s.request(key="old"), s.request(key="forgotten")
    await s.send(old)
    await s.send(forgotten)
    with session_scope(engine) as session:  # sent 8 days ago: past Notify's retention
        row = session.get(Correspondence, s.row(old).id)
        assert row is not None
        row.sent_at = datetime.now(UTC) - timedelta(days=8)
        session.add(row)
    forgotten_id = s.row(forgotten).provider_id
    assert forgotten_id
    fake_notify.forget(forgotten_id)
    result = await poll(engine, str(uuid.uuid4()))
    assert result.checked == 1 and result.final == 0  # only the recent one asked about
    assert fake_notify.status_lookups == 1
    assert s.row(forgotten).delivery_status == "created"


@pytest.mark.usefixtures("cleanup_workflows")
async def test_permanent_failure_opens_one_undelivered_task_and_the_outbox_shows_it(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    fake_notify: FakeNotify,
) -> None:
    env = time_skipping_env
    vcs = Vcs(env.client, engine, task_queue)
    async with build_worker(env.client, engine, task_queue):
        case_ref, victim_id, _, offer_task = await email_victim_to_offer(env, vcs)
        await vcs.complete_task(offer_task, actor=VLO_ACTOR, outcome="emailed the offer")
        [sent] = await eventually(lambda: list(fake_notify.notifications))
        fake_notify.set_status(sent["id"], "permanent-failure")
        # A failed message whose workflow is not running: the job tells the others all the same.
        orphan = scenario(engine, Channel.PHONE)
        await orphan.send(orphan.request())
        fake_notify.set_status(orphan.row(orphan.request()).provider_id or "", "permanent-failure")

        async def status_job() -> StatusPollResult:
            result: StatusPollResult = await env.client.execute_workflow(
                DeliveryStatusWorkflow.run,
                DeliveryPollInput(),
                id=f"vcs-delivery-status-test-{uuid.uuid4()}",
                task_queue=task_queue,
            )
            return result

        told = await status_job()
        assert len(told.undelivered) == 2
        [undelivered] = await eventually(lambda: tasks(engine, victim_id))
        assert undelivered.kind is TaskKind.UNDELIVERED
        assert NAME not in undelivered.title and EMAIL not in undelivered.title
        again = await status_job()
        assert again.undelivered == []
        await asyncio.sleep(0.5)
        every_task = tasks(engine, victim_id, open_only=False)
        assert [t.id for t in every_task if t.kind is TaskKind.UNDELIVERED] == [undelivered.id]

        lines: list[str] = []
        await print_timeline(vcs, VLO_ACTOR, case_ref, lines.append)
    [letter_line] = [line for line in lines if "letter offer queued" in line]
    assert letter_line.endswith("by email, undelivered (permanent failure: VLO task)")
    assert personal_words("\n".join(lines)) == []


@pytest.mark.usefixtures("cleanup_workflows")
async def test_parole_review_opens_one_undelivered_task_for_its_failed_letter(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A parole review sends letters too (its ID in their keys, under its case's workflow):
    told of a failed one, it opens the undelivered task for that victim, once however often it
    is told."""
    env = time_skipping_env
    start = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    async with build_worker(env.client, engine, task_queue):
        p = await parole_case(vcs, engine, start)
        timetable = ParoleTimetable(
            referred_on=start,
            vps_due_on=start + timedelta(days=30),
            hearing_on=start + timedelta(days=60),
        )
        await refer(vcs, p.case_ref, timetable)
        notice = LetterUndelivered(
            letter_id=1,
            victim_id=p.a,
            kind=LetterKind.PAROLE_INVITATION,
            key=f"invite-{p.a}",
            holder=p.review,
        )
        review = env.client.get_workflow_handle(case_workflow_id(p.case_ref))
        await review.signal(UNDELIVERED_SIGNAL, notice)
        await review.signal(UNDELIVERED_SIGNAL, notice)

        def undelivered() -> list[int | None]:
            return [t.id for t in parole_tasks(engine, p.a) if t.kind is TaskKind.UNDELIVERED]

        [task_id] = await eventually(undelivered)
        await asyncio.sleep(0.5)
        assert undelivered() == [task_id]
