"""Provider hand-offs, CRC duties and the bulk transfer, under the time-skipping test server.

A hand-off during a parole review is tested with the parole work (workflows/review_path.py).
"""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.errors import data_error
from activities.handoff import HandoffStoreActivities
from models.case import OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.handoff import (
    BULK_ACTOR,
    BulkProgress,
    CaseHandoff,
    HandoffPolicy,
    HandoffStart,
    ResponsibilitySwitch,
    WithdrawalReason,
    bulk_workflow_id,
    handoff_of_task,
)
from models.ids import case_workflow_id
from models.policy import current_policy
from models.records import AuditEntry, Representation, VloTask
from models.vocabulary import (
    ContactLevel,
    CrcEventKind,
    HandoffReason,
    HandoffStep,
    LetterKind,
    Provider,
    Stage,
    TaskKind,
    TaskStatus,
)
from models.workflow_state import CaseInput
from models.working_days import add_working_days, london_date
from service.actor import Role
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    MANAGER_ACTOR,
    audit_facts,
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    stage,
    started_input,
    tasks,
    until_quiet,
    victim,
    vlo_actor,
)
from worker import build_worker

pytestmark = pytest.mark.usefixtures("cleanup_workflows", "cleanup_handoffs")

NEW_VLO = "vlo.smith"
REGION = "Yorkshire and the Humber"


@pytest.fixture
async def cleanup_handoffs(
    time_skipping_env: WorkflowEnvironment, engine: Engine
) -> AsyncIterator[None]:
    """Terminate every bulk transfer a test left running (one still finishing when its worker
    stops would keep the time-skipping server from skipping time); hand-offs are held by their
    cases' workflows (cleanup_workflows)."""
    yield
    with session_scope(engine) as session:
        rows = session.exec(select(CaseHandoff.bulk_id)).all()
    ids = {bulk_workflow_id(bulk_id) for bulk_id in rows if bulk_id is not None}
    for workflow_id in sorted(ids):
        await terminate(time_skipping_env, workflow_id)


def case_row(engine: Engine, case_ref: str) -> OffenderCase:
    with session_scope(engine) as session:
        return session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()


def open_case_tasks(engine: Engine, case_ref: str) -> list[VloTask]:
    case_id = case_row(engine, case_ref).id
    return [t for t in tasks(engine) if t.case_id == case_id]


def vlo_tasks(engine: Engine, case_ref: str) -> dict[int, tuple[TaskKind, object, str]]:
    """Open tasks of the case and its victims, not a hand-off's own: id -> (kind, due, who)."""
    return {
        t.id or 0: (t.kind, t.due_on, t.assigned_to)
        for t in open_case_tasks(engine, case_ref)
        if handoff_of_task(t.task_key) is None
    }


