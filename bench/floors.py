"""Benchmark 5: fair floors, measured in one run (issue 15 §4). Ours against the same-shape
floor (bench/floor.py FloorRowsWorkflow: opened by update-with-start, then three updates each
writing one row through a local activity), INTERLEAVED on one dev server, with the case
database on SQLite and on PostgreSQL: one at a time, an open-loop load below saturation, and
a closed loop at 20 in flight. Ours is driven through the service layer (bench.common
drive_case), so an engine refactor underneath does not change the driver."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url, text
from temporalio.client import Client

from bench.common import (
    CONCURRENCY,
    STALL_SECONDS,
    BenchVcs,
    DevServer,
    OfferTaskWatcher,
    Progress,
    Section,
    case_database,
    dev_server,
    drive_case,
    run_concurrently,
    say,
)
from bench.floor_activities import FloorCase, create_floor_table, drive_floor_case
from bench.floors_report import Phases, Sample, Samples, report
from bench.history import Tally, tally_workflow
from bench.processes import WorkerProcess
from models.db import create_tables, make_engine

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WARM_UP = 3  # cases a side first, not measured: imports, caches, connection pools
OPEN_LOOP_SHARE = 0.5  # open-loop arrivals at this share of the slower side's closed loop

Job = Callable[[int], Awaitable[Sample]]
Driver = Callable[[str, int], Awaitable[Sample]]


@dataclass
class Sides:
    """The two drivers, each taking a tag (the phase) and a number."""

    ours: Driver
    floor: Driver


def our_ref(backend: str, tag: str, i: int) -> str:
    return f"FL{backend[:2].upper()}{tag}-{i:05d}"


def floor_id(backend: str, tag: str, i: int) -> str:
    return f"bench-floor-{backend}-{tag}-{i}"


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A schema of this run's own in the `test` database, the case tables and the floor's in
    it (search_path), dropped afterwards."""
    name = f"vcs_bench_floors_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={name}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def case_engine(backend: str, workdir: Path) -> Iterator[Engine]:
    """A fresh case database with the floor's table beside ours."""
    if backend == "SQLite":
        engine = case_database(workdir / "cases")
        create_floor_table(engine)
        yield engine
        engine.dispose()
        return
    with postgres_schema(POSTGRES) as url:
        engine = make_engine(url)
        create_tables(engine)
        create_floor_table(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@asynccontextmanager
async def sides(
    server: DevServer, engine: Engine, workdir: Path, label: str
) -> AsyncIterator[tuple[Sides, BenchVcs]]:
    """Both workers running, each in a process of its own, for the whole of a backend's run."""
    client = server.client
    url = engine.url.render_as_string(hide_password=False)
    ours_queue = f"bench-vcs-{uuid.uuid4().hex[:8]}"
    floor_queue = f"bench-floor-rows-{uuid.uuid4().hex[:8]}"
    vcs = BenchVcs(client, engine, ours_queue)
    today = date.today()
    async with (
        WorkerProcess(
            server.target, ours_queue, "vcs", url, workdir / f"vcs-worker-{label}.log"
        ).running(),
        WorkerProcess(
            server.target, floor_queue, "floor-rows", url, workdir / f"floor-worker-{label}.log"
        ).running(),
        OfferTaskWatcher(engine) as watcher,
    ):

        async def ours(tag: str, i: int) -> Sample:
            case = await drive_case(vcs, watcher, our_ref(label, tag, i), today)
            return Sample(
                [case.register, case.add_victim, case.complete_offer, case.opt_in],
                case.offer_task_appears,
            )

        async def floor(tag: str, i: int) -> Sample:
            found: FloorCase = await drive_floor_case(client, floor_queue, floor_id(label, tag, i))
            return Sample([found.open, *found.actions], 0.0)

        yield Sides(ours, floor), vcs


async def one_at_a_time(both: Sides, count: int) -> tuple[Samples, Samples]:
    """Ours, floor, ours, floor, ...: one case in flight at a time."""
    ours: list[Sample] = []
    floor: list[Sample] = []
    for i in range(count):
        ours.append(await both.ours("A", i))
        floor.append(await both.floor("A", i))
    return Samples(ours), Samples(floor)


async def closed_block(job: Job, count: int, label: str) -> tuple[list[Sample], float, int]:
    outcome = await run_concurrently(count, job, Progress(label, count, "cases"), CONCURRENCY)
    return outcome.results, outcome.seconds, len(outcome.errors)


async def open_block(job: Job, count: int, rate: float, label: str) -> tuple[list[Sample], int]:
    """Arrivals every 1/rate seconds whatever is still running (an open loop)."""
    progress = Progress(label, count, "cases")
    began = time.perf_counter()

    async def arrival(i: int) -> Sample:
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        try:
            sample = await asyncio.wait_for(job(i), STALL_SECONDS)
        except Exception:
            progress.step(ok=False)
            raise
        progress.step()
        return sample

    results = await asyncio.gather(*(arrival(i) for i in range(count)), return_exceptions=True)
    samples = [r for r in results if isinstance(r, Sample)]
    return samples, len(results) - len(samples)


async def abba(
    run_block: Callable[[Driver, str], Awaitable[None]],
    both: Sides,
) -> None:
    """Ours, floor, floor, ours: drift in the machine's load falls on both sides alike."""
    for driver, tag in ((both.ours, "1"), (both.floor, "1"), (both.floor, "2"), (both.ours, "2")):
        await run_block(driver, tag)


async def backend_run(
    server: DevServer, backend: str, count: int, workdir: Path
) -> tuple[Phases, Tally, Tally]:
    say(f"  {backend}: warm-up, then {count} cases a side one at a time (interleaved)")
    with case_engine(backend, workdir / backend) as engine:
        async with sides(server, engine, workdir, backend) as (both, vcs):
            for i in range(WARM_UP):
                await both.ours("W", i)
                await both.floor("W", i)
            alone_ours, alone_floor = await one_at_a_time(both, count)

            closed: dict[str, list[Sample]] = {"ours": [], "floor": []}
            closed_seconds = {"ours": 0.0, "floor": 0.0}
            failed = {"ours": 0, "floor": 0}

            def side(driver: Driver) -> str:
                return "ours" if driver is both.ours else "floor"

            async def closed_run(driver: Driver, tag: str) -> None:
                name = side(driver)
                samples, seconds, errors = await closed_block(
                    lambda i: driver(f"C{tag}", i), count, f"{backend} closed {name} {tag}"
                )
                closed[name] += samples
                closed_seconds[name] += seconds
                failed[name] += errors

            say(f"  {backend}: closed loop, {CONCURRENCY} in flight, {count} cases a block, ABBA")
            await abba(closed_run, both)
            rates = {n: len(closed[n]) / closed_seconds[n] for n in closed}
            rate = OPEN_LOOP_SHARE * min(rates.values())

            opened: dict[str, list[Sample]] = {"ours": [], "floor": []}

            async def open_run(driver: Driver, tag: str) -> None:
                name = side(driver)
                samples, errors = await open_block(
                    lambda i: driver(f"O{tag}", i), count, rate, f"{backend} open {name} {tag}"
                )
                opened[name] += samples
                failed[name] += errors

            say(f"  {backend}: open loop at {rate:.2f} cases/s, {count} arrivals a block, ABBA")
            await abba(open_run, both)

            ours_tally = await tally_case(server.client, vcs.task_queue, our_ref(backend, "A", 0))
            floor_tally = await tally_workflow(server.client, floor_id(backend, "A", 0))
    phases = Phases(
        backend=backend,
        alone=(alone_ours, alone_floor),
        closed=(Samples(closed["ours"]), Samples(closed["floor"])),
        closed_rates=(rates["ours"], rates["floor"]),
        open_rate=rate,
        opened=(Samples(opened["ours"]), Samples(opened["floor"])),
        failed=(failed["ours"], failed["floor"]),
    )
    return phases, ours_tally, floor_tally


async def tally_case(client: Client, task_queue: str, case_ref: str) -> Tally:
    """Every workflow of one of our cases (the case's and any it started), found by its task
    queue and case reference, so a change in which workflows a case runs is still counted."""
    tally = Tally()
    query = f'TaskQueue = "{task_queue}"'
    async for execution in client.list_workflows(query):
        if execution.id.endswith(f"-{case_ref}") or f"-{case_ref}-" in execution.id:
            tally.add(await tally_workflow(client, execution.id))
    return tally


async def run(count: int, workdir: Path) -> Section:
    started = time.perf_counter()
    results: list[Phases] = []
    tallies: tuple[Tally, Tally] | None = None
    async with dev_server(workdir) as server:
        for backend in ("SQLite", "PostgreSQL"):
            phases, ours_tally, floor_tally = await backend_run(server, backend, count, workdir)
            results.append(phases)
            tallies = tallies or (ours_tally, floor_tally)
    assert tallies is not None
    section = report(results, count, tallies)
    section.seconds = time.perf_counter() - started
    return section
