"""What every benchmark shares: servers, the case database, driving a case as a VLO would,
timing, progress lines and result tables."""

import asyncio
import base64
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment

from models.codec import data_converter
from models.db import create_tables, make_engine, session_scope
from models.errors import VcsError
from models.messages import ActionResult
from models.records import VloTask
from models.vocabulary import ContactLevel, TaskKind, TaskStatus
from service.vcs import Vcs
from tests.helpers import registration, victim, vlo_actor
from workflows.case import case_workflow_id
from workflows.search import ensure_search_attributes

ROOT = Path(__file__).resolve().parent.parent
BENCH_CODEC_KEY_ID = "bench-1"


def use_bench_keys() -> None:
    """A fixed key for the encrypting codec (models/codec.py), set by bench/run.py before any
    data converter is made, as tests/conftest.py sets the tests' own: a benchmark never reads a
    developer's keys nor writes data/codec-keys (32 bytes; not a secret, never used outside the
    benchmarks). Not set on import, so a test importing bench code keeps the tests' keys (the
    recorded histories are sealed with them). Worker processes inherit them."""
    os.environ["VCS_CODEC_KEYS"] = (
        f"{BENCH_CODEC_KEY_ID}:{base64.b64encode(b'vcs-bench-key-not-for-production').decode()}"
    )
    os.environ["VCS_CODEC_ACTIVE_KEY"] = BENCH_CODEC_KEY_ID
    # The worker seals the audit trail as in production (models/audit_key.py); not a secret.
    os.environ["VCS_AUDIT_HMAC_KEY"] = base64.b64encode(
        b"vcs-bench-audit-key-not-a-secret"
    ).decode()
    os.environ.pop("VCS_NOTIFY_BASE_URL", None)  # letters go to the outbox only: nothing is sent


R = TypeVar("R")

VLO = "vlo.bench"
VLO_ACTOR = vlo_actor(VLO)
CONCURRENCY = 20  # cases (or floor workflows) in flight at once, ours and floor alike
SERVER_STARTUP = timedelta(seconds=60)
STALL_SECONDS = 300.0  # no job finished for this long: stop, rather than wait for ever


def converter() -> DataConverter:
    """The project's data converter: pydantic, every payload AES-GCM encrypted."""
    return data_converter()


def installed(command: str) -> str:
    """A binary the PyPI packages put beside this Python (the venv), else on PATH."""
    path = shutil.which(command, path=str(Path(sys.executable).parent)) or shutil.which(command)
    if not path:
        raise SystemExit(f"{command} is not installed: run bin/setup")
    return path


def say(text: str) -> None:
    print(text, flush=True)


# ---- numbers ------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ratio(ours: float, floor: float) -> float:
    return ours / floor if floor else math.nan


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def num(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def times(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# ---- results ------------------------------------------------------------------------------


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def text(self) -> str:
        widths = [
            max(len(self.headers[i]), *(len(r[i]) for r in self.rows)) if self.rows else 0
            for i in range(len(self.headers))
        ]
        widths = [max(w, len(h)) for w, h in zip(widths, self.headers, strict=True)]

        def line(cells: Sequence[str]) -> str:
            first, *rest = cells
            parts = [first.ljust(widths[0])]
            parts += [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
            return "  ".join(parts).rstrip()

        out = [self.caption] if self.caption else []
        out += [line(self.headers), "  ".join("-" * w for w in widths)]
        out += [line(r) for r in self.rows]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"*{self.caption}*", ""] if self.caption else []
        out.append("| " + " | ".join(self.headers) + " |")
        out.append("| " + " | ".join(["---"] + ["---:"] * (len(self.headers) - 1)) + " |")
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in self.rows]
        return "\n".join(out)


@dataclass
class Section:
    """One benchmark's results: what was measured, tables, and what they show."""

    title: str
    setup: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        bar = "=" * len(self.title)
        out = [bar, self.title, bar, *filter(None, self.setup), ""]
        for table in self.tables:
            out += [table.text(), ""]
        out += [f"* {f}" for f in self.findings]
        out.append(f"(benchmark took {self.seconds:.0f} s)")
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"### {self.title}", ""]
        for paragraph in filter(None, self.setup):
            out += [paragraph, ""]
        for table in self.tables:
            out += [table.markdown(), ""]
        out += [f"- {f}" for f in self.findings]
        out += ["", f"Benchmark wall time: {self.seconds:.0f} s.", ""]
        return "\n".join(out)


# ---- running many at once -----------------------------------------------------------------


