"""Fault injection (issue 6): the worker killed, the Temporal server restarted, the case database
unavailable, and a data error that no retry can mend.

The first two run the real thing: `temporal server start-dev` with a database file, and
`worker.py` in processes of their own (sessions of their own, so that SIGKILL reaches exactly
them). A fake GOV.UK Notify (tests/fake_notify.py) runs in a thread of the test process, and
every "exactly once" is counted there, at the receiving end: never by a counter inside the code
under test.

A VLO here behaves as the error message tells them to: an action refused because no worker
answered is repeated. A repeat refused because the first attempt had taken effect after all
("already opted in", "not an open task") counts as done; any other refusal fails the test.

Timing on the CI machine is noisy: nothing here asserts how long anything took; every loop is
bounded in count and in time. Set VCS_FAULT_SEED to replay a kill schedule's random choices.
"""

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

import service.temporal
import starter
from activities import notify
from models.case import OffenderCase
from models.codec import data_converter
from models.db import create_tables, make_engine, session_scope
from models.errors import UnavailableError, VcsError
from models.ids import victim_key
from models.messages import AddVictims, OptIn
from models.records import AuditEntry, Correspondence, Representation
from models.victim_repository import find_victim
from models.vocabulary import Channel, ContactLevel, LetterKind, Stage, TaskKind
from service.vcs import Vcs
from tests.conftest import BACKENDS, installed, unique_ref
from tests.fake_notify import FakeNotify, serving_in_thread
from tests.helpers import (
    VLO_ACTOR,
    eventually,
    local_activity_data,
    local_activity_type,
    registration,
    stage,
    tasks,
    victim,
)
from worker import build_worker
from workflows import search
from workflows.case import CaseWorkflow, case_workflow_id

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
VLO = "vlo.jones"
# Shorter than the VLO's 30 s, so that a run with several outages stays short. The timeout is
# read at each call (service.temporal.UPDATE_TIMEOUT), so the real VLO code path is exercised.
TEST_UPDATE_TIMEOUT = timedelta(seconds=6)
# What a VLO is told when no worker answers in time. starter.Vcs means to raise
# UnavailableError; the SDK's own timeout error escapes it instead (see
# test_vlo_action_nobody_answers_is_refused_as_unavailable), so both count as "repeat it".
NOBODY_ANSWERED: tuple[type[Exception], ...] = (
    UnavailableError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)

# A kill's in-flight activities come back after their 30 s start-to-close timeout: the bounds
# below leave room for several of those, on a loaded 2-core machine (seen: 18 retries once).
SETTLE_SECONDS = 240.0

