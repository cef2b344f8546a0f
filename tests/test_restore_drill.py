"""Backups (ops/backup.py) and the restore drill (bin/restore-drill, ops/drill.py) against
PostgreSQL: a case in progress, backed up, dropped, restored with its Temporal history into a
fresh database and a fresh server, continues where it was."""

import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import select

from models.case import OffenderCase
from models.case_repository import register_case
from models.db import make_engine, session_scope
from models.working_days import london_today
from ops.backup import MANIFEST, TEMPORAL, BackupError, backup, restore
from tests.conftest import BACKENDS, POSTGRES_URL, unique_ref
from tests.helpers import registration

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="the drill runs against PostgreSQL")
def test_restore_drill_case_continues_after_restore() -> None:
    """bin/restore-drill: the offer task opened before the backup is completed after the
    restore by the restored victim workflow, and exactly one offer letter goes out (the drill
    fails if Temporal's file is not restored: the victim's workflow is then not running)."""
    done = subprocess.run(
        [str(ROOT / "bin" / "restore-drill"), "--postgres", POSTGRES_URL],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "offer task" in done.stdout and "exactly one offer letter sent" in done.stdout
    assert "restore drill passed" in done.stdout


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def fresh_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """An empty case database on the same backend as `engine`, to restore into."""
    if engine.url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'vcs.db'}"
        return
    name = f"vcs_restored_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(url_of(engine)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def temporal_file(tmp_path: Path) -> Path:
    """A stand-in for the dev server's SQLite file."""
    path = tmp_path / "temporal.db"
    with sqlite3.connect(path) as db:
        db.execute("create table history (event text)")
        db.execute("insert into history values ('started')")
    return path


def case_refs(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return list(session.exec(select(OffenderCase.case_ref)).all())
    finally:
        engine.dispose()


def test_backup_and_restore_round_trip(
    engine: Engine, fresh_url: str, temporal_file: Path, tmp_path: Path
) -> None:
    """The case database (SQLite or PostgreSQL) and Temporal's file come back as they were."""
    case_ref = unique_ref("BAK")
    register_case(engine, registration(case_ref, london_today()), by="vlo.jones")
    folder = tmp_path / "backup"
    assert backup(folder, url_of(engine), temporal_file)[0] == TEMPORAL  # Temporal's first
    restored_temporal = tmp_path / "restored" / "temporal.db"
    restore(folder, fresh_url, restored_temporal)
    assert case_refs(fresh_url) == [case_ref]
    with sqlite3.connect(restored_temporal) as db:
        assert db.execute("select event from history").fetchall() == [("started",)]


def test_restore_refuses_a_used_target_or_an_altered_backup_and_changes_nothing(
    engine: Engine, temporal_file: Path, tmp_path: Path
) -> None:
    register_case(engine, registration(unique_ref("BAK"), london_today()), by="vlo.jones")
    url = url_of(engine)
    folder = tmp_path / "backup"
    backup(folder, url, temporal_file)
    new_temporal = tmp_path / "new" / "temporal.db"
    with pytest.raises(BackupError, match=r"restore (the case database )?into a new"):
        restore(folder, url, new_temporal)  # the live database: never overwritten
    assert not new_temporal.exists()
    with pytest.raises(BackupError, match="exists: restore Temporal into a new file"):
        restore(folder, url, temporal_file)
    with pytest.raises(BackupError, match="is not empty"):
        backup(folder, url, temporal_file)
    (folder / TEMPORAL).write_bytes(b"tampered")
    with pytest.raises(BackupError, match=f"{TEMPORAL} is missing or altered"):
        restore(folder, url, new_temporal)
    assert not new_temporal.exists() and (folder / MANIFEST).is_file()