class Progress:
    """A progress line every few seconds (and at the end) for long runs."""

    def __init__(self, label: str, total: int, unit: str, every: float = 5.0) -> None:
        """An empty label: no lines at all."""
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()
        self.last = self.started

    def step(self, ok: bool = True) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        now = time.perf_counter()
        if not self.label:
            return
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            rate = self.done / max(now - self.started, 1e-9)
            failed = f", {self.failed} failed" if self.failed else ""
            say(
                f"    {self.label}: {self.done:,}/{self.total:,} {self.unit} "
                f"({rate:,.1f}/s, {now - self.started:,.0f} s{failed})"
            )


@dataclass
class Outcome(Generic[R]):
    results: list[R]  # in job order; failed jobs left out
    errors: list[str]
    seconds: float

    def check(self, what: str) -> "Outcome[R]":
        if self.errors:
            raise RuntimeError(f"{len(self.errors)} {what} failed, e.g. {self.errors[0]}")
        return self


async def run_concurrently(
    count: int,
    job: Callable[[int], Awaitable[R]],
    progress: Progress,
    concurrency: int = CONCURRENCY,
    stall: float = STALL_SECONDS,
) -> Outcome[R]:
    """Run job(0..count-1), at most `concurrency` at once. Failures are counted, not raised;
    but if no job finishes for `stall` seconds, everything is cancelled and this raises (an
    activity failing for ever makes an update wait for ever: better a clear stop)."""
    gate = asyncio.Semaphore(concurrency)
    results: dict[int, R] = {}
    errors: list[str] = []
    finished = 0
    running: set[int] = set()

    async def one(i: int) -> None:
        nonlocal finished
        async with gate:
            running.add(i)
            try:
                results[i] = await job(i)
            except Exception as err:
                errors.append(f"{type(err).__name__}: {err}"[:300])
                progress.step(ok=False)
            else:
                progress.step()
            finished += 1
            running.discard(i)

    started = time.perf_counter()
    everything = asyncio.gather(*(one(i) for i in range(count)))
    seen, last_change = 0, time.monotonic()
    while True:
        done, _ = await asyncio.wait({everything}, timeout=5)
        if done:
            everything.result()
            break
        if finished != seen:
            seen, last_change = finished, time.monotonic()
        elif time.monotonic() - last_change > stall:
            everything.cancel()
            raise RuntimeError(
                f"stalled: nothing finished for {stall:.0f} s ({finished}/{count} done; "
                f"still running: jobs {sorted(running)[:10]}); is the worker failing? "
                "(run with --keep and read the worker log)"
            )
    ordered = [results[i] for i in sorted(results)]
    return Outcome(ordered, errors, time.perf_counter() - started)


# ---- servers and databases ----------------------------------------------------------------


@dataclass
class DevServer:
    env: WorkflowEnvironment
    database: Path  # the server's SQLite file; its directory holds nothing else

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def target(self) -> str:
        return self.env.client.service_client.config.target_host

    def database_bytes(self) -> int:
        """The server's SQLite files (main file, write-ahead log, shared memory)."""
        return sum(p.stat().st_size for p in self.database.parent.iterdir() if p.is_file())


@asynccontextmanager
async def dev_server(workdir: Path) -> AsyncIterator[DevServer]:
    """`temporal server start-dev --db-filename <workdir>/temporal/temporal.db` on a free
    port, headless; stopped on exit."""
    database = workdir / "temporal" / "temporal.db"
    database.parent.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed("temporal"),
        dev_server_database_filename=str(database),
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
        ],
        data_converter=converter(),
        dev_server_startup_timeout=SERVER_STARTUP,  # the default 5 s is short on a busy machine
    )
    try:
        await ensure_search_attributes(env.client)
        yield DevServer(env, database)
    finally:
        await env.shutdown()


@asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed("temporal-test-server"),
        data_converter=converter(),
        test_server_startup_timeout=SERVER_STARTUP,
    )
    try:
        await ensure_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()


def case_database(directory: Path) -> Engine:
    """A fresh SQLite case database (WAL), as the demonstration and the tests use."""
    directory.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{directory / 'vcs.db'}")
    create_tables(engine)
    return engine


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) from /proc/<pid>/status, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# ---- driving a case as a VLO does ---------------------------------------------------------