@asynccontextmanager
async def settled_worker(
    env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> AsyncIterator[None]:
    """A worker on a quiet server, stopped only once the engine has finished what it has in
    hand. The time-skipping server lets time pass at wall-clock speed while work is in flight,
    including an activity whose worker has stopped (until its time-out, in real time): a long
    skip would then outlast the client's time-out."""
    await until_quiet(env)
    async with build_worker(env.client, engine, task_queue):
        yield
        await until_quiet(env)


async def until(check: Callable[[], object], timeout: float = 30.0) -> None:
    await eventually(check, timeout)


async def terminate(env: WorkflowEnvironment, workflow_id: str) -> None:
    with contextlib.suppress(RPCError):
        await env.client.get_workflow_handle(workflow_id).terminate(reason="test finished")


async def test_handoff_during_an_open_representations_window_drops_nothing(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """CRC -> NPS on risk, while a victim's representations window is open: every open task
    (the representations task among them) moves to the new VLO with its due date, and the
    victim's representations, made after the switch, are still forwarded."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=12, provider=Provider.CRC)
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(reg, actor=MANAGER_ACTOR)
        v1, _ = await vcs.add_victim(case_ref, victim("A One"), actor=MANAGER_ACTOR)
        v2, _ = await vcs.add_victim(
            case_ref, victim("B Two", postcode="LS2 2BB"), actor=MANAGER_ACTOR
        )
        await offered_and_opted_in(vcs, engine, v1, ContactLevel.ALL_KEY_STAGES)
        await until(lambda: tasks(engine, v2))  # v2's offer task stays open (and overdue)
        # Into the representations window: v1's representations task opens; v2's offer escalates.
        release = reg.conditional_release_date
        assert release is not None
        await env.sleep(timedelta(days=(release - today).days - 119))
        await until(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, v1))
        await until(lambda: any(t.kind is TaskKind.ESCALATION for t in tasks(engine, v2)))
        now = london_date(await env.get_current_time())
        await vcs.report_crc_event(
            case_ref, CrcEventKind.BREACH, now, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER)
        )
        before = vlo_tasks(engine, case_ref)
        kinds = {kind for kind, _, _ in before.values()}
        assert {
            TaskKind.DISCUSS_REPRESENTATIONS,
            TaskKind.OFFER_SCHEME,
            TaskKind.ESCALATION,
            TaskKind.CRC_EVENT,
        } <= kinds
        v1_before = await vcs.victim_view(v1, MANAGER_ACTOR)

        with pytest.raises(VcsError, match="nothing to hand off"):
            await vcs.request_handoff(
                case_ref,
                HandoffReason.REGION_MOVE,
                Provider.CRC,
                REGION,
                "vlo.jones",
                MANAGER_ACTOR,
            )
        result = await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        assert handoff_id in result.message
        with pytest.raises(VcsError, match="already has hand-off"):
            await vcs.request_handoff(
                case_ref,
                HandoffReason.RISK_ESCALATION,
                Provider.NPS,
                REGION,
                "vlo.x",
                MANAGER_ACTOR,
            )
        with pytest.raises(VcsError, match="has not supplied"):
            await vcs.handoff_accept(handoff_id, actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER))
        view = await vcs.handoff_view(handoff_id, MANAGER_ACTOR)
        assert view.step is HandoffStep.REQUESTED and view.step_due_on is not None
        await vcs.handoff_supply(handoff_id, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER))
        with pytest.raises(VcsError, match="already supplied"):
            await vcs.handoff_supply(
                handoff_id, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER)
            )
        await vcs.handoff_accept(handoff_id, actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER))

        row = case_row(engine, case_ref)
        assert (row.provider, row.region, row.responsible_vlo) == (Provider.NPS, REGION, NEW_VLO)

        def switched() -> bool:
            after = vlo_tasks(engine, case_ref)
            return all(
                who == NEW_VLO or who.startswith("role:") for _, _, who in after.values()
            ) and set(after) == set(before)

        await until(switched)
        after = vlo_tasks(engine, case_ref)
        # No task, deadline or escalation dropped; due dates unchanged; VLO tasks moved.
        assert {i: (k, d) for i, (k, d, _) in after.items()} == {
            i: (k, d) for i, (k, d, _) in before.items()
        }
        for task_id, (_, _, who) in after.items():
            assert who == (
                before[task_id][2] if before[task_id][2].startswith("role:") else NEW_VLO
            )
        # The case and every victim's workflow now show the new responsibility.
        for _ in range(100):
            case_view = await vcs.case_view(case_ref, MANAGER_ACTOR)
            if case_view.open_handoff is None:
                break
            await asyncio.sleep(0.1)
        assert (case_view.provider, case_view.responsible_vlo) == ("NPS", NEW_VLO)
        assert case_view.open_handoff is None
        for victim_id in (v1, v2):

            async def shows_new(vid: int = victim_id) -> bool:
                view = await vcs.victim_view(vid, MANAGER_ACTOR)
                return (view.provider, view.region, view.responsible_vlo) == (
                    "NPS",
                    REGION,
                    NEW_VLO,
                )

            for _ in range(100):
                if await shows_new():
                    break
                await asyncio.sleep(0.1)
            assert await shows_new()
        # The victim's choices and deadlines are untouched.
        v1_after = await vcs.victim_view(v1, MANAGER_ACTOR)
        assert (v1_after.stage, v1_after.contact_level) == (
            v1_before.stage,
            v1_before.contact_level,
        )
        assert [(t.task_id, t.due_on) for t in v1_after.open_tasks] == [
            (t.task_id, t.due_on) for t in v1_before.open_tasks
        ]
        assert stage(engine, v1) is Stage.OPTED_IN
        assert (await vcs.handoff_view(handoff_id, MANAGER_ACTOR)).step is HandoffStep.SWITCHED
        [reps_task] = [t for t in tasks(engine, v1) if t.kind is TaskKind.DISCUSS_REPRESENTATIONS]
        assert (reps_task.assigned_to, reps_task.due_on) == (NEW_VLO, before[reps_task.id or 0][1])
        # The victim can still make representations: forwarded, acknowledged, task closed.
        result = await vcs.submit_representations(
            v1, "Please keep him away from my street.", vlo_actor(NEW_VLO, role=Role.VLO_MANAGER)
        )
        assert "forwarded" in result.message
        with session_scope(engine) as session:
            [rep] = session.exec(select(Representation).where(Representation.victim_id == v1)).all()
            closed = session.get(VloTask, reps_task.id)
        assert rep.forwarded_at is not None and rep.forwarded_to
        assert closed is not None and (closed.status, closed.completed_by) == (
            TaskStatus.DONE,
            NEW_VLO,
        )
        assert letters(engine, v1)[-1] is LetterKind.REPRESENTATIONS_RECEIVED
        # A task opened after the switch goes to the new VLO.
        await vcs.complete_task(
            next(i for i, (k, _, _) in after.items() if k is TaskKind.OFFER_SCHEME),
            actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER),
            outcome="phoned",
        )
        assert stage(engine, v2) is Stage.OFFERED
        with pytest.raises(VcsError, match="only a CRC-supervised"):
            await vcs.report_crc_event(
                case_ref,
                CrcEventKind.RECALL,
                now,
                actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER),
            )


async def test_each_missed_handoff_deadline_escalates_and_the_handoff_keeps_waiting(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    policy = HandoffPolicy()
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=36, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        await until(lambda: open_case_tasks(engine, case_ref))
        supply_due = add_working_days(
            today, policy.supply_working_days, current_policy().bank_holidays
        )
        [supply] = open_case_tasks(engine, case_ref)
        assert (supply.kind, supply.due_on, supply.assigned_to) == (
            TaskKind.HANDOFF_SUPPLY,
            supply_due,
            "vlo.jones",
        )
        assert supply.workflow_id == case_workflow_id(case_ref)  # the case holds the hand-off
        # The hand-off counts over the GOV.UK calendar its case's input carries
        # (models/working_days.py).
        history = await env.client.get_workflow_handle(case_workflow_id(case_ref)).fetch_history()
        calendar = (await started_input(history, CaseInput)).policy.calendar
        assert calendar is not None and calendar.source.startswith("gov.uk")
        await env.sleep(timedelta(days=(supply_due - today).days + 2))

        def escalations() -> list[VloTask]:
            return [t for t in open_case_tasks(engine, case_ref) if t.kind is TaskKind.ESCALATION]

        await until(escalations)
        [esc] = escalations()
        assert esc.assigned_to == "role:handoff-manager-NPS"
        view = await vcs.handoff_view(handoff_id, MANAGER_ACTOR)
        assert view.step is HandoffStep.REQUESTED and len(view.escalations) == 1

        await vcs.handoff_supply(handoff_id, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER))
        assert escalations() == []  # closed with the step it escalated
        [accept] = open_case_tasks(engine, case_ref)
        assert (accept.kind, accept.assigned_to) == (TaskKind.HANDOFF_ACCEPT, NEW_VLO)
        now = london_date(await env.get_current_time())
        await env.sleep(timedelta(days=(accept.due_on - now).days + 2))
        await until(escalations)
        assert [t.assigned_to for t in escalations()] == ["role:handoff-manager-NPS"]
        view = await vcs.handoff_view(handoff_id, MANAGER_ACTOR)
        assert view.step is HandoffStep.SUPPLIED
        assert [e.step for e in view.escalations] == [HandoffStep.REQUESTED, HandoffStep.SUPPLIED]
        await vcs.handoff_accept(handoff_id, actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER))
        assert open_case_tasks(engine, case_ref) == []
        assert case_row(engine, case_ref).responsible_vlo == NEW_VLO


async def test_youth_to_adult_only_from_a_yot_and_crc_reports_late_are_recorded(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    youth, crc = unique_ref("Y"), unique_ref("C")
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(youth, today, term_months=24, provider=Provider.YOT), actor=MANAGER_ACTOR
        )
        await vcs.register_case(
            registration(crc, today, term_months=24, provider=Provider.CRC), actor=MANAGER_ACTOR
        )
        with pytest.raises(VcsError, match="only from a Youth Offending Team"):
            await vcs.request_handoff(
                crc, HandoffReason.YOUTH_TO_ADULT, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
            )
        with pytest.raises(VcsError, match="from a CRC to the NPS"):
            await vcs.request_handoff(
                youth, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
            )
        # 000_5a1d...: the NPS decides and arranges the transfer of a youth who turns 18.
        await vcs.request_handoff(
            youth,
            HandoffReason.YOUTH_TO_ADULT,
            Provider.NPS,
            REGION,
            NEW_VLO,
            vlo_actor("nps.transitions", role=Role.VLO_MANAGER),
        )
        handoff_id = vcs.handoff_of(None, youth)
        await vcs.handoff_supply(handoff_id, actor=vlo_actor("yot.worker", role=Role.VLO_MANAGER))
        await vcs.handoff_accept(handoff_id, actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER))
        assert case_row(engine, youth).provider is Provider.NPS

        # CRC duty: an event reported after the agreed time is recorded as late.
        await env.sleep(timedelta(days=14))
        now = london_date(await env.get_current_time())
        result = await vcs.report_crc_event(
            crc, CrcEventKind.RECALL, today, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER)
        )
        assert "LATE" in result.message
        [task] = open_case_tasks(engine, crc)
        assert task.kind is TaskKind.CRC_EVENT and task.assigned_to == "vlo.jones"
        assert task.due_on == add_working_days(
            now, HandoffPolicy().crc_action_working_days, current_policy().bank_holidays
        )
        with session_scope(engine) as session:
            actions = session.exec(
                select(AuditEntry.action).where(AuditEntry.case_id == case_row(engine, crc).id)
            ).all()
        assert "crc_event_reported_late" in actions
        on_time = await vcs.report_crc_event(
            crc,
            CrcEventKind.ADDRESS_CHANGE_EXCLUSION_ZONE,
            now,
            actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER),
        )
        assert "on time" in on_time.message
        with pytest.raises(VcsError, match="already reported"):
            await vcs.report_crc_event(
                crc, CrcEventKind.RECALL, today, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER)
            )


async def progress(vcs: Vcs, bulk_id: str) -> BulkProgress:
    return await vcs.bulk_progress(bulk_id, MANAGER_ACTOR)


async def wait_finished(vcs: Vcs, bulk_id: str) -> BulkProgress:
    """The bulk's final progress, once its last run has returned it.

    Watched by describing the workflow, never by `bulk progress` (a query): the time-skipping
    test server mishandles a query that arrives while a run continues as new, as the bulk does
    after each page. The new run starts but the old one is left open with its workflow task
    in flight, and the server then never skips time again (reproduced outside this suite; its
    continue-as-new is not atomic: temporalio/sdk-java#1537). The real server has no such fault.
    """
    handle: WorkflowHandle[Any, BulkProgress] = vcs.client.get_workflow_handle(
        bulk_workflow_id(bulk_id), result_type=BulkProgress
    )
    for _ in range(300):
        if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
            return await handle.result()
        await asyncio.sleep(0.1)
    raise AssertionError(f"bulk transfer {bulk_id} did not finish")


async def test_bulk_transfer_pauses_resumes_and_never_moves_a_case_twice(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    refs = [unique_ref("B") for _ in range(5)]
    bulk_id, rerun_id = unique_ref("U"), unique_ref("R")
    async with settled_worker(env, engine, task_queue):
        for ref in refs:
            await vcs.register_case(
                registration(ref, today, term_months=24, provider=Provider.CRC), actor=MANAGER_ACTOR
            )
        victim_id, _ = await vcs.add_victim(refs[0], victim(), actor=MANAGER_ACTOR)
        await until(lambda: tasks(engine, victim_id))
        before = vlo_tasks(engine, refs[0])
        # One case already has a hand-off in progress, asked for by a VLO: the bulk skips it.
        await vcs.request_handoff(
            refs[4], HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        busy = vcs.handoff_of(None, refs[4])
        try:
            await vcs.bulk_start(
                bulk_id,
                Provider.CRC,
                Provider.NPS,
                vlo_actor("ops.lead", role=Role.VLO_MANAGER),
                page_size=2,
                paused=True,
            )
            p = await progress(vcs, bulk_id)
            assert (p.paused, p.done, p.finished) == (True, 0, False)
            with pytest.raises(VcsError, match="already paused"):
                await vcs.bulk_pause(bulk_id, vlo_actor("ops.lead", role=Role.VLO_MANAGER))
            assert all(case_row(engine, r).provider is Provider.CRC for r in refs)
            await vcs.bulk_resume(bulk_id, vlo_actor("ops.lead", role=Role.VLO_MANAGER))
            p = await wait_finished(vcs, bulk_id)
            assert (p.done, p.skipped, p.failed, p.remaining) == (4, 1, 0, 0)
            for ref in refs[:4]:
                row = case_row(engine, ref)
                assert (row.provider, row.responsible_vlo) == (Provider.NPS, "vlo.jones")
            assert case_row(engine, refs[4]).provider is Provider.CRC  # still its own hand-off
            # The victim's workflow and tasks followed; nothing dropped.
            await until(lambda: vlo_tasks(engine, refs[0]) == before)
            view = await vcs.victim_view(victim_id, MANAGER_ACTOR)
            assert view.provider == "NPS"
            # The steps were recorded as done by the bulk operation.
            with session_scope(engine) as session:
                actors = session.exec(
                    select(AuditEntry.actor).where(AuditEntry.action == "handoff_accepted")
                ).all()
            assert actors.count(BULK_ACTOR) == 4
            # Continued as new after each page: three runs for five cases in pages of two.
            history = await env.client.get_workflow_handle(
                bulk_workflow_id(bulk_id)
            ).fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            assert started.continued_execution_run_id

            # A re-run (same ID: it has finished; a new ID: a new operation) moves nothing twice.
            await vcs.bulk_start(
                bulk_id,
                Provider.CRC,
                Provider.NPS,
                vlo_actor("ops.lead", role=Role.VLO_MANAGER),
                page_size=2,
            )
            assert (await wait_finished(vcs, bulk_id)).done == 0
            await vcs.bulk_start(
                rerun_id,
                Provider.CRC,
                Provider.NPS,
                vlo_actor("ops.lead", role=Role.VLO_MANAGER),
                page_size=2,
            )
            p = await wait_finished(vcs, rerun_id)
            assert (p.done, p.skipped) == (0, 1)
            with session_scope(engine) as session:
                rows = session.exec(select(CaseHandoff)).all()
            per_case: dict[int, int] = {}
            for h in rows:
                per_case[h.case_id] = per_case.get(h.case_id, 0) + 1
            assert sorted(per_case.values()) == [1] * 5
        finally:
            await terminate(env, busy)


# ---- withdrawal, and complete-task on a hand-off's tasks ----------------------------------


def handoff_row(engine: Engine, handoff_id: str) -> CaseHandoff:
    with session_scope(engine) as session:
        return session.exec(select(CaseHandoff).where(CaseHandoff.handoff_id == handoff_id)).one()


def task_row(engine: Engine, task_id: int) -> VloTask:
    with session_scope(engine) as session:
        row = session.get(VloTask, task_id)
        assert row is not None
        return row


async def no_open_handoff(vcs: Vcs, case_ref: str) -> None:
    for _ in range(100):
        if (await vcs.case_view(case_ref, MANAGER_ACTOR)).open_handoff is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"case {case_ref} still shows a hand-off open")


async def test_withdrawn_or_refused_handoff_closes_its_tasks_and_switches_nothing(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("W")
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=36, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=MANAGER_ACTOR)
        [offer] = await until_tasks(engine, victim_id)
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        first = vcs.handoff_of(None, case_ref)
        await until(lambda: handoff_tasks(engine, first))
        [supply] = handoff_tasks(engine, first)
        # The supply step is missed: escalated to the receiving provider's hand-off manager.
        await env.sleep(timedelta(days=(supply.due_on - today).days + 2))
        await until(lambda: len(handoff_tasks(engine, first)) == 2)
        [_, escalation] = handoff_tasks(engine, first)
        assert escalation.kind is TaskKind.ESCALATION
        # complete-task on the escalation says what closes it; nothing changes.
        assert escalation.id is not None and supply.id is not None
        with pytest.raises(VcsError, match="closes when the hand-off is supplied or withdrawn"):
            await vcs.complete_task(escalation.id, actor=MANAGER_ACTOR, outcome="done")
        assert len(handoff_tasks(engine, first)) == 2

        result = await vcs.handoff_withdraw(
            first, WithdrawalReason.REQUESTED_IN_ERROR, MANAGER_ACTOR
        )
        assert "stays with CRC" in result.message
        # Its tasks and their escalation closed with the reason; nothing switched or moved.
        for task_id in (supply.id, escalation.id):
            row = task_row(engine, task_id)
            assert (row.status, row.completed_by, row.outcome) == (
                TaskStatus.DONE,
                "vlo.jones",
                "hand-off withdrawn: requested_in_error",
            )
        withdrawn = handoff_row(engine, first)
        assert (withdrawn.step, withdrawn.withdrawn_reason, withdrawn.withdrawn_by) == (
            HandoffStep.WITHDRAWN,
            WithdrawalReason.REQUESTED_IN_ERROR,
            "vlo.jones",
        )
        assert withdrawn.withdrawn_at is not None and withdrawn.switched_at is None
        case = case_row(engine, case_ref)
        assert (case.provider, case.responsible_vlo) == (Provider.CRC, "vlo.jones")
        assert task_row(engine, offer.id or 0).assigned_to == "vlo.jones"
        with session_scope(engine) as session:
            [detail] = session.exec(
                select(AuditEntry.detail).where(
                    AuditEntry.case_id == case.id, AuditEntry.action == "handoff_withdrawn"
                )
            ).all()
        assert audit_facts(detail) == {
            "handoff": first,
            "at_step": "requested",
            "reason": "requested_in_error",
            "stays_with": "CRC",
        }
        view = await vcs.handoff_view(first, MANAGER_ACTOR)
        assert (view.step, view.open_task_ids) == (HandoffStep.WITHDRAWN, [])
        await no_open_handoff(vcs, case_ref)
        # A withdrawn hand-off cannot go on.
        for step in (vcs.handoff_supply, vcs.handoff_accept):
            with pytest.raises(VcsError, match=r"was withdrawn \(requested_in_error\)"):
                await step(first, MANAGER_ACTOR)
        with pytest.raises(VcsError, match="can no longer be withdrawn"):
            await vcs.handoff_withdraw(first, WithdrawalReason.CIRCUMSTANCES_CHANGED, MANAGER_ACTOR)

        # Another hand-off may be asked for. complete-task on its supply task supplies it;
        # the receiving provider then refuses it (a withdrawal with that reason).
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        second = vcs.handoff_of(None, case_ref)
        assert second != first
        with pytest.raises(VcsError, match="recorded by the engine only"):
            await vcs.handoff_withdraw(second, WithdrawalReason.HANDOFF_FAILED, MANAGER_ACTOR)
        [supply2] = await until_handoff_task(engine, second, TaskKind.HANDOFF_SUPPLY)
        result = await vcs.complete_task(
            supply2.id or 0, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER), outcome="sent"
        )
        assert "case information supplied" in result.message
        assert (await vcs.handoff_view(second, MANAGER_ACTOR)).step is HandoffStep.SUPPLIED
        [accept2] = await until_handoff_task(engine, second, TaskKind.HANDOFF_ACCEPT)
        await vcs.handoff_withdraw(
            second, WithdrawalReason.REFUSED_BY_RECEIVER, vlo_actor(NEW_VLO, role=Role.VLO_MANAGER)
        )
        assert (
            task_row(engine, accept2.id or 0).outcome == "hand-off withdrawn: refused_by_receiver"
        )
        assert case_row(engine, case_ref).provider is Provider.CRC
        await no_open_handoff(vcs, case_ref)

        # A third goes through, by complete-task on each step's task; once switched it cannot
        # be withdrawn, and the refusal changes nothing.
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        third = vcs.handoff_of(None, case_ref)
        [supply3] = await until_handoff_task(engine, third, TaskKind.HANDOFF_SUPPLY)
        await vcs.complete_task(
            supply3.id or 0, actor=vlo_actor("crc.staff", role=Role.VLO_MANAGER), outcome="sent"
        )
        [accept3] = await until_handoff_task(engine, third, TaskKind.HANDOFF_ACCEPT)
        result = await vcs.complete_task(
            accept3.id or 0, actor=vlo_actor(NEW_VLO, role=Role.VLO_MANAGER), outcome="accepted"
        )
        assert f"is now with NPS/{REGION}/{NEW_VLO}" in result.message
        with pytest.raises(
            VcsError,
            match=f"already accepted: responsibility has switched to NPS/{REGION}/{NEW_VLO}",
        ):
            await vcs.handoff_withdraw(third, WithdrawalReason.CIRCUMSTANCES_CHANGED, MANAGER_ACTOR)
        assert handoff_row(engine, third).step is HandoffStep.SWITCHED
        assert case_row(engine, case_ref).provider is Provider.NPS
        assert [h.step for h in handoffs_of(engine, case_ref)] == [
            HandoffStep.WITHDRAWN,
            HandoffStep.WITHDRAWN,
            HandoffStep.SWITCHED,
        ]
        # Only this switch moved the victim's open task to the new VLO.
        await until(lambda: task_row(engine, offer.id or 0).assigned_to == NEW_VLO)
        for _ in range(100):
            case_view, victim_view = (
                await vcs.case_view(case_ref, MANAGER_ACTOR),
                await vcs.victim_view(victim_id, MANAGER_ACTOR),
            )
            if case_view.provider == victim_view.provider == "NPS":
                break
            await asyncio.sleep(0.1)
        assert (case_view.responsible_vlo, victim_view.responsible_vlo) == (NEW_VLO, NEW_VLO)


async def until_tasks(engine: Engine, victim_id: int) -> list[VloTask]:
    return await eventually(lambda: tasks(engine, victim_id))


def handoff_tasks(engine: Engine, handoff_id: str) -> list[VloTask]:
    return [t for t in tasks(engine) if handoff_of_task(t.task_key) == handoff_id]


async def until_handoff_task(engine: Engine, handoff_id: str, kind: TaskKind) -> list[VloTask]:
    return await eventually(
        lambda: [t for t in handoff_tasks(engine, handoff_id) if t.kind is kind]
    )


def handoffs_of(engine: Engine, case_ref: str) -> list[CaseHandoff]:
    case_id = case_row(engine, case_ref).id
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(CaseHandoff)
                .where(CaseHandoff.case_id == case_id)
                .order_by(col(CaseHandoff.number))
            ).all()
        )


# ---- the bulk transfer: bounded waits, and a pause in the middle of a page --------------------


def stall_switches(monkeypatch: pytest.MonkeyPatch, slow: set[int], dead: set[int]) -> None:
    """Fault injection, before the worker is built: the switch of a case in `slow` fails and is
    retried (the database out of reach for it) until the case leaves the set; of a case in
    `dead`, fails for good, so its case records the hand-off as failed."""
    original = HandoffStoreActivities.switch_responsibility

    # (The SDK leaves out a first parameter "self" only when it is not annotated.)
    @activity.defn(name="switch_responsibility")
    def switch(self, switch: ResponsibilitySwitch) -> list[int]:  # type: ignore[no-untyped-def]
        if switch.case_id in dead:
            raise data_error(f"case id {switch.case_id}: injected failure")
        if switch.case_id in slow:
            raise RuntimeError("injected: database out of reach")
        return original(self, switch)

    monkeypatch.setattr(HandoffStoreActivities, "switch_responsibility", switch)


async def test_bulk_transfer_never_waits_on_a_handoff_without_a_bound(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hand-off still going after the policy's wait is reported as waiting and escalated,
    and the bulk moves on; one that cannot finish is withdrawn as failed by its case (the case
    is free again), and reported so. The bulk finishes once each has an outcome."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    slow_ref, dead_ref, fine_ref, last_ref = refs = [unique_ref("S") for _ in range(4)]
    bulk_id = unique_ref("U")
    bound = timedelta(minutes=HandoffPolicy().bulk_handoff_wait_minutes)
    slow: set[int] = set()
    dead: set[int] = set()
    stall_switches(monkeypatch, slow, dead)
    async with settled_worker(env, engine, task_queue):
        for ref in refs:
            await vcs.register_case(
                registration(ref, today, term_months=24, provider=Provider.CRC), actor=MANAGER_ACTOR
            )
        slow.add(case_row(engine, slow_ref).id or 0)
        dead.add(case_row(engine, dead_ref).id or 0)
        await vcs.bulk_start(
            bulk_id,
            Provider.CRC,
            Provider.NPS,
            vlo_actor("ops.lead", role=Role.VLO_MANAGER),
            page_size=3,
        )
        p = await eventually_progress(
            vcs, bulk_id, lambda p: (p.done, p.failed, p.in_flight) == (1, 1, 1)
        )
        assert (p.remaining, p.waiting, p.failures, p.finished) == (1, [], [dead_ref], False)

        await env.sleep(bound + timedelta(minutes=1))
        # The page's checks done, the bulk continues as new for the next page: only once that
        # page's case has moved is it safe to query (see wait_finished).
        await until(lambda: case_row(engine, last_ref).provider is Provider.NPS)
        p = await eventually_progress(vcs, bulk_id, lambda p: p.done == 2 and p.failed == 1)
        # The slow one: waiting, escalated to the NPS hand-off manager; the bulk went on.
        [waiting] = p.waiting
        assert (waiting.case_ref, p.failures, p.finished) == (slow_ref, [dead_ref], False)
        [escalation] = [
            t for t in open_case_tasks(engine, slow_ref) if t.kind is TaskKind.ESCALATION
        ]
        assert escalation.id == waiting.escalation_task_id
        assert (escalation.assigned_to, escalation.workflow_id) == (
            "role:handoff-manager-NPS",
            bulk_workflow_id(bulk_id),
        )
        assert waiting.handoff_id in escalation.title
        with pytest.raises(VcsError, match="closes itself when the hand-off finishes"):
            await vcs.complete_task(
                escalation.id or 0,
                actor=vlo_actor("ops.lead", role=Role.VLO_MANAGER),
                outcome="done",
            )
        # The dead one: withdrawn as failed, the case left as it was and free for a hand-off.
        [row] = handoffs_of(engine, dead_ref)
        assert (row.step, row.withdrawn_reason) == (
            HandoffStep.WITHDRAWN,
            WithdrawalReason.HANDOFF_FAILED,
        )
        assert case_row(engine, dead_ref).provider is Provider.CRC
        await no_open_handoff(vcs, dead_ref)
        await vcs.request_handoff(
            dead_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        await vcs.handoff_withdraw(
            vcs.handoff_of(None, dead_ref), WithdrawalReason.REQUESTED_IN_ERROR, MANAGER_ACTOR
        )

        # The slow one gets through: the bulk counts it, closes the escalation and finishes.
        slow.clear()
        await env.sleep(timedelta(minutes=2))
        p = await wait_finished(vcs, bulk_id)
        assert (p.done, p.failed, p.skipped, p.waiting, p.in_flight) == (3, 1, 0, [], 0)
        assert task_row(engine, escalation.id or 0).status is TaskStatus.DONE
        assert case_row(engine, slow_ref).provider is Provider.NPS
        assert case_row(engine, fine_ref).provider is Provider.NPS


async def test_a_bulk_handoff_whose_case_workflow_ended_is_recorded_as_failed(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case holds the hand-off: if its workflow ends with the hand-off still open (ops
    terminated it), the bulk, looking again after its bound, records the hand-off as failed and
    withdrawn, closes its escalation and finishes; the case stays where it was."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    stuck_ref, bulk_id = unique_ref("T"), unique_ref("U")
    bound = timedelta(minutes=HandoffPolicy().bulk_handoff_wait_minutes)
    slow: set[int] = set()
    stall_switches(monkeypatch, slow, set())
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(stuck_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        slow.add(case_row(engine, stuck_ref).id or 0)
        ops = vlo_actor("ops.lead", role=Role.VLO_MANAGER)
        await vcs.bulk_start(bulk_id, Provider.CRC, Provider.NPS, ops, page_size=1)
        await until(lambda: handoffs_of(engine, stuck_ref))
        await env.sleep(bound + timedelta(minutes=1))
        p = await eventually_progress(vcs, bulk_id, lambda p: len(p.waiting) == 1)
        [waiting] = p.waiting
        await terminate(env, case_workflow_id(stuck_ref))

        await env.sleep(bound + timedelta(minutes=1))
        p = await wait_finished(vcs, bulk_id)
        assert (p.done, p.failed, p.failures, p.waiting) == (0, 1, [stuck_ref], [])
        [row] = handoffs_of(engine, stuck_ref)
        assert (row.step, row.withdrawn_reason) == (
            HandoffStep.WITHDRAWN,
            WithdrawalReason.HANDOFF_FAILED,
        )
        assert case_row(engine, stuck_ref).provider is Provider.CRC
        assert task_row(engine, waiting.escalation_task_id or 0).status is TaskStatus.DONE


async def eventually_progress(
    vcs: Vcs, bulk_id: str, check: Callable[[BulkProgress], bool]
) -> BulkProgress:
    """`bulk progress` until it passes `check`: only while the bulk stays on one page (a query
    racing a continue-as-new wedges the time-skipping server; see wait_finished)."""
    last = None
    for _ in range(300):
        with contextlib.suppress(VcsError):
            last = await progress(vcs, bulk_id)
            if check(last):
                return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"bulk transfer {bulk_id}: progress never as expected: {last}")


async def test_bulk_transfer_paused_in_the_middle_of_a_page_resumes_without_moving_twice(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    refs = [unique_ref("P") for _ in range(4)]
    bulk_id = unique_ref("U")
    # Hold the second case's registration until the pause has been taken: the page is then
    # in progress (one case moved, one being moved, one not yet started).
    entered, gate = threading.Event(), threading.Event()
    original = HandoffStoreActivities.register_handoff

    @activity.defn(name="register_handoff")
    def register(self, start: HandoffStart) -> str:  # type: ignore[no-untyped-def]
        if start.case_ref == refs[1]:
            entered.set()
            gate.wait(timeout=20)
        return original(self, start)

    monkeypatch.setattr(HandoffStoreActivities, "register_handoff", register)
    async with settled_worker(env, engine, task_queue):
        for ref in refs:
            await vcs.register_case(
                registration(ref, today, term_months=24, provider=Provider.CRC), actor=MANAGER_ACTOR
            )
        await vcs.bulk_start(
            bulk_id,
            Provider.CRC,
            Provider.NPS,
            vlo_actor("ops.lead", role=Role.VLO_MANAGER),
            page_size=3,
        )
        await until(entered.is_set)
        try:
            await vcs.bulk_pause(bulk_id, vlo_actor("ops.lead", role=Role.VLO_MANAGER))
        finally:
            gate.set()
        # The case being moved finishes; the rest of the page waits for the resume.
        p = await eventually_progress(vcs, bulk_id, lambda p: p.done == 2 and p.in_flight == 0)
        assert (p.paused, p.remaining, p.finished) == (True, 2, False)
        await asyncio.sleep(1)
        assert [case_row(engine, r).provider for r in refs] == [
            Provider.NPS,
            Provider.NPS,
            Provider.CRC,
            Provider.CRC,
        ]
        assert handoffs_of(engine, refs[2]) == []
        assert (await progress(vcs, bulk_id)).done == 2

        await vcs.bulk_resume(bulk_id, vlo_actor("ops.lead", role=Role.VLO_MANAGER))
        p = await wait_finished(vcs, bulk_id)
        assert (p.done, p.skipped, p.failed, p.remaining, p.waiting) == (4, 0, 0, 0, [])
        for ref in refs:
            [row] = handoffs_of(engine, ref)  # one hand-off each: nothing moved twice
            assert row.step is HandoffStep.SWITCHED
            with session_scope(engine) as session:
                switches = session.exec(
                    select(AuditEntry.id).where(
                        AuditEntry.case_id == row.case_id, AuditEntry.action == "handoff_switched"
                    )
                ).all()
            assert len(switches) == 1
