"""The scale benchmark's open cases: each one case workflow (`VictimContactCase`) holding one
or two victims, registered as a VLO's registration and its victims arrive, and the worker's
memory weighed as they accumulate."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from bench.common import VLO, VLO_ACTOR, BenchVcs, Progress, run_concurrently, say
from bench.processes import WorkerProcess
from models.case import OffenderCase
from models.case_repository import register_case
from models.victim_repository import add_victim
from tests.helpers import registration, victim
from worker import MAX_CACHED_WORKFLOWS

# Where the worker is weighed: the 1,000 / 10,000 / 30,000, the cache's size (one
# workflow per case: from there on every case added is one more outside the cache), and enough
# counts between for the growth's slope.
CHECKPOINTS = (1_000, 2_000, 3_000, 4_000, 6_000, 8_000, 10_000, 15_000, 20_000, 25_000, 30_000)
# The worker's first cases warm it up (the allocator's arenas, SQLAlchemy's statement cache,
# pydantic's and typing's caches): growth is counted from here, or from the cache's size if
# that is later (a run with a smaller cache showed 37 KiB a case from 250 to 1,000 cases, then
# under 1 KiB a case from 1,000 to 2,000).
WARM_UP = 1_000
SETTLE_WINDOW = 3.0  # seconds the worker must stay (nearly) idle before it is weighed
SETTLE_CPU = 0.10  # at most this much CPU time (s) in that window counts as idle
SETTLE_TIMEOUT = 900.0


def checkpoints(count: int) -> list[int]:
    """The case counts at which the worker is weighed, up to `count`."""
    points = {c for c in (*CHECKPOINTS, MAX_CACHED_WORKFLOWS) if c < count}
    return sorted(points | {count})


def case_ref(i: int) -> str:
    return f"SCALE-{i:06d}"


def victims_of(i: int) -> int:
    """A victim or two: every other case has two."""
    return 1 + i % 2


@dataclass
class Sample:
    cases: int
    rss_mib: float
    hwm_mib: float
    database_bytes: int  # the Temporal server's database, grown since the first case
    seconds: float  # spent creating, up to this sample


@dataclass
class Population:
    """One side's cases (ours, or the floor's sleepers), weighed at each checkpoint."""

    label: str
    samples: list[Sample]
    errors: list[str]

    @property
    def cases(self) -> int:
        return self.samples[-1].cases

    def at(self, cases: int) -> Sample | None:
        return next((s for s in self.samples if s.cases == cases), None)

    def steady(self) -> list[Sample]:
        """The samples with the cache full and the worker warmed up."""
        return [s for s in self.samples if s.cases >= max(MAX_CACHED_WORKFLOWS, WARM_UP)]

    def beyond_cache(self) -> tuple[Sample, Sample] | None:
        """The first steady sample and the last: what grows outside the cache."""
        full = self.steady()
        return (full[0], full[-1]) if len(full) >= 2 else None

    def growth_kib_per_case(self) -> float:
        """RSS per case added beyond the cache: the least-squares slope over every steady
        sample (one reading alone is noisy by a few MiB)."""
        full = self.steady()
        if len(full) < 2:
            return float("nan")
        mean_n = sum(s.cases for s in full) / len(full)
        mean_r = sum(s.rss_mib for s in full) / len(full)
        covariance = sum((s.cases - mean_n) * (s.rss_mib - mean_r) for s in full)
        variance = sum((s.cases - mean_n) ** 2 for s in full)
        return covariance / variance * 1024

    def created_per_second(self) -> float:
        last = self.samples[-1]
        return last.cases / last.seconds if last.seconds else float("nan")


class ScaleVcs(BenchVcs):
    async def open_case(self, ref: str, written: tuple[OffenderCase, list[int]]) -> None:
        """Start the case's workflow with its victims in one update-with-start (the command
        line's register-case and add-victim, whose rows are already written, in one call)."""
        case, victim_ids = written
        await self._start_case(ref, victim_ids, VLO_ACTOR, case)


def write_case(
    engine: Engine, ref: str, victims: int, today: date
) -> tuple[OffenderCase, list[int]]:
    """The case's row and its victims' IDs (models/case_repository.py and victim_repository.py,
    as the service writes them)."""
    case = register_case(engine, registration(ref, today, term_months=24), VLO, today).case
    ids = []
    for k in range(victims):
        row = add_victim(engine, ref, victim(f"Victim {k + 1} of {ref}"), VLO)
        assert row.id is not None
        ids.append(row.id)
    return case, ids


async def create_case(vcs: ScaleVcs, i: int, today: date) -> list[int]:
    """Case i registered with its victims; their IDs."""
    ref = case_ref(i)
    written = await asyncio.to_thread(write_case, vcs.engine, ref, victims_of(i), today)
    await vcs.open_case(ref, written)
    return written[1]


async def settle(process: WorkerProcess) -> None:
    """Until the worker has done with what it was given: nearly no CPU for a few seconds."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    before = process.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_WINDOW)
        now = process.cpu_seconds()
        if now - before <= SETTLE_CPU:
            return
        before = now
    say(f"    the worker was still busy after {SETTLE_TIMEOUT:.0f} s; weighed anyway")


async def populate(
    label: str,
    count: int,
    process: WorkerProcess,
    create: Callable[[int], Awaitable[object]],
    database_bytes: Callable[[], int],
    budget: float | None = None,
) -> Population:
    """Create `count` items on a running worker, weighing it (once settled) at each
    checkpoint; with a `budget` (seconds of creating), no checkpoint is begun that would end
    past it at the rate so far."""
    base = database_bytes()
    creating = 0.0  # seconds spent creating (not waiting for the worker to settle)
    samples: list[Sample] = []
    errors: list[str] = []
    done = 0
    for point in checkpoints(count):
        first = done
        if budget is not None and done and creating + (point - done) * creating / done > budget:
            say(f"  {label}: stopped at {done:,}: {point:,} would take past {budget / 60:.0f} min")
            break
        outcome = await run_concurrently(
            point - first,
            lambda i, first=first: create(first + i),  # type: ignore[misc]
            Progress(f"{label} {first:,}-{point:,}", point - first, "created", every=30.0),
        )
        errors += outcome.errors
        done = point
        creating += outcome.seconds
        await settle(process)
        rss, hwm = process.memory_mib()
        samples.append(Sample(point, rss, hwm, database_bytes() - base, creating))
        say(f"  {label}: {point:,} open, worker RSS {rss:,.1f} MiB (peak {hwm:,.1f})")
    if errors:
        say(f"  {label}: {len(errors)} failed, e.g. {errors[0]}")
    return Population(label, samples, errors)