# ---- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """A subprocess in a session of its own (its pid is its process group), its output
    appended to a log file."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert not self.running(), "already running"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            await asyncio.to_thread(self.proc.wait, 30)

    async def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not gone within `grace` seconds."""
        if self.proc is None:
            return None
        self._signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, grace)
        except subprocess.TimeoutExpired:
            await self.kill()
            return self.proc.returncode

    def signal_kill(self) -> None:
        """SIGKILL without waiting: safe from any thread."""
        self._signal(signal.SIGKILL)

    def kill_now(self) -> None:
        """For `finally` blocks: SIGKILL and reap, without an event loop."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class DevServer(Process):
    """`temporal server start-dev` on a database file: stop it and start it again, and it
    comes back on the same port with everything it held."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.db_file = folder / "temporal.db"
        super().__init__(
            [
                installed("temporal"),
                "server",
                "start-dev",
                "--db-filename",
                str(self.db_file),
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ui-port",
                str(free_port()),
                "--headless",
            ],
            folder / "temporal.log",
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def connect(self, timeout: float = 60.0) -> Client:
        deadline = asyncio.get_running_loop().time() + timeout
        for _ in range(1000):
            try:
                return await Client.connect(self.address, data_converter=data_converter())
            except RuntimeError:  # not listening yet
                if not self.running() or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
        raise AssertionError(f"Temporal dev server did not answer:\n{self.tail()}")

    async def wait_serving(self, client: Client, timeout: float = 60.0) -> None:
        """Until the (restarted) server answers this client again."""
        deadline = asyncio.get_running_loop().time() + timeout
        for _ in range(1000):
            try:
                await client.workflow_service.get_system_info(
                    GetSystemInfoRequest(), timeout=timedelta(seconds=2)
                )
                return
            except RPCError:
                if not self.running() or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
        raise AssertionError(f"Temporal dev server did not come back:\n{self.tail()}")


class WorkerProcess(Process):
    """`python worker.py`, configured only through its environment, as in production."""

    READY = "worker running on task queue"

    def __init__(
        self, folder: Path, server: DevServer, database_url: str, notify_env: dict[str, str]
    ) -> None:
        self.task_queue = f"vcs-faults-{uuid.uuid4()}"
        # Nothing of the developer's own Temporal settings (a profile, TLS, an API key).
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env.update(notify_env)
        env.update(
            {
                "TEMPORAL_ADDRESS": server.address,
                "TEMPORAL_NAMESPACE": "default",
                "TEMPORAL_CONFIG_FILE": str(folder / "no-such-temporal.toml"),
                "VCS_DATABASE_URL": database_url,
                "VCS_TASK_QUEUE": self.task_queue,
                # The suite's test key (tests/conftest.py), so both sides read each payload.
                "VCS_CODEC_KEYS": os.environ["VCS_CODEC_KEYS"],
                "VCS_CODEC_ACTIVE_KEY": os.environ["VCS_CODEC_ACTIVE_KEY"],
                "PYTHONUNBUFFERED": "1",
            }
        )
        super().__init__([sys.executable, "worker.py"], folder / "worker.log", env)
        self.log_offset = 0

    def start(self) -> None:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        super().start()

    def ready(self) -> bool:
        """Whether this start (not an earlier one) has said it polls its task queue."""
        try:
            with self.log.open("rb") as log:
                log.seek(self.log_offset)
                return self.READY.encode() in log.read()
        except OSError:
            return False

    async def wait_ready(self, timeout: float = 90.0) -> None:
        """Until this start of the worker polls its task queue."""
        deadline = asyncio.get_running_loop().time() + timeout
        for _ in range(int(timeout * 10) + 1):
            if self.ready():
                return
            if not self.running() or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker did not start (running: {self.running()}):\n{self.tail()}")


# ---- the VLO ---------------------------------------------------------------------------------


@dataclass
class PatientVlo:
    """Repeats an action refused because nobody answered, as the error message says to."""

    vcs: Vcs
    refused_unavailable: int = 0
    repeats_found_done: list[str] = field(default_factory=list)
    refused_not_yet: list[str] = field(default_factory=list)

    async def act(
        self,
        what: str,
        action: Callable[[], Awaitable[T]],
        done: str | None = None,
        not_yet: Callable[[str], bool] | None = None,
        timeout: float = SETTLE_SECONDS,
    ) -> T | None:
        """The action's result; None when a repeat was refused because an earlier attempt,
        reported as unavailable, had taken effect after all (the refusal matches `done`).
        A refusal for which `not_yet(message)` holds is tried again a moment later."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        refused = 0
        for _ in range(300):
            try:
                return await action()
            except NOBODY_ANSWERED:
                refused += 1
                self.refused_unavailable += 1
            except VcsError as err:
                if not_yet is not None and not_yet(str(err)):
                    self.refused_not_yet.append(f"{what}: {err}")
                elif refused and done is not None and re.search(done, str(err)):
                    self.repeats_found_done.append(f"{what}: {err}")
                    return None
                else:
                    raise
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.5)
        raise AssertionError(f"{what}: refused as unavailable {refused} times")


# ---- what the database and Notify hold -------------------------------------------------------


def letter_rows(engine: Engine, victim_id: int) -> list[Correspondence]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Correspondence)
                .where(Correspondence.victim_id == victim_id)
                .order_by(Correspondence.id)  # type: ignore[arg-type]
            ).all()
        )


def representations(engine: Engine, victim_id: int) -> list[Representation]:
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(Representation)
                .where(Representation.victim_id == victim_id)
                .order_by(Representation.id)  # type: ignore[arg-type]
            ).all()
        )


def expected_keys(prefix: str, engine: Engine, victim_id: int) -> set[str]:
    """The idempotency key of every letter an opted-in victim who made representations is owed:
    the offer, the opt-in confirmation, and one receipt per representation forwarded."""
    keys = {f"{prefix}:letter:offer", f"{prefix}:letter:opt-in-1"}
    keys |= {
        f"{prefix}:letter:representations-{r.id}"
        for r in representations(engine, victim_id)
        if r.forwarded_at is not None
    }
    return keys


def settled(engine: Engine, victim_ids: list[int]) -> bool:
    """Every victim opted in, every letter sent, every representation recorded forwarded."""
    for victim_id in victim_ids:
        if stage(engine, victim_id) is not Stage.OPTED_IN:
            return False
        rows = letter_rows(engine, victim_id)
        if not rows or any(r.sent_at is None for r in rows):
            return False
        reps = representations(engine, victim_id)
        if not reps or any(r.forwarded_at is None for r in reps):
            return False
        kinds = Counter(r.kind for r in rows)
        if kinds[LetterKind.REPRESENTATIONS_RECEIVED] != len(reps):
            return False
    return True


