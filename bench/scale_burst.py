"""The burst (issue 15 §4): many cases fall due on one day while a VLO works on another case.

A case wakes on its due date at its own time in the morning (workflows/common.py wakes_at), and
a dev server's clock is the wall clock, so no case can be made to fall due within a run. The
moment is stood in for by one signal to each case, sent as fast as the server takes them: as
when their timers fire together, every case has a workflow task on the queue at once, and each
wakes (replayed from its history if it is not in the worker's cache), runs a database activity
that opens a VLO task (`letter_undelivered`: a task to reach the victim another way), re-plans
its wake-up timer and publishes its search attributes: the shape of a due date's work (a task
opened or escalated, a letter written). Measured: from the first signal until every case has
opened its task (a row in the case database), the rate once due, and a VLO's update latency, one
action a second on cases outside the burst, during it against idle."""

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import Engine, func
from sqlmodel import select
from temporalio.client import Client

from bench.common import VLO_ACTOR, Progress, run_concurrently, say
from bench.scale_cases import ScaleVcs
from models.db import session_scope
from models.delivery import LetterUndelivered
from models.records import VloTask
from models.vocabulary import LetterKind, TaskKind
from workflows.case import CaseWorkflow, case_workflow_id

IDLE_SECONDS = 60.0  # VLO actions with nothing else running: the idle latency
SIGNAL_CONCURRENCY = 50
BURST_TIMEOUT = 1800.0  # stop waiting after this long: the rate so far is still reported
POLL_SECONDS = 2.0
STALL_POLLS = 150  # no case handled for this many polls (5 minutes): stop waiting
BURST_KEY = "bench-burst"


class Weighed(Protocol):
    """The worker, weighed after the burst (bench/processes.py WorkerProcess)."""

    def memory_mib(self) -> tuple[float, float]: ...


@dataclass
class Burst:
    cases: int
    signal_seconds: float  # sending every signal
    handled: int  # cases that opened their task before the timeout
    done_seconds: float  # first signal to the last case's task; NaN on a timeout
    timeline: list[tuple[float, int]]  # (seconds since the first signal, cases handled)
    idle_ms: list[float]
    burst_ms: list[float]
    vlo_errors: list[str]
    load: list[float]  # 1-minute load average, sampled through the burst
    rss_mib: float  # the worker after the burst
    hwm_mib: float  # the worker's peak so far
    signal_errors: list[str] = field(default_factory=list)

    def rate_per_minute(self) -> float:
        """Cases handled per minute between 10% and 90% of the burst (the steady part)."""
        low, high = 0.1 * self.cases, 0.9 * self.cases
        inside = [(t, n) for t, n in self.timeline if low <= n <= high]
        if len(inside) >= 2 and inside[-1][0] > inside[0][0]:
            (t0, n0), (t1, n1) = inside[0], inside[-1]
        elif self.timeline:
            (t0, n0), (t1, n1) = (0.0, 0), self.timeline[-1]
        else:
            return math.nan
        return (n1 - n0) / (t1 - t0) * 60 if t1 > t0 else math.nan

    def minutes_for(self, cases: int) -> float:
        """The time `cases` would take at the steady rate."""
        rate = self.rate_per_minute()
        return cases / rate if rate else math.nan


def handled(engine: Engine) -> int:
    """Cases that have done the burst's work: each opened one task for its undelivered letter."""
    with session_scope(engine) as session:
        return session.exec(
            select(func.count()).select_from(VloTask).where(VloTask.kind == TaskKind.UNDELIVERED)
        ).one()


async def fall_due(client: Client, ref: str, victim_id: int) -> None:
    """The case's due moment, stood in for: its victim's letter was not delivered, so the case
    wakes and opens a task for the VLO (once per case: the task's key is the letter's)."""
    notice = LetterUndelivered(
        letter_id=0, victim_id=victim_id, kind=LetterKind.OFFER, key=BURST_KEY
    )
    await client.get_workflow_handle(case_workflow_id(ref)).signal(
        CaseWorkflow.letter_undelivered, notice
    )


