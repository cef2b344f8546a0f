"""Parole Board reviews (workflows/review_path.py; domain.md 'Parole').

Deadlines and timers run under the time-skipping server: a deadline passing without a VPS, a
decision not recorded 14 days after the hearing, an adjournment moving every timer, and a
review (and its case) continuing as new. VLO actions whose dates are today's run on the dev
server (`local_env`): VPS received, encrypted at rest and sent to the Board (late or not), the
application to read it at an oral hearing, and bad input, each refusal changing nothing. The
command line is driven as a VLO types it (`cli`)."""

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.letter_wording import MONTHS
from activities.retention import RetentionActivities
from models.case import OffenderCase
from models.case_repository import register_case
from models.codec import CodecError, KeyRing, data_converter
from models.db import session_scope
from models.errors import VcsError
from models.hospital import HospitalBase
from models.hospital_repository import add_hospital
from models.parole import (
    ParolePolicy,
    ParoleTimetable,
    VictimPersonalStatement,
    parole_review_id,
    vps_lateness,
)
from models.parole_repository import add_vps
from models.records import AuditEntry, CaseNote, Correspondence, Representation, VloTask
from models.reports import ERASED, ErasureRequest
from models.sealed import Sealer
from models.victim_repository import add_victim
from models.vocabulary import (
    CaseStatus,
    ContactLevel,
    HandoffReason,
    KeyStage,
    Language,
    LetterKind,
    ParoleOutcome,
    Provider,
    TaskKind,
    TaskStatus,
)
from models.working_days import london_date
from service.actor import Role
from service.vcs import Vcs
from tests.cli_harness import VLO, Cli, case_args, count, today
from tests.cli_harness import add_victim as cli_add_victim
from tests.conftest import installed, unique_ref
from tests.helpers import (
    MANAGER_ACTOR,
    VLO_ACTOR,
    activity_calls,
    audit_facts,
    eventually,
    every_run,
    letter_bodies,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    settled,
    tasks,
    victim,
    vlo_actor,
)
from worker import build_worker
from workflows.case import case_workflow_id
from workflows.search import ensure_search_attributes

VPS_TEXT = "Since that night I cannot sleep; my children are afraid to walk to school."
OTHER_VPS = "I lost my job and my home because of what he did."


# ---- scenarios ------------------------------------------------------------------------------


@dataclass
class Parole:
    case_ref: str
    a: int  # opted in, all key stages
    b: int  # opted in, release only, Welsh
    c: int  # opted out
    d: int  # identified, never offered

    @property
    def review(self) -> str:
        return parole_review_id(self.case_ref, 1)


async def parole_case(vcs: Vcs, engine: Engine, sentenced: date, term_months: int = 48) -> Parole:
    """A case with four victims: two in the scheme, one opted out, one never offered."""
    case_ref = unique_ref("PAR")
    await vcs.register_case(
        registration(case_ref, sentenced, term_months=term_months), actor=MANAGER_ACTOR
    )
    ids = []
    for name, postcode, extra in (
        ("Ann Parole", "LS1 1AA", {}),
        ("Bryn Parole", "CF10 1AA", {"language": Language.WELSH}),
        ("Cat Parole", "LS3 3CC", {}),
        ("Dan Parole", "LS4 4DD", {}),
    ):
        victim_id, _ = await vcs.add_victim(
            case_ref, victim(name, postcode=postcode, **extra), actor=MANAGER_ACTOR
        )
        ids.append(victim_id)
    a, b, c, d = ids
    await offered_and_opted_in(vcs, engine, a, ContactLevel.ALL_KEY_STAGES)
    await offered_and_opted_in(vcs, engine, b, ContactLevel.RELEASE_ONLY)
    await offered_and_opted_in(vcs, engine, c, None)
    await vcs.opt_out(c, actor=MANAGER_ACTOR)
    await eventually(lambda: tasks(engine, d))  # d's offer task is open: identified only
    return Parole(case_ref, a, b, c, d)


async def refer(vcs: Vcs, case_ref: str, timetable: ParoleTimetable) -> str:
    """Refer the case and wait until the review has invited its victims (it does so on its
    own, after the referral is answered)."""
    result = await vcs.refer_parole(case_ref, timetable, actor=MANAGER_ACTOR)
    review = parole_review_id(case_ref, 1)
    await eventually(
        lambda: [
            e
            for e in audit_actions(vcs.engine, "parole_referred")
            if audit_facts(e.detail)["review"] == review
        ]
    )
    return result.message


def parole_tasks(
    engine: Engine, victim_id: int | None = None, *, open_only: bool = True
) -> list[VloTask]:
    return [
        t
        for t in tasks(engine, victim_id, open_only=open_only)
        if ":vcs-parole-" in t.task_key  # the review's own tasks, held by the case's workflow
    ]


def vps_rows(engine: Engine) -> list[VictimPersonalStatement]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(VictimPersonalStatement).order_by(col(VictimPersonalStatement.id))
            ).all()
        )


def audit_actions(engine: Engine, action: str) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def snapshot(engine: Engine) -> tuple[int, ...]:
    """What a refusal must leave as it was: statements, letters, tasks, audit entries."""
    return (
        count(engine, VictimPersonalStatement),
        count(engine, Correspondence),
        count(engine, VloTask),
        count(engine, VloTask, VloTask.status == TaskStatus.OPEN),
        count(engine, AuditEntry),
        count(engine, Representation),
    )


async def refused_without_change(
    vcs: Vcs, engine: Engine, case_ref: str, match: str, action: Any
) -> None:
    """The action is refused with a clear error naming the problem; nothing changes."""
    before_db = snapshot(engine)
    before_view = await vcs.parole_view(case_ref, MANAGER_ACTOR)
    with pytest.raises(VcsError, match=match):
        await action
    assert snapshot(engine) == before_db
    assert await vcs.parole_view(case_ref, MANAGER_ACTOR) == before_view


