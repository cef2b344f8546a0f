"""Provider hand-offs, CRC duties and the bulk transfer, under the time-skipping test server.

A hand-off during a parole review is out of scope here: the scheme has no parole process yet
(it arrives with the parole issue); when it does, its open tasks move like any other.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from models.case import OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.handoff import (
    BULK_ACTOR,
    BulkProgress,
    CaseHandoff,
    HandoffPolicy,
    bulk_workflow_id,
)
from models.records import AuditEntry, VloTask
from models.vocabulary import (
    ContactLevel,
    CrcEventKind,
    HandoffReason,
    HandoffStep,
    LetterKind,
    Provider,
    Stage,
    TaskKind,
)
from models.working_days import add_working_days
from starter import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    stage,
    tasks,
    victim,
)
from worker import build_worker

pytestmark = pytest.mark.usefixtures("cleanup_workflows")

NEW_VLO = "vlo.smith"
REGION = "Yorkshire and the Humber"


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
        if not t.workflow_id.startswith("vcs-handoff-")
    }


async def until(check: Callable[[], object], timeout: float = 30.0) -> None:
    await eventually(check, timeout)


async def terminate(env: WorkflowEnvironment, workflow_id: str) -> None:
    with contextlib.suppress(RPCError):
        await env.client.get_workflow_handle(workflow_id).terminate(reason="test finished")


async def test_handoff_moves_case_victims_and_every_open_task_keeping_due_dates(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """CRC -> NPS on risk: during an open representations window. Nothing is dropped."""
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    reg = registration(case_ref, today, term_months=12, provider=Provider.CRC)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, by="vlo.jones")
        v1, _ = await vcs.add_victim(case_ref, victim("A One"), by="vlo.jones")
        v2, _ = await vcs.add_victim(case_ref, victim("B Two", postcode="LS2 2BB"), by="vlo.jones")
        await offered_and_opted_in(vcs, engine, v1, ContactLevel.ALL_KEY_STAGES)
        await until(lambda: tasks(engine, v2))  # v2's offer task stays open (and overdue)
        # Into the representations window: v1's representations task opens; v2's offer escalates.
        release = reg.conditional_release_date
        assert release is not None
        await env.sleep(timedelta(days=(release - today).days - 119))
        await until(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, v1))
        await until(lambda: any(t.kind is TaskKind.ESCALATION for t in tasks(engine, v2)))
        now = (await env.get_current_time()).date()
        await vcs.report_crc_event(case_ref, CrcEventKind.BREACH, now, by="crc.staff")
        before = vlo_tasks(engine, case_ref)
        kinds = {kind for kind, _, _ in before.values()}
        assert {
            TaskKind.DISCUSS_REPRESENTATIONS,
            TaskKind.OFFER_SCHEME,
            TaskKind.ESCALATION,
            TaskKind.CRC_EVENT,
        } <= kinds
        v1_before = await vcs.victim_view(v1)

        with pytest.raises(VcsError, match="nothing to hand off"):
            await vcs.request_handoff(
                case_ref, HandoffReason.REGION_MOVE, Provider.CRC, REGION, "vlo.jones", "vlo.jones"
            )
        result = await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, "vlo.jones"
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        assert handoff_id in result.message
        with pytest.raises(VcsError, match="already has hand-off"):
            await vcs.request_handoff(
                case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, "vlo.x", "vlo.jones"
            )
        with pytest.raises(VcsError, match="has not supplied"):
            await vcs.handoff_accept(handoff_id, by=NEW_VLO)
        view = await vcs.handoff_view(handoff_id)
        assert view.step is HandoffStep.REQUESTED and view.step_due_on is not None
        await vcs.handoff_supply(handoff_id, by="crc.staff")
        with pytest.raises(VcsError, match="already supplied"):
            await vcs.handoff_supply(handoff_id, by="crc.staff")
        await vcs.handoff_accept(handoff_id, by=NEW_VLO)

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
            case_view = await vcs.case_view(case_ref)
            if case_view.open_handoff is None:
                break
            await asyncio.sleep(0.1)
        assert (case_view.provider, case_view.responsible_vlo) == ("NPS", NEW_VLO)
        assert case_view.open_handoff is None
        for victim_id in (v1, v2):

            async def shows_new(vid: int = victim_id) -> bool:
                view = await vcs.victim_view(vid)
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
        v1_after = await vcs.victim_view(v1)
        assert (v1_after.stage, v1_after.contact_level) == (
            v1_before.stage,
            v1_before.contact_level,
        )
        assert [(t.task_id, t.due_on) for t in v1_after.open_tasks] == [
            (t.task_id, t.due_on) for t in v1_before.open_tasks
        ]
        assert stage(engine, v1) is Stage.OPTED_IN
        assert (await vcs.handoff_view(handoff_id)).step is HandoffStep.SWITCHED
        # A task opened after the switch goes to the new VLO.
        await vcs.complete_task(
            next(i for i, (k, _, _) in after.items() if k is TaskKind.OFFER_SCHEME),
            by=NEW_VLO,
            outcome="phoned",
        )
        assert stage(engine, v2) is Stage.OFFERED
        with pytest.raises(VcsError, match="only a CRC-supervised"):
            await vcs.report_crc_event(case_ref, CrcEventKind.RECALL, now, by="crc.staff")


async def test_each_missed_handoff_deadline_escalates_and_the_handoff_keeps_waiting(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    policy = HandoffPolicy()
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=36, provider=Provider.CRC), by="vlo.jones"
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, "vlo.jones"
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        await until(lambda: open_case_tasks(engine, case_ref))
        supply_due = add_working_days(today, policy.supply_working_days)
        [supply] = open_case_tasks(engine, case_ref)
        assert (supply.kind, supply.due_on, supply.assigned_to) == (
            TaskKind.HANDOFF_SUPPLY,
            supply_due,
            "vlo.jones",
        )
        await env.sleep(timedelta(days=(supply_due - today).days + 2))

        def escalations() -> list[VloTask]:
            return [t for t in open_case_tasks(engine, case_ref) if t.kind is TaskKind.ESCALATION]

        await until(escalations)
        [esc] = escalations()
        assert esc.assigned_to == "role:handoff-manager-NPS"
        view = await vcs.handoff_view(handoff_id)
        assert view.step is HandoffStep.REQUESTED and len(view.escalations) == 1

        await vcs.handoff_supply(handoff_id, by="crc.staff")
        assert escalations() == []  # closed with the step it escalated
        [accept] = open_case_tasks(engine, case_ref)
        assert (accept.kind, accept.assigned_to) == (TaskKind.HANDOFF_ACCEPT, NEW_VLO)
        now = (await env.get_current_time()).date()
        await env.sleep(timedelta(days=(accept.due_on - now).days + 2))
        await until(escalations)
        assert [t.assigned_to for t in escalations()] == ["role:handoff-manager-NPS"]
        view = await vcs.handoff_view(handoff_id)
        assert view.step is HandoffStep.SUPPLIED
        assert [e.step for e in view.escalations] == [HandoffStep.REQUESTED, HandoffStep.SUPPLIED]
        await vcs.handoff_accept(handoff_id, by=NEW_VLO)
        assert open_case_tasks(engine, case_ref) == []
        assert case_row(engine, case_ref).responsible_vlo == NEW_VLO


async def test_youth_to_adult_only_from_a_yot_and_crc_reports_late_are_recorded(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    youth, crc = unique_ref("Y"), unique_ref("C")
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(
            registration(youth, today, term_months=24, provider=Provider.YOT), by="vlo.jones"
        )
        await vcs.register_case(
            registration(crc, today, term_months=24, provider=Provider.CRC), by="vlo.jones"
        )
        with pytest.raises(VcsError, match="only from a Youth Offending Team"):
            await vcs.request_handoff(
                crc, HandoffReason.YOUTH_TO_ADULT, Provider.NPS, REGION, NEW_VLO, "vlo.jones"
            )
        with pytest.raises(VcsError, match="from a CRC to the NPS"):
            await vcs.request_handoff(
                youth, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, "vlo.jones"
            )
        # 000_5a1d...: the NPS decides and arranges the transfer of a youth who turns 18.
        await vcs.request_handoff(
            youth, HandoffReason.YOUTH_TO_ADULT, Provider.NPS, REGION, NEW_VLO, "nps.transitions"
        )
        handoff_id = vcs.handoff_of(None, youth)
        await vcs.handoff_supply(handoff_id, by="yot.worker")
        await vcs.handoff_accept(handoff_id, by=NEW_VLO)
        assert case_row(engine, youth).provider is Provider.NPS

        # CRC duty: an event reported after the agreed time is recorded as late.
        await env.sleep(timedelta(days=14))
        now = (await env.get_current_time()).date()
        result = await vcs.report_crc_event(crc, CrcEventKind.RECALL, today, by="crc.staff")
        assert "LATE" in result.message
        [task] = open_case_tasks(engine, crc)
        assert task.kind is TaskKind.CRC_EVENT and task.assigned_to == "vlo.jones"
        assert task.due_on == add_working_days(now, HandoffPolicy().crc_action_working_days)
        with session_scope(engine) as session:
            actions = session.exec(
                select(AuditEntry.action).where(AuditEntry.case_id == case_row(engine, crc).id)
            ).all()
        assert "crc_event_reported_late" in actions
        on_time = await vcs.report_crc_event(
            crc, CrcEventKind.ADDRESS_CHANGE_EXCLUSION_ZONE, now, by="crc.staff"
        )
        assert "on time" in on_time.message
        with pytest.raises(VcsError, match="already reported"):
            await vcs.report_crc_event(crc, CrcEventKind.RECALL, today, by="crc.staff")


async def progress(vcs: Vcs, bulk_id: str) -> BulkProgress:
    return await vcs.bulk_progress(bulk_id)


async def wait_finished(vcs: Vcs, bulk_id: str) -> BulkProgress:
    for _ in range(300):
        try:
            p = await progress(vcs, bulk_id)
        except VcsError:
            p = None
        if p is not None and p.finished:
            return p
        await asyncio.sleep(0.1)
    raise AssertionError(f"bulk transfer {bulk_id} did not finish")


async def test_bulk_transfer_pauses_resumes_and_never_moves_a_case_twice(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    refs = [unique_ref("B") for _ in range(5)]
    bulk_id, rerun_id = unique_ref("U"), unique_ref("R")
    async with build_worker(env.client, engine, task_queue):
        for ref in refs:
            await vcs.register_case(
                registration(ref, today, term_months=24, provider=Provider.CRC), by="vlo.jones"
            )
        victim_id, _ = await vcs.add_victim(refs[0], victim(), by="vlo.jones")
        await until(lambda: tasks(engine, victim_id))
        before = vlo_tasks(engine, refs[0])
        # One case already has a hand-off in progress, asked for by a VLO: the bulk skips it.
        await vcs.request_handoff(
            refs[4], HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, "vlo.jones"
        )
        busy = vcs.handoff_of(None, refs[4])
        try:
            await vcs.bulk_start(
                bulk_id, Provider.CRC, Provider.NPS, "ops.lead", page_size=2, paused=True
            )
            p = await progress(vcs, bulk_id)
            assert (p.paused, p.done, p.finished) == (True, 0, False)
            with pytest.raises(VcsError, match="already paused"):
                await vcs.bulk_pause(bulk_id, "ops.lead")
            assert all(case_row(engine, r).provider is Provider.CRC for r in refs)
            await vcs.bulk_resume(bulk_id, "ops.lead")
            p = await wait_finished(vcs, bulk_id)
            assert (p.done, p.skipped, p.failed, p.remaining) == (4, 1, 0, 0)
            for ref in refs[:4]:
                row = case_row(engine, ref)
                assert (row.provider, row.responsible_vlo) == (Provider.NPS, "vlo.jones")
            assert case_row(engine, refs[4]).provider is Provider.CRC  # still its own hand-off
            # The victim's workflow and tasks followed; nothing dropped.
            await until(lambda: vlo_tasks(engine, refs[0]) == before)
            view = await vcs.victim_view(victim_id)
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
            await vcs.bulk_start(bulk_id, Provider.CRC, Provider.NPS, "ops.lead", page_size=2)
            assert (await wait_finished(vcs, bulk_id)).done == 0
            await vcs.bulk_start(rerun_id, Provider.CRC, Provider.NPS, "ops.lead", page_size=2)
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
