"""A hand-off held by its case's workflow (workflows/handoff_path.py): it outlives the case's
closing, as it did when it ran on its own, until it is switched or withdrawn."""

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.errors import data_error
from activities.handoff import HandoffStoreActivities
from models.audit import stored_facts
from models.case_repository import register_case
from models.db import session_scope
from models.handoff import (
    BULK_ACTOR,
    HandoffStart,
    HandoffStepRecord,
    HandoffWithdrawalRecord,
    Responsibility,
    ResponsibilitySwitch,
    WithdrawalReason,
)
from models.ids import case_workflow_id
from models.records import AuditEntry
from models.vocabulary import HandoffReason, HandoffStep, KeyStage, Provider, TaskKind
from models.working_days import london_date
from service.access import Refused
from service.actor import Role
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    MANAGER_ACTOR,
    VLO_ACTOR,
    eventually,
    registration,
    victim,
    vlo_actor,
    workflow_status,
)
from tests.test_handoff import (
    NEW_VLO,
    REGION,
    case_row,
    handoff_row,
    handoffs_of,
    open_case_tasks,
    settled_worker,
    until_handoff_task,
    until_tasks,
    wait_finished,
)

pytestmark = pytest.mark.usefixtures("cleanup_workflows")


async def test_a_handoff_open_when_its_case_closes_goes_on_until_it_is_withdrawn(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        await eventually(lambda: open_case_tasks(engine, case_ref))
        await vcs.record_key_stage(case_ref, KeyStage.DEATH, today, MANAGER_ACTOR)
        assert (await vcs.case_view(case_ref, MANAGER_ACTOR)).closed
        # The case's workflow holds the hand-off still: it is shown, and it can be withdrawn.
        view = await vcs.handoff_view(handoff_id, MANAGER_ACTOR)
        assert view.step is HandoffStep.REQUESTED
        [supply] = open_case_tasks(engine, case_ref)
        assert supply.kind is TaskKind.HANDOFF_SUPPLY
        assert await workflow_status(env, case_workflow_id(case_ref)) != "COMPLETED"
        await vcs.handoff_withdraw(
            handoff_id, WithdrawalReason.CIRCUMSTANCES_CHANGED, MANAGER_ACTOR
        )
        assert open_case_tasks(engine, case_ref) == []

        async def completed() -> bool:
            return await workflow_status(env, case_workflow_id(case_ref)) == "COMPLETED"

        for _ in range(100):
            if await completed():
                break
            await env.sleep(1)
        assert await completed()


async def test_a_closed_cases_handoff_is_supplied_and_accepted_by_its_tasks(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        [supply] = await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_SUPPLY)
        await vcs.record_key_stage(case_ref, KeyStage.DEATH, today, MANAGER_ACTOR)
        assert (await vcs.case_view(case_ref, MANAGER_ACTOR)).closed
        result = await vcs.complete_task(supply.id or 0, actor=MANAGER_ACTOR, outcome="sent")
        assert "case information supplied" in result.message
        [accept] = await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_ACCEPT)
        receiver = vlo_actor(NEW_VLO, role=Role.VLO_MANAGER)
        result = await vcs.complete_task(accept.id or 0, actor=receiver, outcome="accepted")
        assert f"is now with NPS/{REGION}/{NEW_VLO}" in result.message
        assert handoff_row(engine, handoff_id).step is HandoffStep.SWITCHED


async def test_a_handoffs_tasks_are_completed_only_by_who_may_take_its_steps(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """Completing the supply task supplies, the accept task accepts: each is checked as
    `handoff supply` and `handoff accept` are (service/access.py), never as a plain task."""
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    there = "London"
    receiving_manager = vlo_actor(NEW_VLO, region=there, role=Role.VLO_MANAGER)
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, there, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        [supply] = await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_SUPPLY)
        for who in (VLO_ACTOR, receiving_manager):  # a plain VLO; the other side
            with pytest.raises(Refused):
                await vcs.complete_task(supply.id or 0, actor=who, outcome="sent")
        await vcs.complete_task(supply.id or 0, actor=MANAGER_ACTOR, outcome="sent")
        [accept] = await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_ACCEPT)
        for who in (VLO_ACTOR, MANAGER_ACTOR, vlo_actor(NEW_VLO, region=there)):
            with pytest.raises(Refused):
                await vcs.complete_task(accept.id or 0, actor=who, outcome="accepted")
        assert handoff_row(engine, handoff_id).step is HandoffStep.SUPPLIED
        result = await vcs.complete_task(
            accept.id or 0, actor=receiving_manager, outcome="accepted"
        )
        assert f"is now with NPS/{there}/{NEW_VLO}" in result.message
        assert case_row(engine, case_ref).region == there


def registered_handoff(engine: Engine) -> tuple[HandoffStoreActivities, HandoffStart, str]:
    """A case in the database with a hand-off recorded (no workflows): the activities, the
    hand-off as asked for, and its ID."""
    case = register_case(engine, registration(unique_ref(), date.today()), "vlo.jones").case
    assert case.id is not None
    store = HandoffStoreActivities(engine)
    start = HandoffStart(
        request_key=f"{case.case_ref}:handoff:1",
        case_ref=case.case_ref,
        case_id=case.id,
        reason=HandoffReason.RISK_ESCALATION,
        sender=Responsibility(provider=case.provider, region=case.region, vlo="vlo.jones"),
        receiver=Responsibility(provider=Provider.NPS, region=REGION, vlo=NEW_VLO),
        requested_by=BULK_ACTOR,
    )
    return store, start, store.register_handoff(start)