# ---- time-skipping: deadlines, the missing decision, outcome letters, summaries ---------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_review_without_a_vps_goes_on_past_the_deadline_to_a_decision_told_to_every_victim(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    start = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    async with build_worker(env.client, engine, task_queue):
        p = await parole_case(vcs, engine, start)
        due, hearing = start + timedelta(days=30), start + timedelta(days=60)
        message = await refer(
            vcs, p.case_ref, ParoleTimetable(referred_on=start, vps_due_on=due, hearing_on=hearing)
        )
        assert p.review in message

        # Victims in the scheme are invited, each with a VLO task due at the deadline; the
        # victim who opted out and the one never offered are not.
        for v in (p.a, p.b):
            assert LetterKind.PAROLE_INVITATION in letters(engine, v)
            [task] = parole_tasks(engine, v)
            assert (task.kind, task.due_on) == (TaskKind.PAROLE_VPS, due)
        [welsh] = letter_bodies(engine, p.b, LetterKind.PAROLE_INVITATION)
        assert "Datganiad Personol Dioddefwr" in welsh
        for v in (p.c, p.d):
            assert LetterKind.PAROLE_INVITATION not in letters(engine, v)
        assert (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).open_parole_review == p.review

        # The deadline passes with no VPS: the tasks close, the review goes on.
        await run_until(env, due)
        await eventually(lambda: not parole_tasks(engine, p.a) and not parole_tasks(engine, p.b))
        closed = parole_tasks(engine, open_only=False)
        assert {t.outcome for t in closed} == {"no VPS by deadline"}
        assert (await vcs.parole_view(p.case_ref, MANAGER_ACTOR)).deadline_passed
        assert not [t for t in tasks(engine) if t.kind is TaskKind.ESCALATION]
        # A VPS after the deadline is still sent, marked late, for the panel to decide.
        result = await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        assert "LATE" in result.message and "panel decides" in result.message
        assert letters(engine, p.a)[-1] is LetterKind.VPS_RECEIVED_LATE
        [late] = vps_rows(engine)
        assert late.late and late.late_reason and "after the deadline" in late.late_reason

        # No decision recorded 14 days after the hearing: a VLO task.
        expected = hearing + timedelta(days=ParolePolicy().decision_expected_days)
        await run_until(env, expected, extra_days=0)
        [overdue] = await eventually(
            lambda: [t for t in tasks(engine) if t.kind is TaskKind.PAROLE_DECISION_OVERDUE]
        )
        assert str(hearing) in overdue.title and review_of(overdue) == p.review

        decided, next_review = hearing + timedelta(days=10), start + timedelta(days=400)
        await vcs.record_parole_decision(
            p.case_ref, ParoleOutcome.NO_RELEASE, decided, next_review, actor=MANAGER_ACTOR
        )
        # Every victim in the scheme told, in their language, with the next review's month.
        [english] = letter_bodies(engine, p.a, LetterKind.PAROLE_NO_RELEASE)
        assert f"{next_review:%B %Y}" in english and next_review.isoformat() not in english
        [cymraeg] = letter_bodies(engine, p.b, LetterKind.PAROLE_NO_RELEASE)
        assert MONTHS[Language.WELSH][next_review.month - 1] in cymraeg
        assert "Bwrdd Parôl" in cymraeg
        for v in (p.c, p.d):
            assert not [k for k in letters(engine, v) if k.value.startswith("parole")]
        assert not [t for t in tasks(engine) if t.kind is TaskKind.PAROLE_DECISION_OVERDUE]

        # The case records the outcome and shows the next review.
        async def case_told() -> bool:
            view = await vcs.case_view(p.case_ref, MANAGER_ACTOR)
            return view.open_parole_review is None and view.latest_parole_review == p.review

        for _ in range(100):
            if await case_told():
                break
            await env.sleep(timedelta(seconds=1))
        view = await vcs.case_view(p.case_ref, MANAGER_ACTOR)
        assert view.open_parole_review is None
        assert any(s.on == next_review and "parole" in s.what for s in view.scheduled)
        [outcome] = audit_actions(engine, "parole_outcome")
        facts = audit_facts(outcome.detail)
        assert (facts["outcome"], facts["next_review_on"]) == ("no_release", str(next_review))

        # A summary of the Board's reasons, on request: a letter and a VLO task; once only, and
        # only for a victim told the outcome.
        await vcs.request_decision_summary(p.a, actor=MANAGER_ACTOR)
        assert letters(engine, p.a)[-1] is LetterKind.PAROLE_SUMMARY_REQUESTED
        [summary_task] = parole_tasks(engine, p.a)
        assert summary_task.kind is TaskKind.PAROLE_SUMMARY
        with pytest.raises(VcsError, match="already asked"):
            await vcs.request_decision_summary(p.a, actor=MANAGER_ACTOR)
        with pytest.raises(VcsError, match="was not told the outcome"):
            await vcs.request_decision_summary(p.c, actor=MANAGER_ACTOR)
        with pytest.raises(VcsError, match="was decided on"):
            await vcs.record_parole_decision(
                p.case_ref, ParoleOutcome.RELEASE, decided, None, actor=MANAGER_ACTOR
            )

        # The VLO sends the summary; the review ends once summary requests have closed.
        assert summary_task.id is not None
        await vcs.complete_task(summary_task.id, actor=MANAGER_ACTOR, outcome="summary sent")
        await run_until(env, decided + timedelta(days=ParolePolicy().summary_requests_open_days))
        assert await ends_skipping(env, vcs, p.case_ref)


def review_of(task: VloTask) -> str:
    """The review holding a task (its key: the case's workflow ID, the review's, the task's)."""
    return task.task_key.split(":")[1]


async def ended(vcs: Vcs, case_ref: str, review_id: str | None = None) -> bool:
    view = await vcs.parole_view(case_ref, MANAGER_ACTOR, review_id)
    return view.finished


async def completes(vcs: Vcs, case_ref: str) -> bool:
    """The case's latest review ends within ten seconds on the real clock (a dev server)."""
    for _ in range(100):
        if await ended(vcs, case_ref):
            return True
        await asyncio.sleep(0.1)
    return False


