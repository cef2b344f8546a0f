"""Benchmark 4: whole sentences under time skipping: many cases of mixed lengths run from
sentence to the end of licence. Simulated case-years per wall second, and the longest single
run's history; against trivial workflows sleeping the same spans."""

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, or_, select
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.common import (
    STALL_SECONDS,
    VLO_ACTOR,
    BenchVcs,
    DrivenCase,
    OfferTaskWatcher,
    Progress,
    Section,
    Table,
    case_database,
    drive_case,
    num,
    ratio,
    run_concurrently,
    say,
    time_skipping_server,
    times,
    wait_until,
)
from bench.floor import FloorSleepWorkflow
from bench.history import E, Tally, tally_workflow
from models.case import OffenderCase
from models.db import session_scope
from models.deadlines import representations_opens
from models.errors import UnavailableError, VcsError
from models.policy import current_policy
from models.records import Correspondence
from models.release_month import ReleaseMonth
from models.victim import Enrolment, Victim
from models.vocabulary import CaseStatus, ContactLevel, LetterKind, Stage
from tests.helpers import registration, runs_in_flight, until_quiet
from worker import build_worker
from workflows.case import case_workflow_id

SKIP_STEP = timedelta(days=90)
STEP_TIMEOUT = 180.0  # one skip taking longer than this: a workflow is wedged
SKIP_ATTEMPTS = 3  # skips in a row that moved nothing and found no wedged workflow
ACTION_ATTEMPTS = 3
# A VLO action's tries must all time out well before run_concurrently gives up on a batch
# (STALL_SECONDS), so that a workflow the test server has wedged is found and taken out.
ACTION_TIMEOUT = STALL_SECONDS / (ACTION_ATTEMPTS + 2)
HISTORY_TARGET = 1000  # issue: every run's history under 1000 events
LEVELS = [ContactLevel.ALL_KEY_STAGES, ContactLevel.ANNUAL, ContactLevel.RELEASE_ONLY]
DAYS_A_YEAR = 365.25


@dataclass
class Plan:
    """One case: its sentence, and the days the VLO acts on it."""

    index: int
    years: int
    level: ContactLevel
    sentence_date: date
    release: date
    licence_end: date
    invite: date  # representations are invited on this day (the case's wake-up timer)
    victim_id: int = 0

    @property
    def case_ref(self) -> str:
        return f"LIFE-{self.index:06d}"

    @property
    def span_days(self) -> int:
        return (self.licence_end - self.sentence_date).days


def plan(index: int, today: date) -> Plan:
    years = 1 + (index * 7) % 15  # every length from 1 to 15 years in each 15 cases
    reg = registration(f"LIFE-{index:06d}", today, term_months=12 * years)
    assert reg.conditional_release_date and reg.licence_expiry_date
    month = ReleaseMonth.of(reg.conditional_release_date)
    invite = max(representations_opens(month, current_policy()), today)
    return Plan(
        index=index,
        years=years,
        level=LEVELS[index % len(LEVELS)],
        sentence_date=today,
        release=reg.conditional_release_date,
        licence_end=reg.licence_expiry_date,
        invite=invite,
    )


async def sleep_until(env: WorkflowEnvironment, day: date, wedged: "Wedged") -> None:
    """Skip the test server's clock to the start of `day` (no-op if already past), at most
    90 days at a time: one long skip is one long RPC."""
    target = datetime.combine(day, clock_time.min, UTC)
    stuck = 0
    while True:
        now = await env.get_current_time()
        if target <= now:
            return
        try:
            await asyncio.wait_for(env.sleep(min(target - now, SKIP_STEP)), STEP_TIMEOUT)
            stuck = 0
        except (TimeoutError, RPCError) as err:
            if isinstance(err, RPCError) and "timeout" not in str(err).lower():
                raise
            # The clock does not move while a workflow task is outstanding: find the workflow
            # whose task keeps failing, and take it out; a skip cut short by the client's own
            # RPC deadline is tried again (the clock may have moved).
            if not await wedged.clear(env):
                stuck += 1
                if stuck >= SKIP_ATTEMPTS:
                    held = await runs_in_flight(env.client)
                    raise RuntimeError(
                        f"the test server's clock stopped at {now}; runs with a workflow task "
                        f"in flight: {held or 'none'}"
                    ) from err