def switch_of(start: HandoffStart, handoff_id: str) -> ResponsibilitySwitch:
    return ResponsibilitySwitch(
        idempotency_key=f"{handoff_id}:switch",
        handoff_id=handoff_id,
        case_id=start.case_id,
        sender=start.sender,
        receiver=start.receiver,
        by=BULK_ACTOR,
    )


async def test_a_handoff_recorded_as_failed_is_never_supplied_accepted_or_switched(
    engine: Engine,
) -> None:
    """A bulk transfer records as failed a hand-off its case has not opened yet; the case then
    takes it: its steps are refused, and the row stays withdrawn (handoff_failed)."""
    store, start, handoff_id = registered_handoff(engine)
    withdrawal = HandoffWithdrawalRecord(
        idempotency_key=f"bulk:{handoff_id}:failed",
        handoff_id=handoff_id,
        case_id=start.case_id,
        reason=WithdrawalReason.HANDOFF_FAILED,
        by=BULK_ACTOR,
    )
    assert store.withdraw_handoff(withdrawal) is HandoffStep.WITHDRAWN
    for step in (HandoffStep.SUPPLIED, HandoffStep.ACCEPTED):
        record = HandoffStepRecord(
            idempotency_key=f"{handoff_id}:{step.value}",
            handoff_id=handoff_id,
            case_id=start.case_id,
            step=step,
            by=BULK_ACTOR,
        )
        with pytest.raises(ApplicationError, match="withdrawn \\(handoff_failed\\)"):
            store.record_handoff_step(record)
    with pytest.raises(ApplicationError, match="withdrawn \\(handoff_failed\\)"):
        store.switch_responsibility(switch_of(start, handoff_id))
    row = handoff_row(engine, handoff_id)
    assert (row.step, row.withdrawn_reason) == (
        HandoffStep.WITHDRAWN,
        WithdrawalReason.HANDOFF_FAILED,
    )
    assert case_row(engine, start.case_ref).provider is start.sender.provider


def task_moves(engine: Engine, case_ref: str) -> dict[object, list[tuple[object, object]]]:
    """The case's task_reassigned entries, by task: from whom, to whom."""
    with session_scope(engine) as session:
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.case_id == case_row(engine, case_ref).id,
                AuditEntry.action == "task_reassigned",
            )
        ).all()
        found = [f for e in entries if isinstance(f := stored_facts(e.detail), dict)]
    moves: dict[object, list[tuple[object, object]]] = {}
    for facts in found:
        moves.setdefault(facts["task"], []).append((facts["from_vlo"], facts["to_vlo"]))
    return moves


async def test_a_switch_audits_each_task_it_moves_once(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref()
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=MANAGER_ACTOR)
        [offer] = await until_tasks(engine, victim_id)
        sender = offer.assigned_to
        await vcs.request_handoff(
            case_ref, HandoffReason.RISK_ESCALATION, Provider.NPS, REGION, NEW_VLO, MANAGER_ACTOR
        )
        handoff_id = vcs.handoff_of(None, case_ref)
        await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_SUPPLY)
        await vcs.handoff_supply(handoff_id, MANAGER_ACTOR)
        await until_handoff_task(engine, handoff_id, TaskKind.HANDOFF_ACCEPT)
        await vcs.handoff_accept(handoff_id, vlo_actor(NEW_VLO, role=Role.VLO_MANAGER))
        # The case's workflow has handed over every victim's and review's tasks too.
        moved = [t for t in open_case_tasks(engine, case_ref) if t.assigned_to == NEW_VLO]
        assert offer.id in [t.id for t in moved]
        assert task_moves(engine, case_ref) == {t.id: [(sender, NEW_VLO)] for t in moved}


async def test_a_bulk_switch_whose_answer_was_lost_switches_its_case(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The switch is written, but its activity fails for good afterwards (its answer lost):
    the case records the hand-off as failed, the row says it switched, and the case's
    workflow follows the row (new VLO and provider), as its case row already has."""
    original = HandoffStoreActivities.switch_responsibility

    @activity.defn(name="switch_responsibility")
    def switch(self, switch: ResponsibilitySwitch) -> list[int]:  # type: ignore[no-untyped-def]
        original(self, switch)
        raise data_error("injected: the switch's answer was lost")

    monkeypatch.setattr(HandoffStoreActivities, "switch_responsibility", switch)
    env = time_skipping_env
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref, bulk_id = unique_ref("L"), unique_ref("U")
    async with settled_worker(env, engine, task_queue):
        await vcs.register_case(
            registration(case_ref, today, term_months=24, provider=Provider.CRC),
            actor=MANAGER_ACTOR,
        )
        ops = vlo_actor("ops.lead", role=Role.VLO_MANAGER)
        await vcs.bulk_start(bulk_id, Provider.CRC, Provider.NPS, ops, to_vlo=NEW_VLO)
        p = await wait_finished(vcs, bulk_id)
        assert (p.done, p.failed) == (1, 0)
        [row] = handoffs_of(engine, case_ref)
        assert (row.step, row.withdrawn_reason) == (HandoffStep.SWITCHED, None)
        view = await vcs.case_view(case_ref, MANAGER_ACTOR)
        assert (view.provider, view.responsible_vlo) == ("NPS", NEW_VLO)