async def ends_skipping(env: WorkflowEnvironment, vcs: Vcs, case_ref: str) -> bool:
    for _ in range(100):
        if await ended(vcs, case_ref):
            return True
        await env.sleep(timedelta(hours=1))
    return False


@pytest.mark.usefixtures("cleanup_workflows")
async def test_adjournment_moves_every_timer_and_loses_nothing_across_continue_as_new(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    start = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    async with build_worker(env.client, engine, task_queue):
        # Ten years: the case is still in custody when the adjourned hearing comes.
        p = await parole_case(vcs, engine, start, term_months=120)
        due, hearing = start + timedelta(days=30), start + timedelta(days=60)
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(referred_on=start, vps_due_on=due, hearing_on=hearing),
        )
        await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        assert letters(engine, p.a)[-1] is LetterKind.VPS_RECEIVED  # in time: not late
        await vcs.apply_to_read(p.a, actor=MANAGER_ACTOR)
        await vcs.record_read_decision(p.a, True, actor=MANAGER_ACTOR)
        [b_task] = parole_tasks(engine, p.b)

        await run_until(env, start + timedelta(days=20), extra_days=0)
        # Adjourned past the case run's four-year span (workflows/common.py MAX_RUN_SPAN): the
        # review is open while its case continues as new.
        new_due, new_hearing = start + timedelta(days=1500), start + timedelta(days=1530)
        result = await vcs.adjourn_hearing(p.case_ref, new_hearing, new_due, actor=MANAGER_ACTOR)
        assert "1 VPS kept" in result.message
        # b, with no VPS yet, keeps the same task, re-dated, and is told the new deadline.
        [moved] = parole_tasks(engine, p.b)
        assert (moved.id, moved.due_on) == (b_task.id, new_due)
        assert letters(engine, p.b).count(LetterKind.PAROLE_INVITATION) == 2
        # a's statement stays with the Board; a (to read it at the hearing) is told.
        assert letters(engine, p.a).count(LetterKind.PAROLE_INVITATION) == 1
        assert letters(engine, p.a)[-1] is LetterKind.PAROLE_HEARING_ADJOURNED
        [vps] = vps_rows(engine)
        assert vps.forwarded_at is not None and vps.late is False

        # Past the old deadline and the old hearing's 14 days: nothing fires.
        await run_until(env, hearing + timedelta(days=20))
        assert [t.id for t in parole_tasks(engine)] == [b_task.id]
        with pytest.raises(VcsError, match="cannot be recorded before"):
            await vcs.record_parole_decision(
                p.case_ref, ParoleOutcome.RELEASE, hearing, None, actor=MANAGER_ACTOR
            )

        # The new deadline passes (the review has continued as new by then): b's task closes.
        await run_until(env, new_due)
        await eventually(lambda: not parole_tasks(engine, p.b))
        # 14 days after the new hearing with no decision: the task.
        await run_until(env, new_hearing + timedelta(days=14), extra_days=0)
        await eventually(
            lambda: [t for t in tasks(engine) if t.kind is TaskKind.PAROLE_DECISION_OVERDUE]
        )

        await vcs.record_parole_decision(
            p.case_ref,
            ParoleOutcome.OPEN_CONDITIONS,
            new_hearing + timedelta(days=5),
            None,
            actor=MANAGER_ACTOR,
        )
        for v in (p.a, p.b):
            assert letters(engine, v)[-1] is LetterKind.PAROLE_OPEN_CONDITIONS
        # The Board recommends open conditions; the move is a key stage of its own, later.
        assert LetterKind.KEY_STAGE not in letters(engine, p.a)
        await eventually(lambda: audit_actions(engine, "parole_outcome"))
        view = await vcs.parole_view(p.case_ref, MANAGER_ACTOR)
        assert view.adjournments == 1 and [s.vps_id for s in view.statements] == [vps.id]
        assert view.told == [p.a, p.b]
        # The review is held by its case's workflow, its state carried across the case's
        # runs (which span four years: workflows/common.py).
        runs = await every_run(env.client, case_workflow_id(p.case_ref))
        assert len(runs) >= 2, "the review never crossed a continue-as-new"
        assert (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).open_parole_review is None
        # The review runs its steps as its case does (workflows/common.py):
        # every step a local activity in the workflow task that decided it, none an ordinary
        # activity (each of those is a Temporal action of its own).
        scheduled = [
            e
            for run in runs
            for e in run.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        steps = [name for run in runs for name in activity_calls(run)]
        assert scheduled == [] and {"send_letter", "forward_vps"} <= set(steps)


@pytest.mark.usefixtures("cleanup_workflows")
async def test_handoff_during_a_review_moves_its_tasks_keeping_their_due_dates(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """domain.md 'Providers and hand-offs': a hand-off never drops an open deadline, the
    review's among them; the review's later tasks go to the new VLO."""
    env = time_skipping_env
    start = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    new_vlo = "vlo.smith"
    async with build_worker(env.client, engine, task_queue):
        p = await parole_case(vcs, engine, start)
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(
                referred_on=start,
                vps_due_on=start + timedelta(days=30),
                hearing_on=start + timedelta(days=60),
            ),
        )
        before = {t.id: (t.kind, t.due_on, t.assigned_to) for t in parole_tasks(engine)}
        assert {who for _, _, who in before.values()} == {VLO}
        await vcs.request_handoff(
            p.case_ref, HandoffReason.REGION_MOVE, Provider.NPS, "Wales", new_vlo, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, p.case_ref)
        await vcs.handoff_supply(handoff_id, actor=MANAGER_ACTOR)
        await vcs.handoff_accept(handoff_id, actor=vlo_actor(new_vlo, "Wales", Role.VLO_MANAGER))

        def moved() -> dict[int | None, tuple[TaskKind, date, str]] | None:
            now = {t.id: (t.kind, t.due_on, t.assigned_to) for t in parole_tasks(engine)}
            return now if {who for _, _, who in now.values()} == {new_vlo} else None

        after = await eventually(moved)
        assert after is not None
        assert {i: (k, d) for i, (k, d, _) in after.items()} == {
            i: (k, d) for i, (k, d, _) in before.items()
        }
        await vcs.submit_vps(
            p.a, VPS_TEXT, True, actor=vlo_actor(new_vlo, "Wales", Role.VLO_MANAGER)
        )
        await vcs.apply_to_read(p.a, actor=vlo_actor(new_vlo, "Wales", Role.VLO_MANAGER))
        [application] = parole_tasks(engine, p.a)
        assert application.assigned_to == new_vlo


# ---- dev server: VPS received, encrypted, forwarded; oral hearings; bad input ------------------


async def test_vps_is_encrypted_at_rest_and_sent_to_the_board(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10)),
        )
        # No hearing listed yet, before the deadline: in time.
        result = await vcs.submit_vps(p.b, OTHER_VPS, True, actor=MANAGER_ACTOR)
        assert "LATE" not in result.message
        assert letters(engine, p.b)[-1] is LetterKind.VPS_RECEIVED
        assert parole_tasks(engine, p.b) == []  # task closed: VPS received

        hearing = now + timedelta(days=40)
        result = await vcs.set_hearing(p.case_ref, hearing, True, actor=MANAGER_ACTOR)
        assert str(hearing - timedelta(days=28)) in result.message
        # By the deadline, 28 days or more before the hearing: in time.
        result = await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        assert "LATE" not in result.message
        assert letters(engine, p.a)[-1] is LetterKind.VPS_RECEIVED
        view = await vcs.parole_view(p.case_ref, MANAGER_ACTOR)
        assert [s.victim_id for s in view.statements] == [p.b, p.a]

    a_vps = next(r for r in vps_rows(engine) if r.victim_id == p.a)
    assert [r.late for r in vps_rows(engine)] == [False, False]
    assert a_vps.forwarded_to == "Parole Board" and a_vps.forwarded_at is not None
    assert a_vps.text == VPS_TEXT and a_vps.review_id == p.review
    # At rest the words are ciphertext, naming the key; never the words themselves.
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT text FROM victimpersonalstatement")).scalars()
        raw = list(stored)
    assert len(raw) == 2
    for value in raw:
        assert value.startswith("v1:test-1:")
        assert "sleep" not in value and "job" not in value
    # Nor in the audit trail, the letters or task titles.
    with session_scope(engine) as session:
        texts = [e.detail for e in session.exec(select(AuditEntry)).all()]
        texts += [c.body for c in session.exec(select(Correspondence)).all()]
        texts += [t.title for t in session.exec(select(VloTask)).all()]
    assert not [t for t in texts if "sleep" in t or "my job" in t]
    assert len(audit_actions(engine, "vps_forwarded")) == 2


