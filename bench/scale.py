"""Benchmark 3: many open cases waiting on timers on one machine: the worker's memory, the
server's database, and how long a restarted worker takes to pick every workflow up again;
against as many trivial sleeping workflows."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import select

from bench.common import (
    CONCURRENCY,
    VLO_ACTOR,
    BenchVcs,
    Progress,
    Section,
    Table,
    case_database,
    dev_server,
    num,
    ratio,
    run_concurrently,
    say,
    times,
    wait_until,
)
from bench.floor import FloorSleepWorkflow
from bench.processes import WorkerProcess
from models.db import session_scope
from models.records import VloTask
from models.vocabulary import TaskKind
from tests.helpers import registration, victim
from worker import MAX_CACHED_WORKFLOWS
from workflows.case import CaseWorkflow, case_workflow_id

SLEEP_DAYS = 365.0  # the floor's one timer: far beyond the benchmark


@dataclass
class Measured:
    label: str
    cases: int
    workflows: int
    create_seconds: float
    create_errors: int
    database_bytes: int
    rss_created: float
    hwm_created: float
    shutdown_seconds: float
    ready_seconds: float
    pickup_seconds: float
    pickup_errors: int
    rss_idle: float
    rss_after: float
    hwm_after: float

    @property
    def cached(self) -> int:
        return min(self.workflows, MAX_CACHED_WORKFLOWS)

    @property
    def kib_per_cached_workflow(self) -> float:
        return (self.rss_after - self.rss_idle) * 1024 / self.cached


async def measure(
    label: str,
    count: int,
    workflows_per_item: int,
    process: WorkerProcess,
    create: Callable[[int], Awaitable[None]],
    settle: Callable[[], Awaitable[None]],
    ping: Callable[[int], Awaitable[None]],
    database_bytes: Callable[[], int],
) -> Measured:
    before = database_bytes()
    try:
        await process.start()
        say(f"  {label}: creating {count:,} ({count * workflows_per_item:,} workflows)")
        created = await run_concurrently(count, create, Progress(label, count, "created"))
        await settle()
        rss_created, hwm_created = process.memory_mib()
        grown = database_bytes() - before
        say(f"  {label}: restarting the worker, then querying every workflow")
        shutdown = await process.stop()
        ready = await process.start()
        restarted = time.perf_counter() - ready
        rss_idle, _ = process.memory_mib()
        picked = await run_concurrently(
            count, ping, Progress(f"{label} pick-up", count, "answered")
        )
        pickup = time.perf_counter() - restarted
        rss_after, hwm_after = process.memory_mib()
        await process.stop()
    except Exception:
        say(f"  {label}: failed; the worker's log ends:\n{process.log_tail()}")
        raise
    finally:
        process.kill()
    for errors in (created.errors, picked.errors):
        if errors:
            say(f"  {label}: {len(errors)} failed, e.g. {errors[0]}")
    return Measured(
        label=label,
        cases=count,
        workflows=count * workflows_per_item,
        create_seconds=created.seconds,
        create_errors=len(created.errors),
        database_bytes=grown,
        rss_created=rss_created,
        hwm_created=hwm_created,
        shutdown_seconds=shutdown,
        ready_seconds=ready,
        pickup_seconds=pickup,
        pickup_errors=len(picked.errors),
        rss_idle=rss_idle,
        rss_after=rss_after,
        hwm_after=hwm_after,
    )


def open_offer_tasks(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(
            select(func.count()).select_from(VloTask).where(VloTask.kind == TaskKind.OFFER_SCHEME)
        ).one()


async def run(count: int, workdir: Path) -> Section:
    started = time.perf_counter()
    section = Section(f"3. Scale: {count:,} open cases waiting on timers")
    async with dev_server(workdir) as server:
        client = server.client
        database_url = f"sqlite:///{workdir / 'cases' / 'vcs.db'}"
        engine = case_database(workdir / "cases")
        today = date.today()

        floor_queue = f"bench-sleepers-{uuid.uuid4().hex[:8]}"

        async def start_sleeper(i: int) -> None:
            await client.start_workflow(
                FloorSleepWorkflow.run, SLEEP_DAYS, id=f"bench-sleeper-{i}", task_queue=floor_queue
            )

        async def ping_sleeper(i: int) -> None:
            await query_retrying(
                lambda: client.get_workflow_handle(f"bench-sleeper-{i}").query(
                    FloorSleepWorkflow.ping
                )
            )

        async def floor_settled() -> None:
            # Every sleeper has run its first workflow task (its timer is set) once it answers.
            await run_concurrently(count, ping_sleeper, Progress("floor settle", count, "asleep"))

        floor = await measure(
            "floor",
            count,
            1,
            WorkerProcess(server.target, floor_queue, "floor", None, workdir / "floor-worker.log"),
            start_sleeper,
            floor_settled,
            ping_sleeper,
            server.database_bytes,
        )

        queue = f"bench-vcs-{uuid.uuid4().hex[:8]}"
        vcs = BenchVcs(client, engine, queue)
        victims: dict[int, int] = {}

        async def create_case(i: int) -> None:
            case_ref = f"SCALE-{i:06d}"
            await vcs.register_case(registration(case_ref, today, term_months=24), VLO_ACTOR)
            victims[i], _ = await vcs.add_victim(
                case_ref, victim(f"Victim of {case_ref}"), VLO_ACTOR
            )

        async def ours_settled() -> None:
            # Every victim's workflow has opened its offer task and waits on its timers.
            await wait_until(
                lambda: open_offer_tasks(engine) >= len(victims),
                600,
                interval=1.0,
                what="every victim's offer task",
            )

        async def ping_case(i: int) -> None:
            case_ref = f"SCALE-{i:06d}"
            await query_retrying(
                lambda: client.get_workflow_handle(case_workflow_id(case_ref)).query(
                    CaseWorkflow.view
                )
            )
            if i in victims:
                await query_retrying(
                    lambda: client.get_workflow_handle(case_workflow_id(case_ref)).query(
                        CaseWorkflow.victim_view, victims[i]
                    )
                )

        ours = await measure(
            "ours",
            count,
            2,
            WorkerProcess(server.target, queue, "vcs", database_url, workdir / "vcs-worker.log"),
            create_case,
            ours_settled,
            ping_case,
            server.database_bytes,
        )
        engine.dispose()
    fill(section, floor, ours)
    section.seconds = time.perf_counter() - started
    return section


async def query_retrying(query: Callable[[], Awaitable[object]], attempts: int = 3) -> None:
    for attempt in range(attempts):
        try:
            await query()
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)


def fill(section: Section, floor: Measured, ours: Measured) -> None:
    count = ours.cases
    section.setup = [
        f"Ours: {count:,} cases registered with one victim each (register-case, add-victim, as "
        f"the command line does; {CONCURRENCY} at a time), so {ours.workflows:,} workflows: "
        "each case waits on its release timer and each victim on the offer task's escalation "
        f"timer. Floor: {floor.workflows:,} workflows of bench/floor.py FloorSleepWorkflow, "
        f"each asleep on one {SLEEP_DAYS:.0f}-day timer. One `temporal server start-dev "
        "--db-filename` for both, a worker in a process of its own for each "
        f"(max_cached_workflows={MAX_CACHED_WORKFLOWS}, worker.py's default).",
        "Memory is the worker process's VmRSS / VmHWM (peak) from /proc/<pid>/status. Database "
        "is the growth of the server's SQLite file while each population was created. "
        "Pick-up: the worker is stopped (SIGTERM, graceful) and a new process started; "
        "pick-up time runs from launching it until every open workflow has answered a query. "
        "A query to a workflow not in the new worker's cache makes it fetch the whole history "
        "and replay it, so this is the time to take every workflow back into a worker.",
    ]
    table = Table(["measure", "ours", "floor", "ours/floor", "ours per case", "floor per wf"])

    def row(name: str, o: float, f: float, digits: int = 1, per: bool = True) -> None:
        table.add(
            name,
            num(o, digits),
            num(f, digits),
            times(o / f if f else float("nan")),
            num(o / ours.cases, 3) if per else "",
            num(f / floor.cases, 3) if per else "",
        )

    table.add("workflows open", f"{ours.workflows:,}", f"{floor.workflows:,}", "", "", "")
    row(
        "created per second (cases / workflows)",
        ours.cases / ours.create_seconds,
        floor.cases / floor.create_seconds,
        per=False,
    )
    row("server database growth (MB)", ours.database_bytes / 1e6, floor.database_bytes / 1e6, 2)
    row("worker RSS after creating (MiB)", ours.rss_created, floor.rss_created, per=False)
    row("worker RSS just restarted, idle (MiB)", ours.rss_idle, floor.rss_idle, per=False)
    row("worker RSS after pick-up (MiB)", ours.rss_after, floor.rss_after, per=False)
    row("worker peak RSS during pick-up (MiB)", ours.hwm_after, floor.hwm_after, per=False)
    row(
        "RSS per cached workflow (KiB; after pick-up - idle)",
        ours.kib_per_cached_workflow,
        floor.kib_per_cached_workflow,
        per=False,
    )
    row(
        "worker shutdown, SIGTERM to exit (s)",
        ours.shutdown_seconds,
        floor.shutdown_seconds,
        2,
        False,
    )
    row(
        "new worker polling, launch to ready (s)", ours.ready_seconds, floor.ready_seconds, 2, False
    )
    row(
        "pick-up: launch to every workflow answered (s)",
        ours.pickup_seconds,
        floor.pickup_seconds,
        1,
    )
    row(
        "pick-up rate (workflows/s)",
        ours.workflows / ours.pickup_seconds,
        floor.workflows / floor.pickup_seconds,
        per=False,
    )
    table.caption = "per case: ours divided by cases; per wf: floor divided by its workflows"
    section.tables = [table]
    section.findings = [
        f"Database: {num(ours.database_bytes / ours.cases / 1e3, 1)} kB per case against "
        f"{num(floor.database_bytes / floor.cases / 1e3, 1)} kB per sleeping workflow "
        f"({times(ratio(ours.database_bytes, floor.database_bytes))} per case).",
        f"Worker memory after pick-up: {num(ours.rss_after, 0)} MiB against "
        f"{num(floor.rss_after, 0)} MiB; {num(ours.kib_per_cached_workflow, 0)} KiB against "
        f"{num(floor.kib_per_cached_workflow, 0)} KiB for each workflow in the cache (which "
        f"holds at most {MAX_CACHED_WORKFLOWS:,} in both; the rest is replayed on demand). The "
        "worker's sandbox (worker.SANDBOX) passes through pydantic, sqlmodel, "
        "sqlalchemy and the project's activities and models (imported through "
        "workflow.unsafe.imports_passed_through); the workflow modules it imports afresh for "
        "every workflow it holds, sharing one compiled copy of their code "
        "(worker.SharedWorkflowCode).",
        f"Restart: {num(ours.pickup_seconds, 1)} s until all {ours.workflows:,} of ours answered, "
        f"against {num(floor.pickup_seconds, 1)} s for {floor.workflows:,} floor workflows "
        f"({times(ours.pickup_seconds / floor.pickup_seconds)}).",
    ]
    for m in (ours, floor):
        if m.create_errors or m.pickup_errors:
            section.findings.append(
                f"{m.label}: {m.create_errors} creations and {m.pickup_errors} queries failed."
            )