class Wedged:
    """Trouble with the time-skipping test server, kept for the report. It sometimes refuses
    the completion of an activation ('invalid history builder state for action'): an update
    in it is lost (the VLO action is repeated: `repeated`), or a workflow's task keeps failing,
    which holds the clock still (the workflow is terminated and its case left out: `found`)."""

    def __init__(self, workflow_ids: list[str]) -> None:
        self.workflow_ids = workflow_ids
        self.found: dict[str, str] = {}  # workflow ID: the end of its history
        self.repeated: list[str] = []  # VLO actions that got no answer and were made again

    async def clear(self, env: WorkflowEnvironment) -> bool:
        found = False
        for workflow_id in self.workflow_ids:
            if workflow_id in self.found:
                continue
            handle = env.client.get_workflow_handle(workflow_id)
            events = list((await handle.fetch_history()).events)
            kinds = [E.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events[-6:]]
            failures = [
                e.workflow_task_failed_event_attributes.failure.message
                for e in events
                if e.event_type == E.EVENT_TYPE_WORKFLOW_TASK_FAILED
            ]
            # Called only once the clock has stood still for minutes: a workflow whose last
            # event is a workflow task not completed is the one holding it.
            stuck = kinds[-1] in (
                "WORKFLOW_TASK_SCHEDULED",
                "WORKFLOW_TASK_STARTED",
                "WORKFLOW_TASK_FAILED",
                "WORKFLOW_TASK_TIMED_OUT",
            )
            if stuck:
                reason = f"workflow task failed: {failures[-1][:120]}" if failures else ""
                self.found[workflow_id] = f"{reason} last events {', '.join(kinds)}"
                say(f"    wedged: {workflow_id}: {self.found[workflow_id]}; terminating it")
                with contextlib.suppress(RPCError):
                    await handle.terminate(reason="wedged on the test server (benchmark)")
                found = True
        return found

    def case_refs(self) -> set[str]:
        return {ref for ref in (case_ref_of(w) for w in self.found) if ref}


def case_ref_of(workflow_id: str) -> str | None:
    match = re.fullmatch(r"vcs-(?:case|victim)-(LIFE-\d{6})(?:-\d+)?", workflow_id)
    return match.group(1) if match else None


def victims_with_letter(engine: Engine, kind: LetterKind, victim_ids: list[int]) -> set[int]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Correspondence.victim_id).where(
                Correspondence.kind == kind, col(Correspondence.victim_id).in_(victim_ids)
            )
        ).all()
        return set(rows)


def still_open(engine: Engine) -> set[str]:
    """Case references whose case, or a victim of which, has not yet closed."""
    with session_scope(engine) as session:
        cases = session.exec(
            select(OffenderCase.case_ref).where(OffenderCase.status != CaseStatus.CLOSED)
        ).all()
        victims = session.exec(
            select(OffenderCase.case_ref)
            .join(Victim, col(Victim.case_id) == col(OffenderCase.id))
            .join(Enrolment, col(Enrolment.victim_id) == col(Victim.id), isouter=True)
            .where(or_(col(Enrolment.stage).is_(None), Enrolment.stage != Stage.CLOSED))
        ).all()
        return set(cases) | set(victims)


