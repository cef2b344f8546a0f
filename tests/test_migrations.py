"""The migrations (migrations/versions) build the schema the models declare, on SQLite and on
PostgreSQL, and can be undone.

When test_upgrade_head_matches_the_models fails after a change to models/*.py, the fix is a new
revision (README, "Database migrations"), never an edit to one already released.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, make_url, text
from sqlmodel import SQLModel

from models.db import create_tables, make_engine
from models.migrate import (
    MigrationError,
    alembic_config,
    describe,
    migration_engine,
    upgrade,
)
from tests.conftest import BACKENDS, POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
HOW_TO_FIX = (
    "add a migration: .venv/bin/alembic revision --autogenerate -m ... "
    '(against a database at head: README, "Database migrations"), review it, run this again'
)


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file, or a PostgreSQL database of this test's
    own beside the session's (on the server of VCS_TEST_POSTGRES_URL), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vcs.db'}"
        return
    session_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"{session_url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield session_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def differences(connection: Connection) -> list[str]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return describe(compare_metadata(context, SQLModel.metadata))


def assert_matches_the_models(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = differences(connection)
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    backend = make_url(url).get_backend_name()
    listing = "\n".join(f"  {line}" for line in found)
    assert not found, (
        f"after `alembic upgrade head` the {backend} database differs from the models "
        f"(what autogenerate would do to the database):\n{listing}\n{HOW_TO_FIX}"
    )
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert current == heads, f"the database is at {current}, not at the head {heads}"


def model_tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
    finally:
        engine.dispose()


def enum_types(url: str) -> dict[str, set[str]]:
    """PostgreSQL's enum types in the public schema, with their labels."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT t.typname, e.enumlabel FROM pg_type t "
                    "JOIN pg_enum e ON e.enumtypid = t.oid "
                    "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'"
                )
            ).all()
    finally:
        engine.dispose()
    types: dict[str, set[str]] = {}
    for name, label in rows:
        types.setdefault(name, set()).add(label)
    return types


# --------------------------------------------------------------------------------------------


def test_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, (
        f"the migrations have {len(heads)} heads {heads}: two revisions revise the same one. "
        "Make one revise the other (its down_revision), or .venv/bin/alembic merge heads"
    )


def test_upgrade_head_matches_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    assert_matches_the_models(empty_url)


def test_upgrade_twice_changes_nothing(empty_url: str) -> None:
    upgrade(empty_url)
    upgrade(empty_url)
    assert_matches_the_models(empty_url)


def test_downgrade_base_then_upgrade_head(empty_url: str) -> None:
    upgrade(empty_url)
    engine = migration_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
    finally:
        engine.dispose()
    assert model_tables(empty_url) == set(), "downgrade to base left tables behind"
    if empty_url.startswith("postgresql"):
        assert enum_types(empty_url) == {}, "downgrade to base left enum types behind"
    upgrade(empty_url)
    assert_matches_the_models(empty_url)


def test_enum_types_have_the_models_members(empty_url: str) -> None:
    """compare_metadata does not look inside a PostgreSQL enum type: a member added to a
    vocabulary needs its own revision (ALTER TYPE ... ADD VALUE), or inserts fail."""
    if not empty_url.startswith("postgresql"):
        pytest.skip("SQLite stores an enum as VARCHAR, with no list of members")
    upgrade(empty_url)
    types = enum_types(empty_url)
    expected: dict[str, set[str]] = {}
    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.Enum) and column.type.name:
                expected[column.type.name] = set(column.type.enums)
    problems = [
        f"type {name}: missing {sorted(members - types.get(name, set()))}"
        for name, members in sorted(expected.items())
        if members - types.get(name, set())
    ]
    assert not problems, "\n".join(problems) + f"\n{HOW_TO_FIX} (ALTER TYPE ... ADD VALUE)"


def test_adopts_a_database_made_by_create_tables(empty_url: str) -> None:
    """A database made before migrations existed is stamped at head, not created again."""
    engine = make_engine(empty_url)
    create_tables(engine)
    engine.dispose()
    upgrade(empty_url)
    assert_matches_the_models(empty_url)


def test_refuses_an_unversioned_database_that_differs(empty_url: str) -> None:
    engine = make_engine(empty_url)
    create_tables(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_vlotask_status"))
    engine.dispose()
    with pytest.raises(MigrationError, match=r"add_index ix_vlotask_status on vlotask"):
        upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == ()
    finally:
        engine.dispose()


def test_command_line_runs_from_any_directory(empty_url: str, tmp_path: Path) -> None:
    """What the stack's `migrate` service runs: `python -m models.migrate`, URL from the env."""
    env = {
        **os.environ,
        "VCS_DATABASE_URL": empty_url,
        "PYTHONPATH": str(ROOT),
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "models.migrate"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "case database at head" in result.stdout
    assert_matches_the_models(empty_url)
