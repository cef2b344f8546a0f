"""Shared fixtures: a case database on each backend, Temporal test servers, a running worker."""

import base64
import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import SQLModel, select
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.case import OffenderCase
from models.codec import data_converter
from models.db import create_tables, make_engine, session_scope
from models.working_days import london_date
from service.vcs import Vcs
from tests.browser import chromium
from tests.clock import ClockWorkflow
from tests.helpers import CLI_IDENTITY, every_run, runs_in_flight, until_quiet
from workflows.case import case_workflow_id
from workflows.search import ensure_search_attributes

# A fixed test key, set before any data converter is made: the suite never reads a developer's
# keys nor writes data/codec-keys. (32 bytes; not a secret, never used outside the tests.)
TEST_CODEC_KEY_ID = "test-1"
os.environ["VCS_CODEC_KEYS"] = (
    f"{TEST_CODEC_KEY_ID}:{base64.b64encode(b'vcs-test-key-not-for-production!').decode()}"
)
os.environ["VCS_CODEC_ACTIVE_KEY"] = TEST_CODEC_KEY_ID
# A developer's machine: development keys, and create_all, are allowed (models/codec.py).
os.environ["VCS_DEVELOPMENT"] = "1"
# The worker processes the tests start serve no metrics unless a test asks: the default ports
# (ops/metrics.py) may be taken on the machine, by a demo or another run of the suite.
os.environ["VCS_METRICS_ADDRESS"] = ""
os.environ["VCS_TEMPORAL_METRICS_ADDRESS"] = ""
# Exported audit heads (activities/audit_heads.py) go to a folder of the run's own, not data/.
os.environ["VCS_AUDIT_HEADS_DIR"] = tempfile.mkdtemp(prefix="vcs-audit-heads-")

POSTGRES_URL = os.environ.get(
    "VCS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = os.environ.get("VCS_TEST_BACKENDS", "sqlite,postgresql").split(",")


def installed(command: str) -> str:
    """A binary the PyPI packages put beside this Python (the venv), else on PATH."""
    path = shutil.which(command, path=str(Path(sys.executable).parent)) or shutil.which(command)
    assert path, f"{command} is not installed: run bin/test, which installs it from PyPI"
    return path


@pytest.fixture(autouse=True)
def cli_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line acts only as a configured identity: the tests configure theirs."""
    for name, value in CLI_IDENTITY.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the PostgreSQL server, so that two test runs
    (two developers, or CI beside a developer) never drop each other's tables."""
    name = f"vcs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A fresh, empty case database on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'vcs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    create_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server for each test module: a workflow one module leaves with work in
    flight (a workflow task whose worker has stopped) makes the server let time pass at
    wall-clock speed, and a long skip in the next module would never end."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=installed("temporal-test-server"),
        data_converter=data_converter(),
    )
    await ensure_search_attributes(env.client)
    queue = f"clock-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[ClockWorkflow]):
        await env.client.start_workflow(ClockWorkflow.run, id=queue, task_queue=queue)
        yield env
    await env.shutdown()


@pytest.fixture(autouse=True)
def registrations_follow_the_test_server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a time-skipping server 'today' is the server's day, which runs ahead of the wall
    clock as tests skip time: a case sentenced on it is not sentenced in the future."""
    if "time_skipping_env" not in request.fixturenames:
        return
    env: WorkflowEnvironment = request.getfixturevalue("time_skipping_env")

    async def server_today(_: Vcs) -> date:
        return london_date(await env.get_current_time())

    monkeypatch.setattr(Vcs, "today", server_today)


@pytest.fixture(scope="session")
async def local_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed("temporal"),
        data_converter=data_converter(),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "frontend.enableUpdateWorkflowExecution=true",
        ],
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"vcs-test-{uuid.uuid4()}"


def unique_ref(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


async def env_today(client: Client, env: WorkflowEnvironment) -> date:
    return london_date(await env.get_current_time())


HISTORIES = Path(__file__).parent / "histories"


# Saved histories are named by workflow kind (tests/test_replay.py replays each kind).
HISTORY_KINDS = [("vcs-case-", "case")]


async def record_histories(
    env: WorkflowEnvironment, test_name: str, workflow_ids: list[str]
) -> None:
    """Save every run of each workflow (walking continue-as-new back to the first run)."""
    recording = os.environ.get("VCS_HISTORY_SET", "latest")
    folder = HISTORIES / recording / test_name.removeprefix("test_").split("[")[0]
    folder.mkdir(parents=True, exist_ok=True)
    for number, workflow_id in enumerate(workflow_ids):
        try:
            runs = await every_run(env.client, workflow_id)
        except RPCError:
            continue  # a case whose workflow never started
        kind = next(k for prefix, k in HISTORY_KINDS if workflow_id.startswith(prefix))
        for index, history in enumerate(runs):
            (folder / f"{kind}-{number}-run{index:02d}.json").write_text(history.to_json())


@pytest.fixture
async def cleanup_workflows(
    request: pytest.FixtureRequest, time_skipping_env: WorkflowEnvironment, engine: Engine
) -> AsyncIterator[None]:
    """Terminate every case and parole workflow a test left running. The time-skipping server
    will not skip time while a workflow task waits for a worker that has gone away.

    With VCS_RECORD_HISTORIES=1 (bin/record-histories), first save every run's history under
    tests/histories/, for the replay tests that guard running workflows against code changes."""
    yield
    with session_scope(engine) as session:
        refs = session.exec(select(OffenderCase.case_ref)).all()
    workflow_ids = [case_workflow_id(ref) for ref in refs]
    if os.environ.get("VCS_RECORD_HISTORIES") == "1" and "[sqlite]" in request.node.name:
        await record_histories(time_skipping_env, request.node.name, workflow_ids)
    for workflow_id in workflow_ids:
        handle = time_skipping_env.client.get_workflow_handle(workflow_id)
        with contextlib.suppress(RPCError):
            await handle.terminate(reason="test finished")
    # Say so here, rather than let the module's next long skip hang for minutes.
    if not await until_quiet(time_skipping_env, seconds=10):
        stuck = await runs_in_flight(time_skipping_env.client)
        pytest.fail(
            "the time-skipping server has stopped skipping time after this test; runs with a "
            f"workflow task not completed: {stuck or 'none (an activity, then)'}. A query sent "
            "while a workflow continued as new leaves such a run (tests.helpers.until_quiet)"
        )


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium, one per test module of the console (tests/browser.py)."""
    async with chromium() as b:
        yield b


from tests.cli_harness import cli  # noqa: E402, F401  (the `cli` fixture, for CLI tests)