class OfferTaskWatcher:
    """Waits for each new victim's offer task to appear in the case database (the victim's
    workflow opens it), with one query for every victim waited on, not one each."""

    def __init__(self, engine: Engine, interval: float = 0.02) -> None:
        self.engine = engine
        self.interval = interval
        self.waiting: dict[int, asyncio.Future[int]] = {}
        self._runner: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "OfferTaskWatcher":
        self._runner = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        self._runner.cancel()
        for future in self.waiting.values():
            future.cancel()

    async def offer_task(self, victim_id: int, timeout: float = 120.0) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting[victim_id] = future
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self.waiting.pop(victim_id, None)

    def _found(self, victim_ids: list[int]) -> list[tuple[int, int]]:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(VloTask.victim_id, VloTask.id).where(
                    col(VloTask.victim_id).in_(victim_ids),
                    VloTask.kind == TaskKind.OFFER_SCHEME,
                    VloTask.status == TaskStatus.OPEN,
                )
            ).all()
            return [(v, t) for v, t in rows if v is not None and t is not None]

    async def _run(self) -> None:
        while True:
            if self.waiting:
                for victim_id, task_id in await asyncio.to_thread(self._found, list(self.waiting)):
                    future = self.waiting.get(victim_id)
                    if future is not None and not future.done():
                        future.set_result(task_id)
            await asyncio.sleep(self.interval)


class BenchVcs(Vcs):
    """starter.Vcs, as the command line uses it, counting the updates a workflow refused
    because it did not yet know the task being completed (Vcs.complete_task repeats those
    itself, so a VLO only sees them as time). On a time-skipping server (`env`), 'today' is
    the server's day, which runs ahead of the wall clock once time is skipped."""

    def __init__(
        self,
        client: Client,
        engine: Engine,
        task_queue: str,
        env: WorkflowEnvironment | None = None,
    ) -> None:
        super().__init__(client, engine, task_queue)
        self.refused: Counter[str] = Counter()  # workflow ID: refusals
        self.env = env

    async def today(self) -> date:
        if self.env is None:
            return await super().today()
        return (await self.env.get_current_time()).date()

    async def _update(self, workflow_id: str, update: Any, arg: Any) -> ActionResult:
        try:
            return await super()._update(workflow_id, update, arg)
        except VcsError as err:
            if "not an open task" in str(err):
                self.refused[workflow_id] += 1
            raise


@dataclass
class DrivenCase:
    """One case registered and its victim carried through offer and opt-in, with how long
    each VLO step took (seconds)."""

    case_ref: str
    victim_id: int
    register: float
    add_victim: float
    offer_task_appears: float
    complete_offer: float
    opt_in: float
    refused: int  # offer-task completions refused: the workflow had not yet seen the task

    @property
    def vlo_updates(self) -> list[float]:
        return [self.complete_offer, self.opt_in]


async def drive_case(
    vcs: BenchVcs,
    watcher: OfferTaskWatcher,
    case_ref: str,
    sentence_date: date,
    *,
    term_months: int = 24,
    level: ContactLevel = ContactLevel.ALL_KEY_STAGES,
) -> DrivenCase:
    """Register a case with one victim; the VLO makes the offer (completes the offer task the
    moment it is listed) and the victim opts in: the calls the command line makes."""
    t0 = time.perf_counter()
    await vcs.register_case(
        registration(case_ref, sentence_date, term_months=term_months), VLO_ACTOR
    )
    t1 = time.perf_counter()
    victim_id, _ = await vcs.add_victim(case_ref, victim(f"Victim of {case_ref}"), VLO_ACTOR)
    t2 = time.perf_counter()
    task_id = await watcher.offer_task(victim_id)
    t3 = time.perf_counter()
    for attempt in range(20):
        try:
            await vcs.complete_task(task_id, VLO_ACTOR, "phoned victim; offer explained")
            break
        except VcsError as err:
            # Vcs.complete_task repeats a refusal for a task its workflow does not yet know
            # for a few seconds; on a loaded machine, a VLO would try again.
            if "not an open task" not in str(err) or attempt == 19:
                raise
    t4 = time.perf_counter()
    await vcs.opt_in(victim_id, level, VLO_ACTOR)
    t5 = time.perf_counter()
    return DrivenCase(
        case_ref=case_ref,
        victim_id=victim_id,
        register=t1 - t0,
        add_victim=t2 - t1,
        offer_task_appears=t3 - t2,
        complete_offer=t4 - t3,
        opt_in=t5 - t4,
        refused=vcs.refused.pop(case_workflow_id(case_ref), 0),
    )


async def wait_until(
    check: Callable[[], bool], timeout: float, interval: float = 0.1, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        await asyncio.sleep(interval)