class VloAtWork:
    """One VLO action a second, open loop (the next starts on time whatever the last took):
    a milestone recalculation on one of the VLO's own cases in turn, moving the licence expiry
    date (`expiry`, as registered) a day earlier and back."""

    def __init__(self, vcs: ScaleVcs, case_refs: list[str], expiry: date) -> None:
        self.vcs, self.case_refs, self.expiry = vcs, case_refs, expiry
        self.latencies: list[tuple[float, float]] = []  # (started, seconds)
        self.errors: list[str] = []
        self.actions = 0

    async def act(self, turn: int) -> None:
        ref = self.case_refs[turn % len(self.case_refs)]
        earlier = timedelta(days=(turn // len(self.case_refs) + 1) % 2)
        started = time.perf_counter()
        try:
            await self.vcs.record_milestones(
                ref, {"licence_expiry_date": self.expiry - earlier}, VLO_ACTOR
            )
        except Exception as err:
            self.errors.append(f"{type(err).__name__}: {err}"[:300])
            return
        self.latencies.append((started, time.perf_counter() - started))

    async def run_until(self, stop: Callable[[], bool]) -> None:
        began = time.perf_counter()
        running: set[asyncio.Task[None]] = set()
        while not stop():
            task = asyncio.create_task(self.act(self.actions))
            running.add(task)
            task.add_done_callback(running.discard)
            self.actions += 1
            await asyncio.sleep(max(0.0, began + self.actions - time.perf_counter()))
        await asyncio.gather(*running)

    def ms_between(self, start: float, end: float) -> list[float]:
        return [s * 1000 for t, s in self.latencies if start <= t < end]


async def burst(
    vcs: ScaleVcs,
    process: Weighed,
    victims: dict[int, int],
    vlo_cases: list[str],
    expiry: date,
    refs: Callable[[int], str],
) -> Burst:
    """`victims`: case number -> one of its victims, for every case in the burst."""
    engine, client = vcs.engine, vcs.client
    vlo = VloAtWork(vcs, vlo_cases, expiry)
    say(f"  burst: a VLO's action a second for {IDLE_SECONDS:.0f} s, nothing else running")
    idle_began = time.perf_counter()
    await vlo.run_until(lambda: time.perf_counter() - idle_began >= IDLE_SECONDS)
    idle_ended = time.perf_counter()
    before = handled(engine)
    numbers = sorted(victims)
    finished = False
    vlo_task = asyncio.create_task(vlo.run_until(lambda: finished))

    async def signal(k: int) -> None:
        await fall_due(client, refs(numbers[k]), victims[numbers[k]])

    say(f"  burst: {len(numbers):,} cases fall due (one signal each), the VLO still at work")
    first = time.perf_counter()
    timeline: list[tuple[float, int]] = []
    load: list[float] = []

    async def watch() -> None:
        while True:
            count = await asyncio.to_thread(handled, engine) - before
            timeline.append((time.perf_counter() - first, count))
            load.append(os.getloadavg()[0])
            if count >= len(numbers) or time.perf_counter() - first > BURST_TIMEOUT:
                return
            if len(timeline) > STALL_POLLS and timeline[-STALL_POLLS][1] == count:
                say(f"    burst: no case handled for {STALL_POLLS * POLL_SECONDS:.0f} s: stopped")
                return
            await asyncio.sleep(POLL_SECONDS)

    watcher = asyncio.create_task(watch())
    sent = await run_concurrently(
        len(numbers),
        signal,
        Progress("burst signals", len(numbers), "sent", every=15.0),
        concurrency=SIGNAL_CONCURRENCY,
    )
    signal_seconds = time.perf_counter() - first
    last_said = 0.0
    while not watcher.done():
        await asyncio.sleep(1)
        if timeline and timeline[-1][0] - last_said >= 30:
            last_said = timeline[-1][0]
            say(f"    burst: {timeline[-1][1]:,}/{len(numbers):,} handled ({last_said:,.0f} s)")
    ended = time.perf_counter()
    finished = True
    await vlo_task
    count = timeline[-1][1]
    rss, hwm = process.memory_mib()
    return Burst(
        cases=len(numbers),
        signal_seconds=signal_seconds,
        handled=count,
        done_seconds=timeline[-1][0] if count >= len(numbers) else math.nan,
        timeline=timeline,
        idle_ms=vlo.ms_between(idle_began, idle_ended),
        burst_ms=vlo.ms_between(first, ended),
        vlo_errors=vlo.errors,
        load=load,
        rss_mib=rss,
        hwm_mib=hwm,
        signal_errors=sent.errors,
    )
