"""Benchmark 3 (issue 15 §4, the scale targets): many open cases waiting on timers on one
machine. The worker's memory at 1,000 / 10,000 / 30,000 open cases and what each case beyond
its workflow cache adds (target: under 2 KiB), against as many trivial sleeping workflows in
the same run; then a burst: up to 10,000 of the cases fall due at once while a VLO works
(bench/scale_burst.py; target: all handled within 10 minutes, the VLO's update p99 under 3x
its idle value). Tables: bench/scale_report.py."""

import asyncio
import os
import time
import uuid
from datetime import date
from pathlib import Path

from bench.common import Section, case_database, dev_server, say
from bench.floor import FloorSleepWorkflow
from bench.processes import WorkerProcess
from bench.scale_burst import Burst, burst
from bench.scale_cases import (
    Population,
    ScaleVcs,
    case_ref,
    create_case,
    populate,
    write_case,
)
from bench.scale_report import Run, fill, save
from models.working_days import london_today
from tests.helpers import registration

SLEEP_DAYS = 365.0  # the floor's one timer: far beyond the benchmark
BURST_CASES = 10_000  # the burst: this many cases (at most) due on one day
VLO_CASES = 20  # the VLO's own cases, outside the burst, worked in turn
VLO_CASE_BASE = 900_000  # their numbers (case_ref), clear of the open cases'


async def run(
    count: int, workdir: Path, burst_cases: int = BURST_CASES, budget: float | None = None
) -> Section:
    """`burst_cases`: how many of the open cases (the oldest, outside the cache) fall due in
    the burst (0: no burst); `budget`: seconds to spend creating ours, at most."""
    started = time.perf_counter()
    section = Section(f"3. Scale: {count:,} open cases waiting on timers, and a burst")
    load: list[tuple[str, tuple[float, float, float]]] = [("start", os.getloadavg())]
    # Each side on a server of its own (their databases are weighed apart), side by side.
    # Ours first (the budget may stop it short of `count`), then as many sleepers; each side on
    # a server of its own, so their databases are weighed apart.
    ours, result = await cases(count, workdir / "ours", burst_cases, budget, load)
    floor = await sleepers(ours.cases, workdir / "floor")
    load.append(("floor created", os.getloadavg()))
    measured = Run(floor, ours, result, "SQLite (WAL), one file", load)
    save(measured, workdir / "scale.json")
    fill(section, measured)
    section.seconds = time.perf_counter() - started
    return section


async def sleepers(count: int, workdir: Path) -> Population:
    """The floor: `count` workflows asleep on one timer each."""
    async with dev_server(workdir) as server:
        queue = f"bench-sleepers-{uuid.uuid4().hex[:8]}"

        async def start_sleeper(i: int) -> None:
            await server.client.start_workflow(
                FloorSleepWorkflow.run, SLEEP_DAYS, id=f"bench-sleeper-{i}", task_queue=queue
            )

        process = WorkerProcess(server.target, queue, "floor", None, workdir / "worker.log")
        async with process.running():
            return await populate("floor", count, process, start_sleeper, server.database_bytes)


async def cases(
    count: int,
    workdir: Path,
    burst_cases: int,
    budget: float | None,
    load: list[tuple[str, tuple[float, float, float]]],
) -> tuple[Population, Burst | None]:
    """Ours: `count` cases (fewer if the budget runs out), then the burst."""
    async with dev_server(workdir) as server:
        engine = case_database(workdir / "cases")
        database_url = f"sqlite:///{workdir / 'cases' / 'vcs.db'}"
        queue = f"bench-vcs-{uuid.uuid4().hex[:8]}"
        vcs = ScaleVcs(server.client, engine, queue)
        today = london_today()
        victims: dict[int, int] = {}  # case number -> its first victim

        async def create(i: int) -> None:
            victims[i] = (await create_case(vcs, i, today))[0]

        process = WorkerProcess(server.target, queue, "vcs", database_url, workdir / "worker.log")
        result: Burst | None = None
        try:
            async with process.running():
                ours = await populate("ours", count, process, create, server.database_bytes, budget)
                load.append(("ours created", os.getloadavg()))
                if burst_cases:
                    try:
                        result = await due_at_once(vcs, process, victims, burst_cases, today)
                    except Exception as err:  # the memory measured still stands
                        say(f"  burst: failed: {type(err).__name__}: {err}")
                    load.append(("burst over", os.getloadavg()))
        except Exception:
            say(f"  ours: failed; the worker's log ends:\n{process.log_tail()}")
            raise
        finally:
            engine.dispose()
    return ours, result


async def due_at_once(
    vcs: ScaleVcs, process: WorkerProcess, victims: dict[int, int], cases: int, today: date
) -> Burst:
    """The VLO's own cases opened, then the oldest `cases` cases fall due together."""
    vlo_cases = [case_ref(VLO_CASE_BASE + k) for k in range(VLO_CASES)]
    for ref in vlo_cases:
        await vcs.open_case(ref, await asyncio.to_thread(write_case, vcs.engine, ref, 1, today))
    expiry = registration(vlo_cases[0], today).licence_expiry_date
    assert expiry is not None
    due = {i: victims[i] for i in sorted(victims)[:cases]}
    return await burst(vcs, process, due, vlo_cases, expiry, case_ref)