async def test_oral_hearing_application_and_the_boards_decision_on_it(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        hearing = now + timedelta(days=60)
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(
                referred_on=now, vps_due_on=now + timedelta(days=20), hearing_on=hearing
            ),
        )
        await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        await vcs.submit_vps(p.b, OTHER_VPS, True, actor=MANAGER_ACTOR)

        result = await vcs.apply_to_read(p.a, actor=MANAGER_ACTOR)
        assert "the Parole Board decides" in result.message
        [application] = parole_tasks(engine, p.a)
        assert application.kind is TaskKind.PAROLE_READ_APPLICATION
        assert now <= application.due_on < hearing
        await vcs.record_read_decision(p.a, True, actor=MANAGER_ACTOR)
        assert letters(engine, p.a)[-1] is LetterKind.READ_VPS_GRANTED
        assert parole_tasks(engine, p.a) == []

        await vcs.apply_to_read(p.b, actor=MANAGER_ACTOR)
        await vcs.record_read_decision(p.b, False, actor=MANAGER_ACTOR)
        [refusal] = letter_bodies(engine, p.b, LetterKind.READ_VPS_REFUSED)
        assert "Bwrdd Parôl" in refusal  # Welsh

        view = await vcs.parole_view(p.case_ref, MANAGER_ACTOR)
        assert [(a.victim_id, a.granted) for a in view.read_applications] == [
            (p.a, True),
            (p.b, False),
        ]
        assert len(audit_actions(engine, "vps_read_decided")) == 2
        await refused_without_change(
            vcs, engine, p.case_ref, "already applied", vcs.apply_to_read(p.a, actor=MANAGER_ACTOR)
        )
        await refused_without_change(
            vcs,
            engine,
            p.case_ref,
            "no application",
            vcs.record_read_decision(p.a, False, actor=MANAGER_ACTOR),
        )


