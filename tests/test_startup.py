"""Start-up (issue 16 items 4 and 5): in production the schema is Alembic's alone. The worker,
the console and the CLI refuse to start, with one line naming the command to run, unless the
PostgreSQL case database is at head; `create_all` only makes the embedded SQLite database. A
process without payload keys, or a worker without the audit key, refuses too (outside
VCS_DEVELOPMENT=1)."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

import starter
from models.db import make_engine
from models.migrate import alembic_config, migration_engine
from models.startup import SchemaNotAtHead, head_revisions, ready_database
from tests.conftest import BACKENDS, POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
needs_postgres = pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL")
MIGRATE = "run `python -m models.migrate` (compose: the migrate service), then start again"


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database of this test's own, dropped afterwards."""
    session_url = make_url(postgres_url)
    name = f"{session_url.database}_up_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield session_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate_to(url: str, revision: str) -> None:
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def one_behind() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    return previous


def run_process(script: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VCS_DATABASE_URL": url, "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    env["VCS_CONSOLE_MODE"] = "development"
    return subprocess.run(
        [sys.executable, script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@needs_postgres
def test_a_database_one_migration_behind_refuses_every_process(pg_url: str) -> None:
    behind = one_behind()
    migrate_to(pg_url, behind)
    (head,) = head_revisions()
    expected = f"error: the case database is at {behind}, not head {head}: {MIGRATE}"
    engine = make_engine(pg_url)
    try:
        with pytest.raises(SchemaNotAtHead) as caught:
            ready_database(engine)
        assert f"error: {caught.value}" == expected
    finally:
        engine.dispose()
    for script in ("worker.py", "console.py"):
        done = run_process(script, pg_url)
        assert done.returncode == 1, done.stderr
        # The last line (a library may warn before it on import).
        assert done.stderr.strip().splitlines()[-1] == expected, f"{script}: {done.stderr}"


@needs_postgres
async def test_the_cli_refuses_a_database_behind(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate_to(pg_url, one_behind())
    monkeypatch.setenv("VCS_DATABASE_URL", pg_url)
    assert await starter.run(["tasks", "--case", "ANY-1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: the case database is at ") and error.count("\n") == 1
    assert MIGRATE in error


@needs_postgres
def test_an_empty_database_is_not_created_but_refused(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with pytest.raises(SchemaNotAtHead, match=r"at no revision .* run `python -m models"):
            ready_database(engine)
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


@needs_postgres
def test_a_database_at_head_starts(pg_url: str) -> None:
    migrate_to(pg_url, "head")
    engine = make_engine(pg_url)
    try:
        ready_database(engine)
    finally:
        engine.dispose()


def test_the_embedded_sqlite_database_is_made_by_create_all(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'vcs.db'}")
    try:
        ready_database(engine)
        with engine.connect() as connection:
            assert "auditentry" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("drop", "complaint"),
    [
        (
            ("VCS_CODEC_KEYS", "VCS_CODEC_ACTIVE_KEY", "VCS_DEVELOPMENT"),
            "error: no payload keys: set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY",
        ),
        (
            ("VCS_DEVELOPMENT", "VCS_AUDIT_HMAC_KEY", "VCS_AUDIT_HMAC_KEY_FILE"),
            "error: the worker needs the audit key, which only the worker holds: set "
            "VCS_AUDIT_HMAC_KEY_FILE",
        ),
    ],
)
def test_a_worker_without_its_keys_refuses_to_start(
    tmp_path: Path, drop: tuple[str, ...], complaint: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env |= {
        "VCS_DATABASE_URL": f"sqlite:///{tmp_path / 'vcs.db'}",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
    }
    done = subprocess.run(
        [sys.executable, "worker.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(complaint) and done.stderr.count("\n") == 1, done.stderr
