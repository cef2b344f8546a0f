"""Scenario builders for tests: registrations, victims, waiting for the engine to catch up."""

import asyncio
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import MarkerRecordedEventAttributes
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from models.audit import stored_facts
from models.case import CaseRegistration, OffenceBase
from models.codec import data_converter
from models.db import session_scope
from models.records import Correspondence, VloTask
from models.victim import Enrolment, VictimBase
from models.vocabulary import (
    ContactLevel,
    LetterKind,
    OffenceCategory,
    SentenceType,
    Stage,
    TaskKind,
    TaskStatus,
)
from models.working_days import LONDON, WAKE_WINDOW, WAKE_WINDOW_START
from service.actor import Actor, Role
from workflows.steps import STEPS_ID

if TYPE_CHECKING:
    from service.vcs import Vcs

T = TypeVar("T")

REGION = "Yorkshire and the Humber"


def vlo_actor(actor_id: str = "vlo.jones", region: str = REGION, role: Role = Role.VLO) -> Actor:
    """A signed-in person for tests that drive the service directly."""
    return Actor(id=actor_id, roles=frozenset({role}), region=region)


VLO_ACTOR = vlo_actor()
MANAGER_ACTOR = vlo_actor(role=Role.VLO_MANAGER)  # hand-offs and bulk transfers
# The command line's service identity in the tests (as bin/run-demo configures its own).
CLI_IDENTITY = {
    "VCS_CLI_IDENTITY": "vlo.jones",
    "VCS_CLI_ROLES": "vlo_manager,auditor",
    "VCS_CLI_REGION": REGION,
}


async def until_quiet(env: WorkflowEnvironment, seconds: int = 60) -> bool:
    """Wait (up to `seconds`) until the time-skipping server has nothing in flight (no workflow
    task or activity under way): it then skips a second at once. False if it never did. A
    workflow that is continuing as new must not be sent a query meanwhile: the test server can
    leave its old run open, and then never skips time again (temporalio/sdk-java#1537;
    bench/RESULTS.md, 2026-11-27)."""
    clock = asyncio.get_running_loop()
    for _ in range(seconds):
        started = clock.time()
        await env.sleep(timedelta(seconds=1))
        if clock.time() - started < 0.5:
            return True
    return False


async def runs_in_flight(client: Client) -> list[str]:
    """Open runs whose last event is a workflow task not completed: what holds the
    time-skipping server's clock once no worker is left to finish it."""
    listed = await client.workflow_service.list_open_workflow_executions(
        ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=1000)
    )
    found = []
    for execution in listed.executions:
        run = execution.execution
        history = await client.get_workflow_handle(
            run.workflow_id, run_id=run.run_id
        ).fetch_history()
        last = EventType.Name(history.events[-1].event_type).removeprefix("EVENT_TYPE_")
        if last.startswith("WORKFLOW_TASK_") and last != "WORKFLOW_TASK_COMPLETED":
            found.append(f"{run.workflow_id} (run {run.run_id}: {last})")
    return found


async def run_until(env: WorkflowEnvironment, day: date | None, extra_days: int = 1) -> None:
    """Skip time on the test server to `day` plus `extra_days`, past the hours in which a
    workflow wakes for that day (models/working_days.py): whatever falls due that day has been
    acted on, whatever the time of day the test started at. No-op if that time has passed."""
    assert day is not None
    wake_window_end = (
        datetime.combine(day + timedelta(days=extra_days), WAKE_WINDOW_START, tzinfo=LONDON)
        + WAKE_WINDOW
    )
    await env.sleep(max(wake_window_end - await env.get_current_time(), timedelta(0)))


async def workflow_status(env: WorkflowEnvironment, workflow_id: str) -> str:
    """How the latest run stands: COMPLETED, CONTINUED_AS_NEW, ..., or RUNNING. (Read from the
    history: the time-skipping server's describe returns datetime search attributes the SDK
    cannot decode.)"""
    history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    last = EventType.Name(history.events[-1].event_type)
    prefix = "EVENT_TYPE_WORKFLOW_EXECUTION_"
    return last.removeprefix(prefix) if last.startswith(prefix) else "RUNNING"


