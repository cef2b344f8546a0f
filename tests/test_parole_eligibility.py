"""A tariff / parole eligibility date schedules the VLO's preparation of victims for the Parole
Board review (workflows/case.py; the figures in models/policy.py), under the time-skipping
server: one task, opened ahead of its due date, following a recalculated date, opened at once
when the date is brought close, and ended by a referral to the Board."""

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from models.case import CaseRegistration, OffenceBase
from models.db import session_scope
from models.deadlines import parole_preparation
from models.messages import Scheduled
from models.parole import ParoleTimetable
from models.policy import policy_for
from models.records import AuditEntry, VloTask
from models.vocabulary import (
    KeyStage,
    OffenceCategory,
    ParoleOutcome,
    SentenceType,
    TaskKind,
    TaskStatus,
)
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import VLO_ACTOR, eventually, registration, run_until, tasks, until_quiet
from worker import build_worker
from workflows.case import case_workflow_id

POLICY = policy_for("2020", date(2026, 12, 6))
VLO = "vlo.jones"


def life_sentence(case_ref: str, sentenced: date, tariff_expires: date) -> CaseRegistration:
    """A mandatory life sentence: the tariff's expiry is recorded as the parole eligibility
    date; no release, licence or sentence expiry date."""
    return CaseRegistration(
        case_ref=case_ref,
        region="Yorkshire and the Humber",
        responsible_vlo=VLO,
        sentence_type=SentenceType.LIFE,
        term_months=None,
        sentence_date=sentenced,
        parole_eligibility_date=tariff_expires,
        offences=[OffenceBase(description="Murder", category=OffenceCategory.MURDER)],
    )


def preparation(engine: Engine, case_ref: str, *, open_only: bool = True) -> list[VloTask]:
    return [
        t
        for t in tasks(engine, open_only=open_only)
        if t.kind is TaskKind.PAROLE_PREPARATION and t.workflow_id == case_workflow_id(case_ref)
    ]


async def scheduled_preparation(vcs: Vcs, case_ref: str) -> list[Scheduled]:
    """What the case's view (and so `timeline`) shows of the task to come."""
    view = await vcs.case_view(case_ref, VLO_ACTOR)
    return [s for s in view.scheduled if "Parole Board review" in s.what]


def audit_count(engine: Engine, action: str) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


async def now(env: WorkflowEnvironment) -> date:
    return london_date(await env.get_current_time())