async def run(count: int, workdir: Path) -> Section:
    started = time.perf_counter()
    section = Section(f"4. Whole sentences under time skipping: {count} cases, 1-15 years")
    engine = case_database(workdir / "cases")
    async with time_skipping_server() as env:
        client = env.client
        today = (await env.get_current_time()).date()
        plans = [plan(i, today) for i in range(count)]
        queue = f"bench-vcs-{uuid.uuid4().hex[:8]}"
        vcs = BenchVcs(client, engine, queue, env)
        async with build_worker(client, engine, queue):
            say(f"  ours: registering {count} cases, each offered and opted in (clock held)")
            t0 = time.perf_counter()
            async with OfferTaskWatcher(engine) as watcher:

                async def setup(i: int) -> DrivenCase:
                    p = plans[i]
                    driven = await drive_case(
                        vcs,
                        watcher,
                        p.case_ref,
                        p.sentence_date,
                        term_months=12 * p.years,
                        level=p.level,
                    )
                    p.victim_id = driven.victim_id
                    return driven

                prepared = await run_concurrently(count, setup, Progress("setup", count, "cases"))
            prepared.check("case setups")
            t1 = time.perf_counter()
            say("  ours: skipping time from sentence to the end of every licence")
            wedged = Wedged([case_workflow_id(p.case_ref) for p in plans])
            await live_through(env, vcs, plans, wedged)
            await sleep_until(env, max(p.licence_end for p in plans) + timedelta(days=2), wedged)
            while True:
                try:
                    await wait_until(
                        lambda: not (still_open(engine) - wedged.case_refs()),
                        STEP_TIMEOUT,
                        0.5,
                        "every case closed",
                    )
                    break
                except TimeoutError:
                    if not await wedged.clear(env):
                        raise
            t2 = time.perf_counter()
        # A case the test server wedged is left out of every figure (and reported).
        all_plans = plans
        plans = [p for p in plans if p.case_ref not in wedged.case_refs()]
        kept = len(plans)

        say("  ours: reading every run's history")
        ids = [case_workflow_id(p.case_ref) for p in plans]  # victims are in their case's
        tallies = (
            await run_concurrently(
                len(ids),
                lambda i: tally_workflow(client, ids[i]),
                Progress("histories", len(ids), "workflows"),
            )
        ).check("history reads")

        floor_queue = f"bench-sleepers-{uuid.uuid4().hex[:8]}"
        say(f"  floor: {kept} workflows sleeping the same spans")
        async with Worker(client, task_queue=floor_queue, workflows=[FloorSleepWorkflow]):
            f0 = time.perf_counter()
            handles: list[WorkflowHandle[Any, None]] = []

            async def start(i: int) -> None:
                handles.append(
                    await client.start_workflow(
                        FloorSleepWorkflow.run,
                        float(plans[i].span_days),
                        id=f"bench-sleeper-{i}",
                        task_queue=floor_queue,
                    )
                )

            (await run_concurrently(kept, start, Progress("floor start", kept, "workflows"))).check(
                "floor starts"
            )
            f1 = time.perf_counter()
            now = (await env.get_current_time()).date()
            await sleep_until(
                env, now + timedelta(days=max(p.span_days for p in plans) + 2), Wedged([])
            )
            # Plain handles: the test server's time-skipping lock is a counter that many
            # concurrent result() calls on time-skipping handles unbalance.
            await asyncio.gather(
                *(client.get_workflow_handle(h.id, run_id=h.run_id).result() for h in handles)
            )
            f2 = time.perf_counter()
        floor_tallies = (
            await run_concurrently(
                kept, lambda i: tally_workflow(client, handles[i].id), Progress("", 0, "")
            )
        ).check("floor history reads")
    engine.dispose()

    total, floor_total = Tally(), Tally()
    for tally in tallies.results:
        total.add(tally)
    for tally in floor_tallies.results:
        floor_total.add(tally)
    # Time covers every case, wedged ones too (they ran until they wedged): a slight
    # understatement of our rate when any are left out.
    case_years = sum(p.span_days for p in plans) / DAYS_A_YEAR
    ours_rate, floor_rate = case_years / (t2 - t1), case_years / (f2 - f1)
    ours_all, floor_all = case_years / (t2 - t0), case_years / (f2 - f0)
    longest = total.longest_run
    biggest_index = max(range(len(tallies.results)), key=lambda i: tallies.results[i].longest_run)
    biggest_tally = tallies.results[biggest_index]
    biggest_plan = plans[biggest_index % kept]
    biggest_kind = "case" if biggest_index < kept else "victim"

    section.setup = [
        f"{count} cases with one victim each, determinate terms of 1 to 15 years (each length "
        "equally often; licence ends at the end of the term), contact levels all key stages / "
        "annual / release only in turn. Each is registered, offered and opted in, as in "
        "benchmark 1, with the test server's clock held; then the clock is skipped (90 days "
        "at a call) while the VLO acts on the day after each milestone: representations made "
        "after the invitation, release recorded the day after the conditional release date; "
        f"to the end of every licence. {round(case_years):,} case-years in all. One worker "
        "(worker.build_worker).",
        f"Floor: {kept} workflows of bench/floor.py FloorSleepWorkflow, each sleeping its "
        "case's whole span on one timer (continuing as new after 3,000 days: the test server "
        "ends any run at 10 years), on the same test server.",
    ]
    table = Table(["measure", "ours", "floor", "ours/floor"])
    table.add(
        "simulated case-years per wall second (skipping)",
        num(ours_rate, 1),
        num(floor_rate, 1),
        times(ratio(ours_rate, floor_rate)),
    )
    table.add(
        "... including setup (register/offer/opt-in; starts)",
        num(ours_all, 1),
        num(floor_all, 1),
        times(ratio(ours_all, floor_all)),
    )
    table.add(
        "wall seconds, setup", num(t1 - t0, 1), num(f1 - f0, 1), times(ratio(t1 - t0, f1 - f0))
    )
    table.add(
        "wall seconds, skipping to the end",
        num(t2 - t1, 1),
        num(f2 - f1, 1),
        times(ratio(t2 - t1, f2 - f1)),
    )
    table.add("workflows", f"{2 * kept}", f"{kept}", "")
    table.add(
        "runs (continue-as-new included)",
        f"{len(total.run_lengths):,}",
        f"{len(floor_total.run_lengths):,}",
        "",
    )
    table.add(
        f"largest history of any one run (target < {HISTORY_TARGET})",
        longest,
        floor_total.longest_run,
        "",
    )
    table.add(
        "mean events per run",
        num(mean(total.run_lengths), 1),
        num(mean(floor_total.run_lengths), 1),
        "",
    )
    table.add(
        "actions per case-year (mean)",
        num(total.total_actions / case_years, 1),
        num(floor_total.total_actions / case_years, 2),
        times(ratio(total.total_actions, floor_total.total_actions)),
    )

    by_length = Table(
        ["term (years)", "cases", "runs per case+victim", "largest run", "actions per case"]
    )
    by_length.caption = "By sentence length"
    per_plan: list[tuple[int, Tally]] = []
    for i, p in enumerate(plans):
        t = Tally()
        t.add(tallies.results[i])
        t.add(tallies.results[kept + i])
        per_plan.append((p.years, t))
    for years, group in groupby(sorted(per_plan, key=lambda x: x[0]), key=lambda x: x[0]):
        members = [t for _, t in group]
        by_length.add(
            years,
            len(members),
            num(mean(len(t.run_lengths) for t in members), 1),
            max(t.longest_run for t in members),
            num(mean(t.total_actions for t in members), 1),
        )
    section.tables = [table, by_length]
    section.findings = [
        f"Ours ran {num(ours_rate, 1)} simulated case-years per wall second against the "
        f"floor's {num(floor_rate, 1)}: {times(ratio(ours_rate, floor_rate))}.",
        f"Largest history of any single run: {longest} events (target under {HISTORY_TARGET}: "
        f"{'met' if longest < HISTORY_TARGET else 'NOT met'}), in the {biggest_kind} workflow "
        f"of a sentence of {biggest_plan.years} years (run "
        f"{biggest_tally.run_lengths.index(longest) + 1} of {len(biggest_tally.run_lengths)}).",
        "Actions by kind over all cases: "
        + ", ".join(f"{k} {n:,}" for k, n in total.actions.most_common())
        + "; the floor's: "
        + ", ".join(f"{k} {n:,}" for k, n in floor_total.actions.most_common())
        + ".",
    ]
    if total.quiet_runs:
        quiet = ", ".join(
            f"{k} {n / total.quiet_runs:.1f}" for k, n in total.quiet_actions.most_common()
        )
        section.findings.append(
            f"{total.quiet_runs:,} of {len(total.run_lengths):,} runs were quiet (no activity, "
            f"update or signal: only time passing); each cost, on average: {quiet}. A case's "
            "workflow starts a new run at most every four years (workflows/common.py "
            "MAX_RUN_SPAN), its search attributes carried over, not re-upserted."
        )
    if wedged.repeated:
        section.findings.append(
            f"{len(wedged.repeated)} VLO actions got no answer within "
            f"{ACTION_TIMEOUT:.0f} s and were repeated "
            "(the test server logged 'invalid history builder state for action' as the worker "
            "completed the activation that carried the update, and the update was lost): "
            + "; ".join(wedged.repeated[:10])
            + "."
        )
    if wedged.found:
        section.findings.append(
            f"{len(all_plans) - kept} of {len(all_plans)} cases were left out: the "
            "time-skipping test server kept refusing a workflow task of theirs, which holds "
            "its clock still; they were terminated: "
            + "; ".join(f"{w}: {why}" for w, why in wedged.found.items())
        )
    section.seconds = time.perf_counter() - started
    return section


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else float("nan")


