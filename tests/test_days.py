"""Days in London, the bank holidays working days are counted over, and replay.

The scheme runs on British days: "today", a deadline and a timer for a date turn at midnight in
London, not UTC. Working days skip the bank holidays GOV.UK publishes for England and Wales
(models/bank_holidays.py); a workflow carries the list it started with, so a holiday added
later never changes what a recorded history computed.
"""

import asyncio
import socket
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

import models.bank_holidays
import models.working_days
from models.bank_holidays import calendar_for_new_work, england_and_wales
from models.codec import data_converter
from models.deadlines import escalation_due, offer_due
from models.policy import Policy, policy_for
from models.workflow_state import CaseInput
from models.working_days import (
    LONDON,
    add_working_days,
    london_date,
    london_midnight,
    london_today,
    wake_time,
)
from service.vcs import Vcs
from tests.conftest import unique_ref
from tests.helpers import (
    VLO_ACTOR,
    activity_calls,
    eventually,
    every_run,
    registration,
    run_until,
    started_input,
    tasks,
    victim,
)
from tests.london_day import LondonDayWorkflow
from worker import SANDBOX, build_worker
from workflows.case import CaseWorkflow, case_workflow_id
from workflows.common import MAX_RUN_SPAN

# --- London days ----------------------------------------------------------------------------


def test_half_past_eleven_utc_on_a_summer_evening_is_already_tomorrow_in_london() -> None:
    """The scheme's days are London's: 23:30 UTC on Wednesday 1 July 2026 is 00:30 BST on
    Thursday 2 July. In winter (GMT) London and UTC agree."""
    assert london_date(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
    assert london_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)


def test_a_day_begins_at_london_midnight_across_the_clock_changes() -> None:
    """A date falls due at 00:00 London time: 23:00 UTC the evening before in BST, 00:00 UTC in
    GMT. BST 2026 runs from Sunday 29 March to Sunday 25 October (Summer Time Order 2002)."""
    assert london_midnight(date(2026, 3, 29)) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert london_midnight(date(2026, 3, 30)) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert london_midnight(date(2026, 10, 25)) == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert london_midnight(date(2026, 10, 26)) == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)


def next_summer_evening(now: datetime) -> datetime:
    """23:30 UTC on the next 1 July: 00:30 BST on 2 July."""
    evening = datetime(now.year, 7, 1, 23, 30, tzinfo=UTC)
    return evening if evening > now else evening.replace(year=now.year + 1)