def assert_each_letter_sent_once(
    fake: FakeNotify, engine: Engine, victims: dict[int, tuple[str, str]]
) -> None:
    """`victims`: victim id -> (their steps' key prefix, email). Counted at Notify: one
    notification per letter owed, to that victim, and nothing else; the outbox row records
    that notification."""
    sent = list(fake.notifications)
    by_reference = Counter(n["reference"] for n in sent)
    owed: set[str] = set()
    for victim_id, (prefix, email) in victims.items():
        keys = expected_keys(prefix, engine, victim_id)
        rows = letter_rows(engine, victim_id)
        assert {r.idempotency_key for r in rows} == keys, f"victim {victim_id}: outbox"
        assert len(rows) == len(keys), f"victim {victim_id}: an outbox row twice"
        for row in rows:
            reference = notify.reference_for(row.idempotency_key)
            owed.add(reference)
            assert by_reference[reference] == 1, (
                f"victim {victim_id}: {row.kind.value} sent {by_reference[reference]} times"
            )
            [notification] = fake.sent_with(reference)
            assert notification["recipient"] == email
            assert row.sent_at is not None and row.provider_id == notification["id"]
    strays = set(by_reference) - owed
    assert not strays, f"{len(strays)} notification(s) that no outbox row owes"
    assert len(sent) == len(owed)
    assert fake.auth_failures == 0


async def workflow_statuses(client: Client, workflow_ids: list[str]) -> set[str]:
    statuses = set()
    for workflow_id in workflow_ids:
        description = await client.get_workflow_handle(workflow_id).describe()
        assert description.status is not None
        statuses.add(description.status.name)
    return statuses


async def until(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60.0) -> T:
    """Poll an async check until it returns something truthy (bounded in time and count)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: T | None = None
    for _ in range(int(timeout * 5) + 1):
        last = await check()
        if last:
            return last
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:g}s (last: {last!r})")


async def terminate_all(client: Client, workflow_ids: list[str]) -> None:
    """Leave nothing running on a shared server."""
    for workflow_id in workflow_ids:
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).terminate(reason="test finished")


# ---- scenario steps --------------------------------------------------------------------------


@dataclass
class Enrolled:
    case_ref: str
    victim_id: int
    email: str

    @property
    def workflow_id(self) -> str:
        """The workflow holding the victim: their case's."""
        return case_workflow_id(self.case_ref)

    @property
    def keys(self) -> str:
        """What the victim's steps' idempotency keys start with (models/ids.py)."""
        return victim_key(self.case_ref, self.victim_id)


async def enrol(vlo: PatientVlo, engine: Engine, label: str) -> Enrolled:
    """Register a case and add a victim who chose email; through the VLO's own calls."""
    case_ref = unique_ref("F")
    await vlo.act(
        f"register {case_ref}",
        lambda: vlo.vcs.register_case(registration(case_ref, date.today()), actor=VLO_ACTOR),
    )
    email = f"victim.{label}@example.org"
    person = victim(f"Victim {label}", preferred_channel=Channel.EMAIL, email=email)
    await vlo.act(
        f"add victim to {case_ref}",
        lambda: vlo.vcs.add_victim(case_ref, person, actor=VLO_ACTOR),
        done=r"is already recorded on case",
    )
    row = find_victim(engine, case_ref, person.full_name, person.postcode)
    assert row is not None and row.id is not None
    return Enrolled(case_ref, row.id, email)


async def make_offer(vlo: PatientVlo, engine: Engine, who: Enrolled) -> None:
    [offer] = await eventually(
        lambda: [t for t in tasks(engine, who.victim_id) if t.kind is TaskKind.OFFER_SCHEME],
        timeout=SETTLE_SECONDS,
    )
    assert offer.id is not None
    task_id = offer.id

    def still_listed(refusal: str) -> bool:
        """Refused as not open, yet the VLO's task list (the database) shows it open: the
        worker died after the task was written and before its workflow heard so; the
        activity's retry, after its 30 s timeout, brings the two together."""
        return "is not an open task" in refusal and any(
            t.id == task_id for t in tasks(engine, who.victim_id)
        )

    await vlo.act(
        f"offer to victim {who.victim_id}",
        lambda: vlo.vcs.complete_task(task_id, actor=VLO_ACTOR, outcome="emailed the offer"),
        done=r"is not an open task",
        not_yet=still_listed,
    )


async def opt_in(vlo: PatientVlo, who: Enrolled) -> None:
    await vlo.act(
        f"opt-in of victim {who.victim_id}",
        lambda: vlo.vcs.opt_in(who.victim_id, ContactLevel.ALL_KEY_STAGES, actor=VLO_ACTOR),
        done=r"is already opted in",
    )


async def submit_representations(vlo: PatientVlo, who: Enrolled) -> None:
    await vlo.act(
        f"representations of victim {who.victim_id}",
        lambda: vlo.vcs.submit_representations(
            who.victim_id, "Please keep him away from my street.", actor=VLO_ACTOR
        ),
    )