async def live_through(
    env: WorkflowEnvironment, vcs: BenchVcs, plans: list[Plan], wedged: Wedged
) -> None:
    """The VLO's side of every sentence, day by day: the day after representations are
    invited, the victim's are made; the day after the release date, the release is recorded."""
    events = [(p.invite + timedelta(days=1), "representations", p) for p in plans]
    events += [(p.release + timedelta(days=1), "release", p) for p in plans]
    events.sort(key=lambda e: (e[0], e[1]))
    done = 0
    for (day, action), group in groupby(events, key=lambda e: (e[0], e[1])):
        batch = [p for _, _, p in group if p.case_ref not in wedged.case_refs()]
        await sleep_until(env, day, wedged)
        # Timers that fired at the end of the skip may be continuing workflows as new: an
        # update arriving meanwhile can wedge the test server (tests.helpers.until_quiet).
        await until_quiet(env)
        if action == "representations":
            await invited(vcs.engine, [p.victim_id for p in batch], day)

        async def act(i: int, batch: list[Plan] = batch, action: str = action) -> None:
            p = batch[i]
            for _ in range(ACTION_ATTEMPTS):
                if action == "representations":
                    step = vcs.submit_representations(p.victim_id, "No contact, please.", VLO_ACTOR)
                else:
                    step = vcs.record_release(p.case_ref, p.release, VLO_ACTOR)
                try:
                    await asyncio.wait_for(step, ACTION_TIMEOUT)
                    return
                except VcsError as err:
                    if "already recorded" in str(err):
                        return  # an earlier attempt got through after all
                    if not isinstance(err, UnavailableError):
                        raise
                except TimeoutError:
                    pass
                # The test server sometimes loses an update ("invalid history builder state
                # for action" when the worker completes the activation): repeat it, as a VLO
                # told 'no worker answered' would (repeating is safe).
                wedged.repeated.append(f"{action} on {p.case_ref}")
            if not await wedged.clear(env):
                raise RuntimeError(f"{action} on {p.case_ref}: no answer after {ACTION_ATTEMPTS}")

        (await run_concurrently(len(batch), act, Progress("", 0, ""))).check(action)
        done += len(batch)
        say(f"    {day}: {action} x{len(batch)} ({done}/{len(events)} VLO actions)")


async def invited(engine: Engine, victim_ids: list[int], day: date) -> None:
    """Wait until the case's workflow has sent each victim's invitation (activities finish after the
    clock stops)."""

    def all_invited() -> bool:
        found = victims_with_letter(engine, LetterKind.REPRESENTATIONS_INVITED, victim_ids)
        return len(found) == len(victim_ids)

    await wait_until(all_invited, 120, what=f"representations invited by {day}")