async def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        ref = p.case_ref

        # Referral: a hearing in the past, a deadline passed; no review is started.
        for timetable, problem in (
            (
                ParoleTimetable(
                    referred_on=now,
                    vps_due_on=now + timedelta(days=5),
                    hearing_on=now - timedelta(days=1),
                ),
                "is in the past",
            ),
            (ParoleTimetable(referred_on=now, vps_due_on=now - timedelta(days=1)), "has passed"),
        ):
            before = snapshot(engine)
            with pytest.raises(VcsError, match=problem):
                await vcs.refer_parole(ref, timetable, actor=MANAGER_ACTOR)
            assert snapshot(engine) == before
        assert (await vcs.case_view(ref, MANAGER_ACTOR)).latest_parole_review is None
        with pytest.raises(VcsError, match="has no parole review"):
            await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        assert vps_rows(engine) == []

        due = now + timedelta(days=10)
        await refer(vcs, ref, ParoleTimetable(referred_on=now, vps_due_on=due))
        await refused_without_change(
            vcs,
            engine,
            ref,
            "already has parole review",
            vcs.refer_parole(
                ref, ParoleTimetable(referred_on=now, vps_due_on=due), actor=MANAGER_ACTOR
            ),
        )

        # A VPS for a victim not in the scheme: opted out, or never offered.
        for outsider in (p.c, p.d):
            await refused_without_change(
                vcs,
                engine,
                ref,
                f"victim {outsider} is not in the Victim Contact Scheme",
                vcs.submit_vps(outsider, VPS_TEXT, True, actor=MANAGER_ACTOR),
            )
        # The VLO has not confirmed the VPS says nothing on release.
        await refused_without_change(
            vcs,
            engine,
            ref,
            "must not say whether",
            vcs.submit_vps(p.a, VPS_TEXT, False, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs, engine, ref, "is empty", vcs.submit_vps(p.a, "  \n", True, actor=MANAGER_ACTOR)
        )

        # Hearing dates: in the past; before the deadline. A decision before any hearing.
        await refused_without_change(
            vcs,
            engine,
            ref,
            "is in the past",
            vcs.set_hearing(ref, now - timedelta(days=1), True, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "less than 28 days before the hearing",
            vcs.set_hearing(ref, due - timedelta(days=1), True, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "no hearing date",
            vcs.record_parole_decision(ref, ParoleOutcome.RELEASE, now, None, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "no hearing listed: record the hearing first",
            vcs.adjourn_hearing(ref, now + timedelta(days=90), None, actor=MANAGER_ACTOR),
        )

        # One VPS per victim: the same words again are the same VPS; other words are refused.
        await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        before = snapshot(engine)
        again = await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        assert "already received" in again.message
        assert snapshot(engine) == before
        await refused_without_change(
            vcs,
            engine,
            ref,
            f"victim {p.a}'s VPS for this review was already received",
            vcs.submit_vps(p.a, OTHER_VPS, True, actor=MANAGER_ACTOR),
        )
        assert [r.text for r in vps_rows(engine)] == [VPS_TEXT]

        # Reading a VPS: only one's own; the Board's decision only on an application.
        await refused_without_change(
            vcs,
            engine,
            ref,
            "has no VPS on this review",
            vcs.apply_to_read(p.b, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "no application",
            vcs.record_read_decision(p.a, True, actor=MANAGER_ACTOR),
        )

        hearing = now + timedelta(days=40)
        await vcs.set_hearing(ref, hearing, True, actor=MANAGER_ACTOR)
        await refused_without_change(
            vcs,
            engine,
            ref,
            "already has a hearing",
            vcs.set_hearing(ref, hearing + timedelta(days=1), True, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "a decision cannot be recorded before it",
            vcs.record_parole_decision(
                ref, ParoleOutcome.NO_RELEASE, now, None, actor=MANAGER_ACTOR
            ),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "moves the hearing later",
            vcs.adjourn_hearing(ref, hearing - timedelta(days=1), None, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "new VPS deadline .* is in the past",
            vcs.adjourn_hearing(
                ref, hearing + timedelta(days=30), now - timedelta(days=1), actor=MANAGER_ACTOR
            ),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            "no decision yet",
            vcs.request_decision_summary(p.a, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            ref,
            f"victim {p.c} is not in the Victim Contact Scheme",
            vcs.submit_parole_representations(p.c, "Keep him away from me.", actor=MANAGER_ACTOR),
        )

        # Representations on licence conditions in a parole case go to the Parole Board.
        await vcs.submit_parole_representations(
            p.b, "Keep him out of Cardiff.", actor=MANAGER_ACTOR
        )
        with session_scope(engine) as session:
            [rep] = session.exec(select(Representation)).all()
        assert rep.victim_id == p.b and rep.forwarded_to == "Parole Board"

        # A victim who joins the scheme after the referral may still make a VPS.
        await offered_and_opted_in(vcs, engine, p.d, ContactLevel.ANNUAL)
        await vcs.submit_vps(p.d, OTHER_VPS, True, actor=MANAGER_ACTOR)
        assert letters(engine, p.d)[-1] is LetterKind.VPS_RECEIVED
        assert p.d in (await vcs.parole_view(ref, MANAGER_ACTOR)).invited


async def test_paper_review_has_no_hearing_to_read_a_vps_at(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """000_5a1d5e000983110f.txt: a VPS is read aloud only where the Board holds an oral
    hearing."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(
                referred_on=now,
                vps_due_on=now + timedelta(days=10),
                hearing_on=now + timedelta(days=40),
                oral_hearing=False,
            ),
        )
        await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        await refused_without_change(
            vcs, engine, p.case_ref, "on the papers", vcs.apply_to_read(p.a, actor=MANAGER_ACTOR)
        )


# ---- the rules and the encryption, without Temporal -----------------------------------------


def test_vps_lateness_names_the_deadline_and_the_28_days() -> None:
    policy = ParolePolicy()
    due, hearing = date(2027, 3, 1), date(2027, 4, 15)
    assert vps_lateness(date(2027, 3, 1), due, hearing, policy) is None
    assert vps_lateness(date(2027, 3, 18), due, hearing, policy) == (
        "after the deadline of 2027-03-01"
    )
    reason = vps_lateness(date(2027, 3, 19), due, hearing, policy)
    assert reason is not None and "less than 28 days before the hearing on 2027-04-15" in reason
    assert vps_lateness(date(2027, 2, 1), due, None, policy) is None


def key(fill: bytes) -> bytes:
    return (fill * 32)[:32]


def test_sealed_text_round_trips_refuses_tampering_and_survives_key_rotation() -> None:
    old = Sealer(KeyRing({"k1": key(b"a")}, active="k1"))
    stored = old.seal(VPS_TEXT, "victim personal statement")
    assert stored.startswith("v1:k1:") and "sleep" not in stored
    assert old.open(stored, "victim personal statement") == VPS_TEXT
    assert old.seal(VPS_TEXT, "victim personal statement") != stored  # a fresh nonce each time

    rotated = Sealer(KeyRing({"k1": key(b"a"), "k2": key(b"b")}, active="k2"))
    assert rotated.open(stored, "victim personal statement") == VPS_TEXT
    assert rotated.seal("x", "victim personal statement").startswith("v1:k2:")

    data = bytearray(base64.b64decode(stored.split(":", 2)[2]))
    data[-1] ^= 1
    tampered = "v1:k1:" + base64.b64encode(bytes(data)).decode()
    with pytest.raises(CodecError, match="failed authentication") as failed:
        old.open(tampered, "victim personal statement")
    assert "sleep" not in str(failed.value)
    with pytest.raises(CodecError, match="failed authentication"):
        old.open(stored, "another purpose")  # a value cannot be moved to another column
    with pytest.raises(CodecError, match="'k1', which this process does not hold"):
        Sealer(KeyRing({"k2": key(b"b")}, active="k2")).open(stored, "victim personal statement")


def test_retention_erases_the_words_of_a_vps(engine: Engine) -> None:
    """A VPS's words are personal data like representations: erased with the case."""
    case_ref = unique_ref("PAR")
    sentenced = today() - timedelta(days=60)  # a case registered while its licence ran
    case = register_case(engine, registration(case_ref, sentenced), "vlo.jones").case
    row = add_victim(engine, case_ref, victim("Erin Parole"), "vlo.jones")
    assert case.id is not None and row.id is not None
    vps_id = add_vps(engine, parole_review_id(case_ref, 1), row.id, VPS_TEXT, "vlo.jones")
    closed_at = datetime.now(UTC) - timedelta(days=800)
    with session_scope(engine) as session:
        stored = session.get(OffenderCase, case.id)
        assert stored is not None
        stored.status, stored.closed_at = CaseStatus.CLOSED, closed_at
        session.add(stored)
    retention = RetentionActivities(engine)
    retention.erase_case(
        ErasureRequest(
            case_id=case.id,
            retention_days=730,
            cutoff=datetime.now(UTC) - timedelta(days=730),
            by="test",
        )
    )
    assert retention.verify_erasure(case.id).verified
    with session_scope(engine) as session:
        erased = session.get(VictimPersonalStatement, vps_id)
        assert erased is not None and erased.text == ERASED
    with engine.connect() as connection:
        [raw] = connection.execute(text("SELECT text FROM victimpersonalstatement")).scalars()
    assert raw.startswith("v1:") and "sleep" not in raw


# ---- the command line ---------------------------------------------------------------------------


async def test_cli_parole_review_from_referral_to_an_adjourned_hearing(
    cli: Cli, tmp_path: Path
) -> None:
    now = today()
    case_ref = unique_ref("CLI")
    await cli.ok(*case_args(case_ref, now - timedelta(days=30)))
    inside = await cli_add_victim(cli, case_ref)
    outside = await cli_add_victim(
        cli,
        case_ref,
        "--details",
        cli.details(full_name="Olive Outside", address="2 Road", postcode="LS9 9OO"),
    )
    [offer] = await eventually(lambda: tasks(cli.engine, inside))
    await cli.ok("complete-task", "--task", str(offer.id), "--text-file", cli.text("phoned"))
    await cli.ok("opt-in", "--case", case_ref, "--victim", str(inside), "--level", "all_key_stages")
    await eventually(lambda: tasks(cli.engine, outside))

    past = (now - timedelta(days=1)).isoformat()
    due, hearing = (now + timedelta(days=10)).isoformat(), (now + timedelta(days=50)).isoformat()
    refer = ["refer-parole", "--case", case_ref, "--referred-on", now.isoformat()]
    error = await cli.refused(*refer, "--vps-due", due, "--hearing", past)
    assert f"hearing date {past} is in the past" in error
    [started] = await cli.ok(*refer, "--vps-due", due, "--hearing", hearing)
    review = parole_review_id(case_ref, 1)
    assert started.startswith(f"parole review {review} started")
    assert "already has parole review" in await cli.refused(*refer, "--vps-due", due)

    statement = tmp_path / "vps.txt"
    statement.write_text(VPS_TEXT, encoding="utf-8")
    submit = ["submit-vps", "--case", case_ref, "--victim", str(inside), "--file", str(statement)]
    assert "--checked" in await cli.refused(*submit)
    error = await cli.refused(
        "submit-vps",
        "--case",
        case_ref,
        "--victim",
        str(outside),
        "--file",
        str(statement),
        "--checked",
    )
    assert f"victim {outside} is not in the Victim Contact Scheme" in error
    assert count(cli.engine, VictimPersonalStatement) == 0
    [sent] = await cli.ok(*submit, "--checked")
    assert sent.endswith(f"of victim {inside} sent to the Parole Board")
    assert "already received" in (await cli.ok(*submit, "--checked"))[0]
    assert count(cli.engine, VictimPersonalStatement) == 1

    await cli.ok("apply-to-read", "--case", case_ref, "--victim", str(inside))
    [granted] = await cli.ok(
        "read-decision", "--case", case_ref, "--victim", str(inside), "--granted"
    )
    assert "granted" in granted
    assert "already has a hearing" in await cli.refused(
        "set-hearing", "--case", case_ref, "--date", hearing
    )
    error = await cli.refused("adjourn", "--case", case_ref, "--hearing", past)
    assert "moves the hearing later" in error
    error = await cli.refused(
        "parole-decision", "--case", case_ref, "--outcome", "release", "--date", now.isoformat()
    )
    assert "cannot be recorded before" in error
    assert "no decision yet" in await cli.refused(
        "decision-summary", "--case", case_ref, "--victim", str(inside)
    )
    later, new_due = (now + timedelta(days=90)).isoformat(), (now + timedelta(days=40)).isoformat()
    [adjourned] = await cli.ok(
        "adjourn", "--case", case_ref, "--hearing", later, "--vps-due", new_due
    )
    assert f"from {hearing} to {later}" in adjourned

    shown = await cli.ok("parole-show", "--case", case_ref)
    assert shown[0].startswith(f"parole review {review} of case {case_ref}")
    assert f"oral hearing {later}, adjourned 1 time(s)" in shown[0]
    assert any(f"of victim {inside}: received {now}" in line for line in shown)
    assert any("to read their VPS at the hearing: granted" in line for line in shown)
    timeline = await cli.ok("timeline", "--case", case_ref)
    assert any("parole review: Parole Board hearing" in line for line in timeline)
    assert not [line for line in shown + timeline if "sleep" in line]
    assert "not a parole review of case" in await cli.refused(
        "parole-show", "--case", case_ref, "--review", "vcs-parole-OTHER-1"
    )
    assert LetterKind.PAROLE_INVITATION not in letters(cli.engine, outside)


# ---- review findings: one way in, the 28 days, deferral, the case closing, hand-offs ----------


async def test_parole_review_is_recorded_only_by_a_referral_never_for_a_hospital_patient(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """One way in: the referral (it records the key stage and invites the victims). A hospital
    patient is discharged by the tribunal or the Secretary of State, not the Parole Board."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        before = snapshot(engine)
        with pytest.raises(VcsError, match="recorded by referring the case to the Parole Board"):
            await vcs.record_key_stage(p.case_ref, KeyStage.PAROLE_REVIEW, now, actor=MANAGER_ACTOR)
        assert snapshot(engine) == before
        assert KeyStage.PAROLE_REVIEW not in [
            s for s, _ in (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).key_stages
        ]

        hospital, _ = add_hospital(
            engine, HospitalBase(name="Rampton", address="Woodbeck", postcode="DN22 0PD"), VLO
        )
        assert hospital.id is not None
        await vcs.record_transfer_to_hospital(
            p.case_ref, hospital.id, now, True, None, actor=MANAGER_ACTOR
        )
        assert (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).hospital is not None
        before = await settled(lambda: snapshot(engine))  # the transfer's letters sent
        with pytest.raises(VcsError, match=r"hospital path.*tribunal or the Secretary of State"):
            await vcs.refer_parole(
                p.case_ref,
                ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10)),
                actor=MANAGER_ACTOR,
            )
        assert snapshot(engine) == before
        assert (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).latest_parole_review is None


async def test_vps_deadline_28_days_before_the_hearing_and_deferral_before_one_is_listed(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """domain.md 'Parole': the VPS goes to the Board at least 28 days before the hearing, so a
    deadline later than that is refused. The Board may defer a review before listing its
    hearing: the deadline moves, the tasks with it, the invitation is sent again."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        due = now + timedelta(days=10)
        before = snapshot(engine)
        with pytest.raises(VcsError, match="less than 28 days before the hearing"):
            await vcs.refer_parole(
                p.case_ref,
                ParoleTimetable(referred_on=now, vps_due_on=due, hearing_on=due + timedelta(27)),
                actor=MANAGER_ACTOR,
            )
        assert snapshot(engine) == before
        await refer(vcs, p.case_ref, ParoleTimetable(referred_on=now, vps_due_on=due))
        await vcs.submit_vps(p.a, VPS_TEXT, True, actor=MANAGER_ACTOR)
        [b_task] = parole_tasks(engine, p.b)
        await refused_without_change(
            vcs,
            engine,
            p.case_ref,
            "less than 28 days before the hearing",
            vcs.set_hearing(p.case_ref, due + timedelta(days=27), True, actor=MANAGER_ACTOR),
        )
        await refused_without_change(
            vcs,
            engine,
            p.case_ref,
            "needs a new VPS deadline",
            vcs.adjourn_hearing(p.case_ref, None, None, actor=MANAGER_ACTOR),
        )

        new_due = now + timedelta(days=45)
        result = await vcs.adjourn_hearing(p.case_ref, None, new_due, actor=MANAGER_ACTOR)
        assert "deferred" in result.message and "1 VPS kept" in result.message
        [moved] = parole_tasks(engine, p.b)
        assert (moved.id, moved.due_on) == (b_task.id, new_due)
        assert letters(engine, p.b).count(LetterKind.PAROLE_INVITATION) == 2
        assert letters(engine, p.a).count(LetterKind.PAROLE_INVITATION) == 1
        view = await vcs.parole_view(p.case_ref, MANAGER_ACTOR)
        assert view.timetable.vps_due_on == new_due and view.timetable.hearing_on is None
        assert (new_due, "VPS and representations deadline") in view.scheduled
        assert [s.victim_id for s in view.statements] == [p.a]
        # The hearing, listed later, is held to the new deadline's 28 days.
        await refused_without_change(
            vcs,
            engine,
            p.case_ref,
            "less than 28 days",
            vcs.set_hearing(p.case_ref, new_due + timedelta(days=27), True, actor=MANAGER_ACTOR),
        )
        await vcs.set_hearing(p.case_ref, new_due + timedelta(days=28), True, actor=MANAGER_ACTOR)


async def test_a_refused_referral_counts_no_review_and_the_next_takes_the_first_id(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A review's letters are keyed by its ID: a referral refused leaves the case pointing at
    no review, nothing written, and the next referral is the case's first review."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        before = snapshot(engine)
        with pytest.raises(VcsError):
            await vcs.refer_parole(
                p.case_ref,
                ParoleTimetable(referred_on=now, vps_due_on=now - timedelta(days=10)),
                actor=MANAGER_ACTOR,
            )
        assert snapshot(engine) == before
        view = await vcs.case_view(p.case_ref, MANAGER_ACTOR)
        assert (view.latest_parole_review, view.open_parole_review) == (None, None)
        assert LetterKind.PAROLE_INVITATION not in letters(engine, p.a)
        await refer(
            vcs, p.case_ref, ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10))
        )
        view = await vcs.case_view(p.case_ref, MANAGER_ACTOR)
        assert view.latest_parole_review == view.open_parole_review == p.review


async def test_case_closing_ends_its_open_review_and_closes_the_review_tasks(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """The offender's death ends the case (models/key_stages.py): the review ends with it, its
    tasks closed with the reason; victims hear of it once, from the case."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=30))
        await refer(
            vcs, p.case_ref, ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10))
        )
        assert {t.victim_id for t in parole_tasks(engine)} == {p.a, p.b}
        parole_letters = {v: letters(engine, v) for v in (p.a, p.b)}
        await vcs.record_key_stage(p.case_ref, KeyStage.DEATH, now, actor=MANAGER_ACTOR)

        await eventually(lambda: not parole_tasks(engine))
        closed = parole_tasks(engine, open_only=False)
        assert {t.outcome for t in closed} == {"case closed (death)"}
        assert await completes(vcs, p.case_ref)
        [ended] = audit_actions(engine, "parole_review_ended")
        with session_scope(engine) as session:
            note = session.get(CaseNote, audit_facts(ended.detail)["note"])
        assert note is not None and note.text == "case closed (death)"
        for v in (p.a, p.b):
            new = letters(engine, v)[len(parole_letters[v]) :]
            assert not [k for k in new if k.value.startswith(("parole", "vps"))]
        assert (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).open_parole_review is None


@pytest.fixture
async def own_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own: a case handed off after weeks skipped leaves
    the shared server unable to skip time for the tests after it (cause not yet found)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed("temporal-test-server"),
        data_converter=data_converter(),
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


async def test_handoff_moves_the_tasks_of_every_running_review(
    own_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """domain.md 'Providers and hand-offs': a hand-off never drops an open deadline: a decided
    review's summary task moves with the open review's tasks."""
    env = own_skipping_env
    start = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    new_vlo = "vlo.smith"
    async with build_worker(env.client, engine, task_queue):
        p = await parole_case(vcs, engine, start)
        hearing = start + timedelta(days=40)
        await refer(
            vcs,
            p.case_ref,
            ParoleTimetable(
                referred_on=start, vps_due_on=start + timedelta(days=10), hearing_on=hearing
            ),
        )
        for day in range(10, 41, 10):  # in steps: each skip answers within the RPC timeout
            await run_until(env, start + timedelta(days=day))
        await eventually(lambda: not parole_tasks(engine))
        await vcs.record_parole_decision(
            p.case_ref,
            ParoleOutcome.NO_RELEASE,
            hearing,
            start + timedelta(days=400),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_decision_summary(p.a, actor=MANAGER_ACTOR)
        [summary] = parole_tasks(engine, p.a)
        assert review_of(summary) == p.review

        async def case_told() -> bool:
            return (await vcs.case_view(p.case_ref, MANAGER_ACTOR)).open_parole_review is None

        for _ in range(100):
            if await case_told():
                break
            await env.sleep(timedelta(seconds=1))
        now = london_date(await env.get_current_time())
        second = parole_review_id(p.case_ref, 2)
        await vcs.refer_parole(
            p.case_ref,
            ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10)),
            actor=MANAGER_ACTOR,
        )
        await eventually(lambda: {review_of(t) for t in parole_tasks(engine)} == {p.review, second})

        await vcs.request_handoff(
            p.case_ref, HandoffReason.REGION_MOVE, Provider.NPS, "Wales", new_vlo, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, p.case_ref)
        await vcs.handoff_supply(handoff_id, actor=MANAGER_ACTOR)
        await vcs.handoff_accept(handoff_id, actor=vlo_actor(new_vlo, "Wales", Role.VLO_MANAGER))
        await eventually(lambda: {t.assigned_to for t in parole_tasks(engine)} == {new_vlo})
        assert {review_of(t) for t in parole_tasks(engine)} == {p.review, second}
        # Each review now opens its tasks for the new VLO (its signal handled).
        for review in (p.review, second):
            view = await vcs.parole_view(p.case_ref, vlo_actor(new_vlo, "Wales"), review)
            assert view.open_tasks and view.review_id == review

        # The case closing ends both reviews, their tasks closed with it.
        await vcs.record_key_stage(
            p.case_ref, KeyStage.DEATH, now, actor=vlo_actor(new_vlo, "Wales")
        )
        await eventually(lambda: not parole_tasks(engine))


async def test_release_during_an_open_review_ends_it_and_no_decision_follows(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Released (at the conditional release date) while the Board's review is still open: the
    review ends, its tasks close, and no later decision can be recorded and told to victims who
    have had the release letter (issue 15: no contradictory letters)."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=60))
        await refer(
            vcs, p.case_ref, ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=10))
        )
        assert {t.victim_id for t in parole_tasks(engine)} == {p.a, p.b}
        await vcs.record_release(p.case_ref, now, actor=VLO_ACTOR)

        await eventually(lambda: not parole_tasks(engine))
        closed = parole_tasks(engine, open_only=False)
        assert {t.outcome for t in closed} == {"released on licence: the review has ended"}
        assert await completes(vcs, p.case_ref)
        assert (await vcs.case_view(p.case_ref, VLO_ACTOR)).open_parole_review is None
        before = {v: letters(engine, v) for v in (p.a, p.b)}
        with pytest.raises(VcsError):
            await vcs.record_parole_decision(
                p.case_ref, ParoleOutcome.NO_RELEASE, now, None, actor=VLO_ACTOR
            )
        assert {v: letters(engine, v) for v in (p.a, p.b)} == before
        for v in (p.a, p.b):
            assert LetterKind.PAROLE_NO_RELEASE not in letters(engine, v)


async def test_a_victim_who_opts_out_during_a_review_is_no_longer_invited(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A victim who says no is not contacted again unless they come back (domain.md 'Opt in or
    out'): opting out while the Board's review runs closes their review task and takes them off
    the invited list, so an adjournment re-invites the others only (issue 15's second seam)."""
    vcs = Vcs(local_env.client, engine, task_queue)
    now = today()
    async with build_worker(local_env.client, engine, task_queue):
        p = await parole_case(vcs, engine, now - timedelta(days=60))
        await refer(
            vcs, p.case_ref, ParoleTimetable(referred_on=now, vps_due_on=now + timedelta(days=30))
        )
        assert {t.victim_id for t in parole_tasks(engine)} == {p.a, p.b}
        await vcs.opt_out(p.b, actor=VLO_ACTOR)

        await eventually(lambda: {t.victim_id for t in parole_tasks(engine)} == {p.a})
        [closed] = [t for t in parole_tasks(engine, open_only=False) if t.victim_id == p.b]
        assert closed.outcome == "victim opted out of the scheme"
        assert (await vcs.parole_view(p.case_ref, VLO_ACTOR)).invited == [p.a]
        before = letters(engine, p.b)
        await vcs.adjourn_hearing(p.case_ref, None, now + timedelta(days=60), actor=VLO_ACTOR)
        await eventually(lambda: letters(engine, p.a).count(LetterKind.PAROLE_INVITATION) == 2)
        assert letters(engine, p.b) == before  # no letter to the victim who left