@contextlib.contextmanager
def sqlite_engine(path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    create_tables(engine)
    try:
        yield engine, url
    finally:
        engine.dispose()


# ---- 1. the worker killed at random moments --------------------------------------------------


async def test_worker_killed_at_random_moments_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight victims who chose email are taken through offer, opt-in and representations
    while the worker process is SIGKILLed 3-5 times at random moments and restarted. At the
    end every victim is opted in, every letter is in the outbox once and marked sent, and
    Notify has received exactly one email per letter: none lost, none sent twice. A
    representation a VLO repeats after a time-out is the same representation, forwarded and
    acknowledged once (as test_repeated_representations_after_a_timeout_are_forwarded_once
    shows on its own)."""
    seed = int(os.environ.get("VCS_FAULT_SEED") or random.SystemRandom().randrange(10**6))
    rng = random.Random(seed)
    monkeypatch.setattr(service.temporal, "UPDATE_TIMEOUT", TEST_UPDATE_TIMEOUT)
    server = DevServer(tmp_path)
    worker: WorkerProcess | None = None
    with serving_in_thread() as fake, sqlite_engine(tmp_path / "vcs.db") as (engine, url):
        # Hold each email a moment after Notify has taken it: a kill in that moment leaves a
        # message Notify has and the outbox does not know about (found again by reference).
        fake.respond_delay = 0.3
        try:
            server.start()
            client = await server.connect()
            worker = WorkerProcess(tmp_path, server, url, fake.env())
            worker.start()
            await worker.wait_ready()
            vlo = PatientVlo(Vcs(client, engine, worker.task_queue))

            async def lifecycle(number: int, start_after: float) -> Enrolled:
                await asyncio.sleep(start_after)
                who = await enrol(vlo, engine, str(number))
                await make_offer(vlo, engine, who)
                await opt_in(vlo, who)
                await submit_representations(vlo, who)
                return who

            # The schedule, drawn up front: kill k at kill_at[k] seconds, dead for
            # dead_for[k], restarted, and alive for a while (sometimes shorter than its
            # start-up) before the next kill. Lifecycles begin across the whole schedule, the
            # last just before the last kill, so every kill falls during the batch. One kill,
            # chosen at random, waits for the worst moment: Notify has just taken an email and
            # the worker has not yet heard back, let alone recorded it.
            kill_count = rng.randint(3, 5)
            dead_for = [rng.uniform(0.2, 3.0) for _ in range(kill_count)]
            kill_at = [rng.uniform(0.5, 3.0)]
            for down in dead_for[:-1]:
                kill_at.append(kill_at[-1] + down + rng.uniform(0.5, 4.0))
            starts = [rng.uniform(0.0, kill_at[-1]) for _ in range(7)] + [kill_at[-1] - 0.5]
            mid_send = rng.randrange(kill_count)
            kills_during_the_batch = 0
            killed_mid_send = False
            loop = asyncio.get_running_loop()
            armed = threading.Event()
            email_taken = asyncio.Event()

            def on_record() -> None:
                """On the fake Notify's thread, as it takes an email and before it answers:
                the kill cannot wait for the test's loop (which a SQLite lock may hold up)."""
                nonlocal killed_mid_send
                if armed.is_set() and worker is not None and worker.running():
                    armed.clear()
                    worker.signal_kill()
                    killed_mid_send = True
                    loop.call_soon_threadsafe(email_taken.set)

            fake.on_record = on_record

            async def killer(batch: list[asyncio.Task[Enrolled]]) -> None:
                nonlocal kills_during_the_batch
                assert worker is not None
                began = loop.time()
                for number, (at, down) in enumerate(zip(kill_at, dead_for, strict=True)):
                    await asyncio.sleep(max(at - (loop.time() - began), 0.0))
                    if number == mid_send:
                        email_taken.clear()
                        armed.set()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(email_taken.wait(), timeout=30)
                        armed.clear()
                    # Wherever it is: mid-activity, mid-workflow task, or still starting up.
                    await worker.kill()
                    kills_during_the_batch += not all(t.done() for t in batch)
                    await asyncio.sleep(down)
                    worker.start()
                await worker.wait_ready()

            # A task group: should one lifecycle fail, the others are cancelled with it.
            async with asyncio.TaskGroup() as group:
                batch = [group.create_task(lifecycle(n, s)) for n, s in enumerate(starts)]
                group.create_task(killer(batch))
            enrolled = [t.result() for t in batch]
            victim_ids = [e.victim_id for e in enrolled]

            await eventually(lambda: settled(engine, victim_ids), timeout=SETTLE_SECONDS)
            context = (
                f"seed {seed}: {kill_count} kills at {[round(k, 1) for k in kill_at]}s "
                f"({kills_during_the_batch} during the batch, number {mid_send + 1} just after "
                f"Notify took an email: {killed_mid_send}); "
                f"{vlo.refused_unavailable} actions refused as unavailable; repeats found "
                f"done: {vlo.repeats_found_done}; refused as not open while listed open: "
                f"{vlo.refused_not_yet}; Notify look-ups that found a message already sent: "
                f"{fake.lookups_found}"
            )
            print(context)
            assert kills_during_the_batch >= 3, context
            # The email taken just before the kill was found again by its reference, not sent
            # again (and assert_each_letter_sent_once below counts every email at Notify).
            assert killed_mid_send, context
            assert fake.lookups_found >= 1, context
            assert worker.starts == kill_count + 1

            for who in enrolled:
                assert stage(engine, who.victim_id) is Stage.OPTED_IN, context
                assert tasks(engine, who.victim_id) == [], context  # the offer task closed
            assert_each_letter_sent_once(
                fake, engine, {e.victim_id: (e.keys, e.email) for e in enrolled}
            )
            # A representation repeated after a time-out is found as the same one (the same
            # words from the same victim: starter.submit_representations), so each victim has
            # one, forwarded once and acknowledged once (above).
            for who in enrolled:
                assert len(representations(engine, who.victim_id)) == 1, context

            workflow_ids = [case_workflow_id(e.case_ref) for e in enrolled]
            assert await workflow_statuses(client, workflow_ids) == {"RUNNING"}, context
        finally:
            if worker is not None:
                worker.kill_now()
            server.kill_now()


# ---- 2. the Temporal server stopped and started again ----------------------------------------


async def snapshot(client: Client, engine: Engine, people: list[Enrolled]) -> dict[str, Any]:
    """What a VLO and ops can see: each workflow's status and stage attribute, each victim's
    stage and open tasks as the workflow holds them, and the task list in the database."""
    seen: dict[str, Any] = {}
    for who in people:
        description = await client.get_workflow_handle(who.workflow_id).describe()
        stage_attribute = description.typed_search_attributes.get(search.STAGE)
        assert description.status is not None
        seen[who.workflow_id] = (description.status.name, stage_attribute)
        view = await client.get_workflow_handle(who.workflow_id).query(
            CaseWorkflow.victim_view, who.victim_id
        )
        seen[f"victim {who.victim_id} view"] = (
            view.stage,
            [(t.task_id, t.kind, t.due_on) for t in view.open_tasks],
        )
        seen[f"victim {who.victim_id} tasks"] = [
            (t.id, t.kind, t.due_on) for t in tasks(engine, who.victim_id)
        ]
    return seen


async def test_temporal_server_restart_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three victims at different stages; the Temporal server (on a database file) is stopped
    and started again on the same file and port. Nothing is lost: every workflow still runs,
    every open task is still open, an action while the server is down is refused and changes
    nothing, actions after the restart work, and no letter is sent twice."""
    server = DevServer(tmp_path)
    worker: WorkerProcess | None = None
    with serving_in_thread() as fake, sqlite_engine(tmp_path / "vcs.db") as (engine, url):
        try:
            server.start()
            client = await server.connect()
            worker = WorkerProcess(tmp_path, server, url, fake.env())
            worker.start()
            await worker.wait_ready()
            vlo = PatientVlo(Vcs(client, engine, worker.task_queue))

            opted_in, offered, identified = [
                await enrol(vlo, engine, label) for label in ("in", "offered", "new")
            ]
            await make_offer(vlo, engine, opted_in)
            await opt_in(vlo, opted_in)
            await make_offer(vlo, engine, offered)
            [offer_task] = await eventually(lambda: tasks(engine, identified.victim_id))
            people = [opted_in, offered, identified]
            await eventually(lambda: len(fake.notifications) == 3)
            before = await snapshot(client, engine, people)
            assert before[f"victim {identified.victim_id} view"][1] == [
                (offer_task.id, TaskKind.OFFER_SCHEME, offer_task.due_on)
            ]
            assert before[f"victim {offered.victim_id} view"][0] is Stage.OFFERED
            assert before[offered.workflow_id] == ("RUNNING", "in_custody")

            assert await server.stop() is not None
            assert not server.running()
            with monkeypatch.context() as patch, pytest.raises(NOBODY_ANSWERED) as refused:
                patch.setattr(service.temporal, "UPDATE_TIMEOUT", TEST_UPDATE_TIMEOUT)
                # A VLO is told; nothing changes.
                await vlo.vcs.opt_in(offered.victim_id, ContactLevel.RELEASE_ONLY, actor=VLO_ACTOR)
            print(f"while the server is down: {type(refused.value).__name__}: {refused.value}")

            server.start()  # the same database file and port
            await server.wait_serving(client)
            after = await until(
                lambda: _snapshot_or_none(client, engine, people),
                "workflows answering again after the restart",
                timeout=SETTLE_SECONDS,
            )
            assert after == before
            assert stage(engine, offered.victim_id) is Stage.OFFERED
            assert worker.running() and worker.starts == 1  # it reconnected by itself

            await opt_in(vlo, offered)
            await make_offer(vlo, engine, identified)
            await opt_in(vlo, identified)
            await submit_representations(vlo, opted_in)
            await submit_representations(vlo, offered)
            await submit_representations(vlo, identified)
            victim_ids = [p.victim_id for p in people]
            await eventually(lambda: settled(engine, victim_ids), timeout=SETTLE_SECONDS)
            assert vlo.repeats_found_done == []
            for who in people:
                assert len(representations(engine, who.victim_id)) == 1
            assert_each_letter_sent_once(
                fake, engine, {p.victim_id: (p.keys, p.email) for p in people}
            )
            workflow_ids = [case_workflow_id(p.case_ref) for p in people]
            assert await workflow_statuses(client, workflow_ids) == {"RUNNING"}
        finally:
            if worker is not None:
                worker.kill_now()
            server.kill_now()


async def _snapshot_or_none(
    client: Client, engine: Engine, people: list[Enrolled]
) -> dict[str, Any] | None:
    """A snapshot, or None while the server or the worker is still finding its feet."""
    try:
        return await snapshot(client, engine, people)
    except RPCError:
        return None


# ---- 3. the case database unavailable --------------------------------------------------------


@contextlib.contextmanager
def own_postgres_database(postgres_url: str) -> Iterator[tuple[Engine, str, str]]:
    """A database of this test's own (so blocking it troubles nobody else): (admin engine in
    AUTOCOMMIT, database name, URL)."""
    name = f"vcs_fault_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            admin,
            name,
            make_url(postgres_url).set(database=name).render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def block_connections(admin: Engine, name: str) -> None:
    """No new connection to the database, and every open one cut."""
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )


def allow_connections(admin: Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="needs the PostgreSQL backend")
async def test_case_database_unavailable_action_waits_then_completes_once(
    local_env: WorkflowEnvironment,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """PostgreSQL refuses every connection while a VLO records an opt-in: the letter activity
    fails and is retried, and the opt-in does not complete. Connections are allowed again: it
    completes, exactly once (one stage change, one letter, one email)."""
    client = local_env.client
    task_queue = f"vcs-faults-{uuid.uuid4()}"
    workflow_ids: list[str] = []
    with own_postgres_database(postgres_url) as (admin, name, url), serving_in_thread() as fake:
        for variable, value in fake.env().items():
            monkeypatch.setenv(variable, value)
        engine = make_engine(url)
        create_tables(engine)
        try:
            async with build_worker(client, engine, task_queue):
                vlo = PatientVlo(Vcs(client, engine, task_queue))
                who = await enrol(vlo, engine, "pg")
                workflow_ids += [case_workflow_id(who.case_ref)]
                await make_offer(vlo, engine, who)
                await eventually(lambda: len(fake.notifications) == 1)

                block_connections(admin, name)
                try:
                    probe = create_engine(url)
                    with pytest.raises(OperationalError, match="not currently accepting"):
                        probe.connect().close()
                    probe.dispose()
                    # The VLO's tool needs the database too; the update itself does not.
                    handle = await client.get_workflow_handle(who.workflow_id).start_update(
                        CaseWorkflow.opt_in,
                        OptIn(
                            victim_id=who.victim_id,
                            contact_level=ContactLevel.ALL_KEY_STAGES,
                            by=VLO,
                        ),
                        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                        id=f"opt-in-{uuid.uuid4()}",
                        rpc_timeout=timedelta(seconds=30),
                    )

                    async def retrying() -> Any:
                        description = await client.get_workflow_handle(who.workflow_id).describe()
                        for pending in description.raw_description.pending_activities:
                            # The opt-in's steps, its letter among them, in one activity
                            # (workflows/steps.py), named in its ID.
                            letter = "send_letter" in pending.activity_id
                            step = pending.activity_type.name == "apply"
                            if step and letter and pending.attempt >= 3:
                                return pending
                        return None

                    pending = await until(retrying, "the letter activity retried", timeout=60)
                    # Why it retries, in full, from the worker's log.
                    failed_attempts = [
                        r
                        for r in caplog.records
                        if "'apply' attempt failed" in r.getMessage()
                        and r.exc_info is not None
                        and "not currently accepting connections" in str(r.exc_info[1])
                    ]
                    assert len(failed_attempts) >= 2
                    # Ops see why in the Web UI: the failure is short enough for the server
                    # to keep (activities/failures.py), not "Failure exceeds size limit."
                    failure = await client.data_converter.decode_failure(pending.last_failure)
                    print(f"pending letter step attempt {pending.attempt}: {failure!r}")
                    assert isinstance(failure, ApplicationError)
                    assert failure.type == "OperationalError"
                    assert "not currently accepting connections" in failure.message
                    assert failure.message.endswith("(will retry)")
                    with pytest.raises(WorkflowUpdateRPCTimeoutOrCancelledError):
                        await handle.result(rpc_timeout=timedelta(seconds=1))  # not done
                finally:
                    allow_connections(admin, name)

                result = await asyncio.wait_for(handle.result(), timeout=SETTLE_SECONDS)
                assert result.message.startswith(
                    f"victim {who.victim_id} opted in (all_key_stages)"
                )

            assert stage(engine, who.victim_id) is Stage.OPTED_IN
            rows = letter_rows(engine, who.victim_id)
            assert [r.kind for r in rows] == [LetterKind.OFFER, LetterKind.OPT_IN_CONFIRMED]
            assert_each_letter_sent_once_no_reps(fake, rows, who.email)
            with session_scope(engine) as session:
                opted = session.exec(
                    select(AuditEntry).where(
                        AuditEntry.victim_id == who.victim_id,
                        AuditEntry.action == "stage:opted_in",
                    )
                ).all()
            assert len(opted) == 1
            history = await client.get_workflow_handle(who.workflow_id).fetch_history()
            letters_started = [
                e.activity_task_started_event_attributes.attempt
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            ]
            assert max(letters_started) >= 3  # the retried attempt is the one recorded
        finally:
            await terminate_all(client, workflow_ids)
            engine.dispose()


def assert_each_letter_sent_once_no_reps(
    fake: FakeNotify, rows: list[Correspondence], email: str
) -> None:
    sent = Counter(n["reference"] for n in list(fake.notifications))
    references = [notify.reference_for(r.idempotency_key) for r in rows]
    assert sent == Counter(references)
    for row, reference in zip(rows, references, strict=True):
        [notification] = fake.sent_with(reference)
        assert notification["recipient"] == email and row.provider_id == notification["id"]


PERSONAL = ("Victim X", "Victim Y", "victim.x@example.org", "victim.y@example.org", "1 Test")


async def test_permanent_data_error_fails_fast_naming_ids_only(
    local_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    """A case told to take on another case's victim: the activity that checks finds a data
    error, which no retry can mend. The action fails at once (one attempt, not retried), the
    VLO is told which IDs are wrong and nothing personal, and the case goes on."""
    client = local_env.client
    vcs = Vcs(client, engine, task_queue)
    vlo = PatientVlo(vcs)
    workflow_ids: list[str] = []
    try:
        async with build_worker(client, engine, task_queue):
            x = await enrol_by_letter(vlo, engine, "X")
            y = await enrol_by_letter(vlo, engine, "Y")
            workflow_ids += [case_workflow_id(x.case_ref), case_workflow_id(y.case_ref)]
            with session_scope(engine) as session:
                x_case = session.exec(
                    select(OffenderCase.id).where(OffenderCase.case_ref == x.case_ref)
                ).one()
            y_run = (await client.get_workflow_handle(y.workflow_id).describe()).run_id

            case_x = client.get_workflow_handle(case_workflow_id(x.case_ref))
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await case_x.execute_update(
                    CaseWorkflow.add_victims,
                    AddVictims(victim_ids=[y.victim_id], by=VLO),
                    rpc_timeout=timedelta(seconds=60),
                )
            activity_error = failed.value.cause
            assert isinstance(activity_error, ActivityError)
            cause = activity_error.cause
            assert isinstance(cause, ApplicationError)
            assert cause.type == "DataError" and cause.non_retryable
            said = str(service.temporal.update_error(failed.value))  # what the VLO's tool prints
            assert said == f"victim IDs [{y.victim_id}] are not victims of case {x_case}"
            assert [word for word in PERSONAL if word in said] == []

            # Failed at once: the one attempt (a local activity: workflows/common.py) recorded
            # as failed non-retryable, and never retried as an ordinary activity.
            history = await case_x.fetch_history()
            failed_checks = []
            for e in history.events:
                marker = e.marker_recorded_event_attributes
                if (
                    e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                    and local_activity_type(marker) == "victims_of_case"
                    and marker.HasField("failure")
                ):
                    failed_checks.append((local_activity_data(marker)["attempt"], marker))
            assert [attempt for attempt, _ in failed_checks] == [1]
            failure = failed_checks[0][1].failure
            while not failure.HasField("application_failure_info") and failure.HasField("cause"):
                failure = failure.cause
            assert failure.application_failure_info.type == "DataError"
            assert failure.application_failure_info.non_retryable
            assert "victims_of_case" not in [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            ]

            # Nothing changed, and the case goes on.
            view = await case_x.query(CaseWorkflow.view)
            assert view.victim_ids == [x.victim_id]
            assert (await client.get_workflow_handle(y.workflow_id).describe()).run_id == y_run
            assert await workflow_statuses(client, workflow_ids) == {"RUNNING"}
            another = victim("Victim Z", postcode="LS2 2BB")
            z_id, _ = await vcs.add_victim(x.case_ref, another, actor=VLO_ACTOR)
            view = await case_x.query(CaseWorkflow.view)
            assert view.victim_ids == [x.victim_id, z_id]
            await eventually(lambda: stage(engine, z_id) is Stage.IDENTIFIED)
    finally:
        await terminate_all(client, workflow_ids)


async def enrol_by_letter(vlo: PatientVlo, engine: Engine, label: str) -> Enrolled:
    case_ref = unique_ref("F")
    await vlo.vcs.register_case(registration(case_ref, date.today()), actor=VLO_ACTOR)
    person = victim(f"Victim {label}", email=f"victim.{label.lower()}@example.org")
    victim_id, _ = await vlo.vcs.add_victim(case_ref, person, actor=VLO_ACTOR)
    return Enrolled(case_ref, victim_id, person.email or "")


# ---- regressions: time-outs reported as unavailable; repeats never forward twice ----------


def test_a_case_busy_with_other_actions_says_so_not_an_outage() -> None:
    """Temporal refuses an 11th update in flight on one workflow (RESOURCE_EXHAUSTED): a case's
    victims share it, so the VLO is told the case is busy and to try again, not that Temporal
    is down."""
    busy = RPCError("too many outstanding updates", RPCStatusCode.RESOURCE_EXHAUSTED, b"")
    refusal = service.temporal.unavailable(busy, "vcs-case-X1")
    assert isinstance(refusal, UnavailableError)
    assert str(refusal).startswith("the case is busy with other actions: nothing was changed")
    down = RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
    assert "cannot reach Temporal" in str(service.temporal.unavailable(down, "vcs-case-X1"))


async def test_vlo_action_nobody_answers_is_refused_as_unavailable(
    local_env: WorkflowEnvironment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No worker polls the task queue: the VLO's command is refused in one line, exit 3."""
    monkeypatch.setattr(service.temporal, "UPDATE_TIMEOUT", timedelta(seconds=2))
    task_queue = f"vcs-nobody-{uuid.uuid4()}"
    case_ref = unique_ref("F")
    with sqlite_engine(tmp_path / "vcs.db") as (engine, _):
        vcs = Vcs(local_env.client, engine, task_queue)
        today = date.today()
        argv = [
            "register-case",
            "--case-ref",
            case_ref,
            "--region",
            "Yorkshire and the Humber",
            "--sentence-type",
            "imprisonment",
            "--term-months",
            "30",
            "--sentence-date",
            today.isoformat(),
            "--crd",
            (today + timedelta(days=450)).isoformat(),
            "--led",
            (today + timedelta(days=900)).isoformat(),
            "--sed",
            (today + timedelta(days=900)).isoformat(),
            "--offence",
            "sch15_violent:Wounding with intent",
        ]
        try:
            code = await starter.run(argv, vcs=vcs)
        finally:
            await terminate_all(local_env.client, [case_workflow_id(case_ref)])
        assert code == 3
        assert capsys.readouterr().err.startswith("error: no worker answered")