def registration(
    case_ref: str,
    sentence_date: date,
    *,
    term_months: int = 24,
    release_after: timedelta | None = None,
    licence_after: timedelta | None = None,
    sentence_type: SentenceType = SentenceType.IMPRISONMENT,
    category: OffenceCategory = OffenceCategory.SCHEDULE_15_VIOLENT,
    **extra: object,
) -> CaseRegistration:
    release_after = (
        release_after if release_after is not None else timedelta(days=30 * term_months // 2)
    )
    licence_after = licence_after if licence_after is not None else timedelta(days=30 * term_months)
    return CaseRegistration(
        case_ref=case_ref,
        region=str(extra.pop("region", "Yorkshire and the Humber")),
        responsible_vlo="vlo.jones",
        sentence_type=sentence_type,
        term_months=term_months,
        sentence_date=sentence_date,
        conditional_release_date=sentence_date + release_after,
        licence_expiry_date=sentence_date + licence_after,
        sentence_expiry_date=sentence_date + licence_after,
        offences=[OffenceBase(description="Wounding with intent", category=category)],
        **extra,  # type: ignore[arg-type]
    )


def victim(name: str = "Alice Example", **extra: object) -> VictimBase:
    fields: dict[str, object] = {
        "full_name": name,
        "address": "1 Test Street, Leeds",
        "postcode": "LS1 1AA",
    }
    fields.update(extra)
    return VictimBase(**fields)  # type: ignore[arg-type]


async def eventually(check: Callable[[], T], timeout: float = 30.0) -> T:
    """Poll until `check()` returns something truthy (the worker runs concurrently)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: last result {result!r}")
        await asyncio.sleep(0.1)


def letters(engine: Engine, victim_id: int) -> list[LetterKind]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Correspondence.kind)
            .where(Correspondence.victim_id == victim_id)
            .order_by(Correspondence.id)  # type: ignore[arg-type]
        ).all()
        return [LetterKind(kind) for kind in rows]


def letter_bodies(engine: Engine, victim_id: int, kind: LetterKind | None) -> list[str]:
    """The victim's letters of one kind (every kind: None), oldest first."""
    query = select(Correspondence.body).where(Correspondence.victim_id == victim_id)
    if kind is not None:
        query = query.where(Correspondence.kind == kind)
    with session_scope(engine) as session:
        return list(session.exec(query.order_by(col(Correspondence.id))).all())


def stage(engine: Engine, victim_id: int) -> Stage | None:
    with session_scope(engine) as session:
        row = session.exec(select(Enrolment).where(Enrolment.victim_id == victim_id)).first()
        return row.stage if row else None


def tasks(engine: Engine, victim_id: int | None = None, *, open_only: bool = True) -> list[VloTask]:
    with session_scope(engine) as session:
        query = select(VloTask).order_by(VloTask.id)  # type: ignore[arg-type]
        if victim_id is not None:
            query = query.where(VloTask.victim_id == victim_id)
        if open_only:
            query = query.where(VloTask.status == TaskStatus.OPEN)
        return list(session.exec(query).all())


async def offered_and_opted_in(
    vcs: "Vcs", engine: Engine, victim_id: int, level: ContactLevel | None
) -> None:
    """The VLO makes the offer (completing the offer task); the victim opts in if `level`."""
    offers = await eventually(
        lambda: [t for t in tasks(engine, victim_id) if t.kind is TaskKind.OFFER_SCHEME]
    )
    [offer_task] = offers  # (an overdue offer may also have escalated)
    assert offer_task.id is not None
    await vcs.complete_task(offer_task.id, actor=VLO_ACTOR, outcome="phoned victim")
    if level is not None:
        await vcs.opt_in(victim_id, level, actor=VLO_ACTOR)


async def every_run(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """The history of every run of a workflow, oldest first (walks continue-as-new back)."""
    runs: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return runs[::-1]
        run_id = started.continued_execution_run_id


async def started_input(history: WorkflowHistory, input_type: type[T]) -> T:
    """The input a run of a workflow started with, decoded (payload codec and all)."""
    started = history.events[0].workflow_execution_started_event_attributes
    [params] = await data_converter().decode(list(started.input.payloads), [input_type])
    assert isinstance(params, input_type)
    return params


async def run_lengths(env: WorkflowEnvironment, workflow_id: str) -> list[int]:
    """History length of every run of a workflow, oldest first."""
    return [len(history.events) for history in await every_run(env.client, workflow_id)]


LOCAL_ACTIVITY_MARKER = "core_local_activity"


def local_activity_data(marker: MarkerRecordedEventAttributes) -> dict[str, object]:
    """What a local activity's marker records beside its result (its details' "data" payload:
    the SDK's bookkeeping as JSON, unencrypted: sequence, attempt, activity ID and type)."""
    payloads = marker.details.get("data")
    if payloads is None or not payloads.payloads:
        return {}
    data: dict[str, object] = json.loads(payloads.payloads[0].data)
    return data


def local_activity_type(marker: MarkerRecordedEventAttributes) -> str:
    return str(local_activity_data(marker).get("activity_type", "?"))


def activity_calls(history: WorkflowHistory) -> list[str]:
    """The activity types a run called, in order: activities and local activities alike
    (steps run as local activities: workflows/common.py), a workflow task's steps taken
    together (workflows/steps.py) each under its own activity's name."""
    called: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            called.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                local_id = str(local_activity_data(marker).get("activity_id", ""))
                if local_id.startswith(STEPS_ID):
                    called.extend(local_id.removeprefix(STEPS_ID).split(","))
                else:
                    called.append(local_activity_type(marker))
    return called


async def settled(read: Callable[[], T]) -> T:
    """What `read` returns once the engine has finished what it was doing (letters still going
    out to victims, say): the same twice, half a second apart."""
    last = read()
    for _ in range(60):
        await asyncio.sleep(0.5)
        now = read()
        if now == last:
            return now
        last = now
    raise AssertionError("the case database never settled")


def audit_facts(detail: str) -> dict[str, Any]:
    """An audit entry's stored detail as its facts (models/audit.py)."""
    facts = stored_facts(detail)
    assert isinstance(facts, dict), "not an audit entry's facts"
    return facts