def test_the_task_falls_due_26_weeks_before_the_date_and_opens_28_days_before_that() -> None:
    opens, due = parole_preparation(date(2028, 7, 1), POLICY)
    assert due == date(2028, 7, 1) - timedelta(weeks=26) == date(2028, 1, 1)
    assert opens == due - timedelta(days=28)


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_tariff_date_opens_one_task_ahead_of_the_review_that_follows_a_recalculation(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = await now(env)
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("LIFE")
    tariff = today + timedelta(days=400)
    opens, due = parole_preparation(tariff, POLICY)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(life_sentence(case_ref, today, tariff), actor=VLO_ACTOR)
        # Scheduled, and shown so (the case's view feeds `timeline`), but not yet open.
        [scheduled] = await scheduled_preparation(vcs, case_ref)
        assert scheduled.on == opens and str(due) in scheduled.what
        await run_until(env, opens - timedelta(days=1), extra_days=0)
        assert await until_quiet(env)
        assert preparation(engine, case_ref) == []

        await run_until(env, opens, extra_days=0)
        [task] = await eventually(lambda: preparation(engine, case_ref))
        assert (task.due_on, task.assigned_to, task.victim_id) == (due, VLO, None)

        # The tariff is recalculated (time on remand, say): the open task is re-dated.
        later = tariff + timedelta(days=60)
        await vcs.record_milestones(case_ref, {"parole_eligibility_date": later}, actor=VLO_ACTOR)
        _, new_due = parole_preparation(later, POLICY)
        await eventually(lambda: [t.due_on for t in preparation(engine, case_ref)] == [new_due])
        assert preparation(engine, case_ref)[0].id == task.id

        # Done once, it is never opened again, past the date itself.
        await vcs.complete_task(task.id or 0, actor=VLO_ACTOR, outcome="victims told of the review")
        await run_until(env, later)
        assert await until_quiet(env)
    [done] = preparation(engine, case_ref, open_only=False)
    assert done.status is TaskStatus.DONE


@pytest.mark.usefixtures("cleanup_workflows")
async def test_an_extended_sentences_parole_eligibility_date_moved_before_the_task_opens(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A determinate sentence with a PED (an extended sentence) is prepared for too, and a
    recalculated PED moves the task not yet opened."""
    env = time_skipping_env
    today = await now(env)
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("EDS")
    ped = today + timedelta(days=400)
    reg = registration(
        case_ref,
        today,
        term_months=96,
        sentence_type=SentenceType.EXTENDED,
        parole_eligibility_date=ped,
    )
    old_opens, _ = parole_preparation(ped, POLICY)
    moved = ped + timedelta(days=90)  # added days
    opens, due = parole_preparation(moved, POLICY)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        await vcs.record_milestones(case_ref, {"parole_eligibility_date": moved}, actor=VLO_ACTOR)
        assert [s.on for s in await scheduled_preparation(vcs, case_ref)] == [opens]

        await run_until(env, old_opens + timedelta(days=10), extra_days=0)
        assert await until_quiet(env)
        assert preparation(engine, case_ref) == []
        await run_until(env, opens, extra_days=0)
        [task] = await eventually(lambda: preparation(engine, case_ref))
        assert task.due_on == due


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_date_brought_so_close_that_the_task_is_due_opens_it_at_once_due_today(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = await now(env)
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("LIFE")
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(
            life_sentence(case_ref, today, today + timedelta(days=700)), actor=VLO_ACTOR
        )
        await run_until(env, today + timedelta(days=20), extra_days=0)
        assert await until_quiet(env)
        assert preparation(engine, case_ref) == []
        # A successful appeal against the minimum term: the tariff now expires in 30 days.
        day = await now(env)
        await vcs.record_milestones(
            case_ref, {"parole_eligibility_date": day + timedelta(days=30)}, actor=VLO_ACTOR
        )
        [task] = await eventually(lambda: preparation(engine, case_ref))
        assert task.due_on == day
        assert await scheduled_preparation(vcs, case_ref) == []
        # The date taken away (recorded in error): the task closes, saying why.
        await vcs.record_milestones(case_ref, {"parole_eligibility_date": None}, actor=VLO_ACTOR)
        assert preparation(engine, case_ref) == []  # closed by the update itself
        [closed] = preparation(engine, case_ref, open_only=False)
        assert closed.outcome == "parole eligibility date removed"


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_referral_to_the_parole_board_closes_the_task_or_it_never_opens(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """The review a referral starts invites every victim in the scheme itself: a referral
    closes the open task, and a review open when the task's time comes takes its place. A
    review decided before then (a pre-tariff review, say) leaves the task to open as due."""
    env = time_skipping_env
    today = await now(env)
    vcs = Vcs(env.client, engine, task_queue)
    opened, still_open, decided = (unique_ref("LIFE") for _ in range(3))
    tariff = today + timedelta(days=400)
    opens, due = parole_preparation(tariff, POLICY)
    hearing = today + timedelta(days=60)
    async with build_worker(env.client, engine, task_queue):
        for case_ref in (opened, still_open, decided):
            await vcs.register_case(life_sentence(case_ref, today, tariff), actor=VLO_ACTOR)
        # Two cases are referred long before their task opens; one review is still open then.
        await vcs.refer_parole(
            still_open,
            ParoleTimetable(referred_on=today, vps_due_on=today + timedelta(days=300)),
            actor=VLO_ACTOR,
        )
        assert await scheduled_preparation(vcs, still_open) == []
        await vcs.refer_parole(
            decided,
            ParoleTimetable(
                referred_on=today, vps_due_on=today + timedelta(days=30), hearing_on=hearing
            ),
            actor=VLO_ACTOR,
        )
        await run_until(env, hearing + timedelta(days=5), extra_days=0)
        await vcs.record_parole_decision(
            decided,
            ParoleOutcome.OPEN_CONDITIONS,
            hearing + timedelta(days=5),
            None,
            actor=VLO_ACTOR,
        )
        await eventually(lambda: audit_count(engine, "parole_outcome") == 1)

        await run_until(env, opens, extra_days=0)
        [task] = await eventually(lambda: preparation(engine, opened))
        [other] = await eventually(lambda: preparation(engine, decided))
        assert task.due_on == other.due_on == due
        day = await now(env)
        await vcs.refer_parole(
            opened,
            ParoleTimetable(referred_on=day, vps_due_on=day + timedelta(days=60)),
            actor=VLO_ACTOR,
        )
        [closed] = await eventually(
            lambda: [
                t
                for t in preparation(engine, opened, open_only=False)
                if t.status is TaskStatus.DONE
            ]
        )
        assert closed.id == task.id and "referred to the Parole Board" in (closed.outcome or "")
        assert preparation(engine, opened) == []
        assert await until_quiet(env)
    assert preparation(engine, still_open, open_only=False) == []


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_case_closed_before_the_task_opens_schedules_nothing(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = await now(env)
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("LIFE")
    tariff = today + timedelta(days=400)
    opens, _ = parole_preparation(tariff, POLICY)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(life_sentence(case_ref, today, tariff), actor=VLO_ACTOR)
        await vcs.record_key_stage(case_ref, KeyStage.DEATH, today, actor=VLO_ACTOR)
        assert (await vcs.case_view(case_ref, VLO_ACTOR)).closed
        assert await scheduled_preparation(vcs, case_ref) == []
        await run_until(env, opens)
        assert await until_quiet(env)
    assert preparation(engine, case_ref, open_only=False) == []