async def test_repeated_representations_after_a_timeout_are_forwarded_once(
    local_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notify is down while a VLO records a victim's representations: the update waits on the
    receipt letter, the VLO's tool times out and says to repeat; the VLO repeats. Once Notify
    is back, the victim's representations are forwarded once and acknowledged once."""
    monkeypatch.setattr(service.temporal, "UPDATE_TIMEOUT", timedelta(seconds=2))
    client = local_env.client
    task_queue = f"vcs-faults-{uuid.uuid4()}"
    workflow_ids: list[str] = []
    with serving_in_thread() as fake, sqlite_engine(tmp_path / "vcs.db") as (engine, _):
        for variable, value in fake.env().items():
            monkeypatch.setenv(variable, value)
        try:
            async with build_worker(client, engine, task_queue):
                vlo = PatientVlo(Vcs(client, engine, task_queue))
                who = await enrol(vlo, engine, "reps")
                workflow_ids += [case_workflow_id(who.case_ref)]
                await make_offer(vlo, engine, who)
                await opt_in(vlo, who)
                await eventually(lambda: len(fake.notifications) == 2)

                fake.answer_posts_with = 503  # Notify is down
                words = "Please keep him away from my street."
                with pytest.raises(NOBODY_ANSWERED):  # the VLO's command times out
                    await vlo.vcs.submit_representations(who.victim_id, words, actor=VLO_ACTOR)
                # The VLO repeats it: the same representation, found as already submitted.
                repeat = await vlo.vcs.submit_representations(who.victim_id, words, actor=VLO_ACTOR)
                assert "already" in repeat.message
                fake.answer_posts_with = None  # Notify is back
                await eventually(lambda: settled(engine, [who.victim_id]), timeout=60)
                forwarded = [r for r in representations(engine, who.victim_id) if r.forwarded_at]
                receipts = [
                    r
                    for r in letter_rows(engine, who.victim_id)
                    if r.kind is LetterKind.REPRESENTATIONS_RECEIVED
                ]
        finally:
            await terminate_all(client, workflow_ids)
    assert len(forwarded) == 1, f"{len(forwarded)} representations forwarded"
    assert len(receipts) == 1, f"{len(receipts)} receipts sent"