async def test_a_workflow_counts_london_days_and_wakes_on_the_london_day(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """Inside a workflow (Temporal's sandbox), today() at 23:30 UTC on a BST evening is the
    next London day, and a timer for a date fires on that London day, at the workflow's own
    time in the wake window (07:00-10:00 BST, 06:00-09:00 UTC)."""
    env = time_skipping_env
    at = next_summer_evening(await env.get_current_time())
    queue = f"days-{uuid.uuid4()}"
    async with Worker(
        env.client, task_queue=queue, workflows=[LondonDayWorkflow], workflow_runner=SANDBOX
    ):
        day, woke = await env.client.execute_workflow(
            LondonDayWorkflow.run, at.isoformat(), id=queue, task_queue=queue
        )
    assert date.fromisoformat(day) == at.date() + timedelta(days=1)
    # 3 July in London, at this workflow's time (the server fires a timer a few ms late).
    next_day = at.date() + timedelta(days=2)
    woke_at = datetime.fromisoformat(woke).replace(microsecond=0)
    assert woke_at == wake_time(next_day, queue)
    assert london_date(woke_at) == next_day
    window_opens = datetime(at.year, 7, 3, 6, 0, tzinfo=UTC)  # 07:00 BST
    assert window_opens <= woke_at < window_opens + timedelta(hours=3)
    assert london_midnight(next_day) == datetime(at.year, 7, 2, 23, 0, tzinfo=UTC)


def test_cases_due_the_same_day_wake_at_times_of_their_own_within_the_window() -> None:
    """10,000 cases due on one day do not all wake at midnight: each wakes at its own second
    between 07:00 and 10:00 London time (local policy), the same every time it is asked, in
    summer and winter alike, and always on the day that falls due."""
    for day in (date(2026, 7, 3), date(2026, 12, 7), date(2026, 3, 29), date(2026, 10, 25)):
        opens = datetime.combine(day, time(7, 0), tzinfo=LONDON)
        times = [wake_time(day, case_workflow_id(f"REF-{n}")) for n in range(10_000)]
        assert all(opens <= at < opens + timedelta(hours=3) for at in times)
        assert all(london_date(at) == day for at in times)
        # Spread over the window's 180 minutes: about 56 cases a minute, none much busier.
        per_minute = Counter(int((at - opens).total_seconds()) // 60 for at in times)
        assert len(per_minute) == 180 and max(per_minute.values()) < 100
    first, second = case_workflow_id("REF-1"), case_workflow_id("REF-2")
    assert wake_time(date(2026, 7, 3), first) != wake_time(date(2026, 7, 3), second)
    assert wake_time(date(2026, 7, 3), first) == wake_time(date(2026, 7, 3), first)
    # The same case wakes at the same time of day on every date.
    assert (wake_time(date(2026, 12, 8), first) - wake_time(date(2026, 12, 7), first)) == timedelta(
        days=1
    )


# --- the bank holidays ----------------------------------------------------------------------


def test_govuk_one_off_bank_holidays_are_not_working_days() -> None:
    """GOV.UK's list is authoritative and has the one-off days proclaimed under the Banking and
    Financial Dealings Act 1971 s 1(3): the State Funeral of Queen Elizabeth II (Monday 19
    September 2022) and the coronation of King Charles III (Monday 8 May 2023)."""
    calendar = england_and_wales(2022, 2023)
    assert calendar.source.startswith("gov.uk 2022-2023")
    # Friday 16 September 2022 + 1 working day: Tuesday 20 September.
    assert add_working_days(date(2022, 9, 16), 1, calendar) == date(2022, 9, 20)
    # Friday 5 May 2023 + 1: the coronation Monday is skipped, Tuesday 9 May.
    assert add_working_days(date(2023, 5, 5), 1, calendar) == date(2023, 5, 9)


def test_years_govuk_has_not_published_follow_the_usual_rules() -> None:
    """For a year GOV.UK has not published (2029 here), the usual England and Wales days stand
    in: New Year (Mon 1 Jan), Good Friday 30 March and Easter Monday 2 April (Easter Sunday is
    1 April 2029), the first and last Mondays of May, the last Monday of August, 25-26 Dec."""
    calendar = england_and_wales(2029, 2029)
    assert calendar.dates == (
        date(2029, 1, 1),
        date(2029, 3, 30),
        date(2029, 4, 2),
        date(2029, 5, 7),
        date(2029, 5, 28),
        date(2029, 8, 27),
        date(2029, 12, 25),
        date(2029, 12, 26),
    )
    assert "gov.uk none" in calendar.source


def test_making_a_calendar_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The GOV.UK list is the package's bundled copy: a worker or the CLI with no way out still
    makes a case's calendar, and never waits on a download."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    calendar = calendar_for_new_work(date(2026, 6, 1))
    assert (calendar.first_year, calendar.last_year) == (2024, 2041)
    assert date(2026, 12, 28) in calendar.dates  # Boxing Day 2026's substitute, from GOV.UK


def test_workflow_code_never_imports_a_bank_holiday_source() -> None:
    """Workflow code counts only over the calendar it carries: importing every workflow loads
    neither the `holidays` package nor the GOV.UK list."""
    # Every module under workflows/, so a new one is checked too.
    modules = sorted(f"workflows.{p.stem}" for p in Path("workflows").glob("*.py"))
    assert "workflows.case" in modules and "workflows.case_parole" in modules
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted({'holidays', 'govuk_bank_holidays', 'models.bank_holidays'}"
        " & set(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_a_calendar_travels_in_a_workflow_input_a_year_at_a_time() -> None:
    """A case's calendar rides in every input it starts (case, victims, reviews): written a
    year at a time it stays small, and reads back as the same dates."""
    policy = policy_for("2020", date(2026, 6, 1))
    written = policy.model_dump_json()
    assert "; 2026 01-01 04-03 04-06 05-04 05-25 08-31 12-25 12-28; 2027 " in written
    assert len(written) < 1600  # the figures and about 1.1 KB of calendar
    assert Policy.model_validate_json(written) == policy


# --- replay ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_new_bank_holiday_does_not_change_a_recorded_history(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A history recorded with one list of bank holidays replays unchanged after a new holiday
    is published (a new package version): the victim workflow's offer task was due, then
    escalated, by the calendar in its input. Had the new holiday reached the workflow code, the
    escalation would no longer happen on replay and the history would not replay."""
    env = time_skipping_env
    sentenced = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("DAY")
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, sentenced, term_months=24), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        await run_until(env, offer.due_on, extra_days=1)
        await eventually(lambda: len(tasks(engine, victim_id)) == 2)
    handle = env.client.get_workflow_handle(case_workflow_id(case_ref))
    history: WorkflowHistory = await handle.fetch_history()
    replayer = Replayer(
        workflows=[CaseWorkflow], data_converter=data_converter(), workflow_runner=SANDBOX
    )

    # GOV.UK publishes a new bank holiday on the day the offer was due.
    published = models.bank_holidays.govuk_bank_holidays()
    new_holiday = offer.due_on
    assert new_holiday.weekday() < 5 and new_holiday not in published.get(new_holiday.year, ())
    published[new_holiday.year] = tuple(sorted((*published.get(new_holiday.year, ()), new_holiday)))
    monkeypatch.setattr(models.bank_holidays, "govuk_bank_holidays", lambda: published)
    assert offer_due(sentenced, policy_for("2020", sentenced)) > offer.due_on  # new cases move
    await replayer.replay_workflow(history)  # the recorded case does not

    # The same holiday read by workflow code at replay time breaks the history.
    recorded = models.working_days.is_working_day
    monkeypatch.setattr(
        models.working_days,
        "is_working_day",
        lambda day, calendar: day != new_holiday and recorded(day, calendar),
    )
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history)


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_case_wakes_at_its_own_time_on_the_day_and_no_date_moves(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """The offer task is due on the date the Code gives; the case wakes on the day after
    (overdue) at its own time in the wake window, not at midnight, and escalates then: the
    escalation's due date is counted from that date, as before."""
    env = time_skipping_env
    sentenced = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("DAY")
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, sentenced, term_months=24), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        [offer] = await eventually(lambda: tasks(engine, victim_id))
        overdue = offer.due_on + timedelta(days=1)
        await run_until(env, overdue, extra_days=0)
        [escalation] = await eventually(
            lambda: [t for t in tasks(engine, victim_id) if t.id != offer.id]
        )
    assert offer.due_on == offer_due(sentenced, policy_for("2020", sentenced))
    assert escalation.due_on == escalation_due(overdue, policy_for("2020", sentenced))
    history = await env.client.get_workflow_handle(case_workflow_id(case_ref)).fetch_history()
    [fired] = [e for e in history.events if e.HasField("timer_fired_event_attributes")]
    fired_at = fired.event_time.ToDatetime(tzinfo=UTC).replace(microsecond=0)
    assert fired_at == wake_time(overdue, case_workflow_id(case_ref))
    assert london_date(fired_at) == overdue


async def runs_after_the_first(env: WorkflowEnvironment, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of a workflow, once it has continued as new at least once."""
    for _ in range(300):
        runs = await every_run(env.client, workflow_id)
        if len(runs) > 1:
            return runs
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} never continued as new")


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_long_case_renews_its_calendar_as_it_continues_as_new(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sentence outlasting the years a calendar carries: a run continuing as new with fewer
    than RENEW_WITHIN_YEARS (activities/calendar.py) left renews it (an activity, so replay
    reads the list the run got), and the next run counts over the renewed years. Here
    registration carries only this year and next."""
    env = time_skipping_env
    sentenced = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("DAY")
    monkeypatch.setattr(models.bank_holidays, "YEARS_AFTER", 1)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, sentenced, term_months=120), actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await eventually(lambda: tasks(engine, victim_id))
        monkeypatch.setattr(models.bank_holidays, "YEARS_AFTER", 15)
        await env.sleep(MAX_RUN_SPAN + timedelta(days=2))
        case_runs = await runs_after_the_first(env, case_workflow_id(case_ref))
    case_policies = [(await started_input(run, CaseInput)).policy for run in case_runs]
    for (first, second), runs in ((case_policies[:2], case_runs),):
        assert first.bank_holidays.last_year == london_today().year + 1  # the CLI's clock
        renewed_in = runs[1].events[0].event_time.ToDatetime(tzinfo=UTC).year
        assert renewed_in > sentenced.year + 2  # the first run spanned four years
        assert second.bank_holidays.last_year == renewed_in + 15


@pytest.mark.usefixtures("cleanup_workflows")
async def test_a_victim_added_late_in_a_long_case_renews_the_case_calendar_first(
    time_skipping_env: WorkflowEnvironment,
    engine: Engine,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A victim's path counts over its case's calendar: a victim added when that calendar is
    running out renews it first (an activity's result, so the history replays over it). Here
    the case's calendar ends last year."""
    env = time_skipping_env
    now = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("DAY")
    monkeypatch.setattr(models.bank_holidays, "YEARS_AFTER", -1)
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(registration(case_ref, now, term_months=120), actor=VLO_ACTOR)
        monkeypatch.setattr(models.bank_holidays, "YEARS_AFTER", 15)
        victim_id, _ = await vcs.add_victim(case_ref, victim(), actor=VLO_ACTOR)
        await eventually(lambda: tasks(engine, victim_id))
        [case_run] = await every_run(env.client, case_workflow_id(case_ref))
    case_calendar = (await started_input(case_run, CaseInput)).policy.bank_holidays
    # (Made on the worker's clock, like registration: the test server's has moved on.)
    assert case_calendar.last_year == london_today().year - 1
    assert "bank_holidays" in activity_calls(case_run)
