"""Back up and restore the case database and Temporal's (the dev server's SQLite file).

    python -m ops.backup backup DIR  [--temporal-db data/temporal.db]
    python -m ops.backup restore DIR [--temporal-db PATH]

The case database is `VCS_DATABASE_URL` (PostgreSQL: `pg_dump --format=custom`, restored with
`pg_restore` into an existing, empty database; SQLite: a copy made with SQLite's online backup).
Temporal's SQLite file is copied with SQLite's online backup too, so both can be taken while the
server and the worker run.

Order matters: Temporal first, then the case database. Every activity is idempotent by a key
recorded in the case database (letters, tasks, audit entries), so after a restore the case
database is never older than Temporal's history: an activity that Temporal re-runs finds its
effect already recorded, and none that Temporal thinks done is missing from the database.

`manifest.json` names each file with its SHA-256; a restore checks them all, and that its
targets are empty, before it writes anything. Passwords go to pg_dump and pg_restore in their
environment (PGPASSWORD), never in argv. The codec keys are not in a backup: without them the
restored histories cannot be read, so they are kept (and restored) from the secret store.
"""

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, make_url

from models.db import database_url

DEFAULT_TEMPORAL_DB = Path(__file__).resolve().parent.parent / "data" / "temporal.db"
CASE_PG, CASE_SQLITE, TEMPORAL = "case.pgdump", "case.sqlite", "temporal.sqlite"
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore refused or failed; the message is one line and names no secret."""


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def _pg_environment(url: str) -> dict[str, str]:
    """libpq's settings for the database in a SQLAlchemy URL (the password only here)."""
    parsed = make_url(url)
    settings = {
        "PGHOST": parsed.host,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    return {**os.environ, **{k: v for k, v in settings.items() if v}}


def _run(command: list[str], url: str) -> None:
    done = subprocess.run(command, env=_pg_environment(url), capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{command[0]} failed: {last}")


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its WAL included)."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    read_only = f"{source.resolve().as_uri()}?mode=ro"
    source_db, target_db = sqlite3.connect(read_only, uri=True), sqlite3.connect(target)
    with closing(source_db), closing(target_db):
        source_db.backup(target_db)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(folder: Path, url: str, temporal_db: Path | None) -> list[str]:
    """Write Temporal's file (if given), then the case database, and the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    files = []
    if temporal_db is not None:
        _sqlite_copy(temporal_db, folder / TEMPORAL)
        files.append(TEMPORAL)
    if url.startswith("sqlite"):
        _sqlite_copy(_sqlite_path(url), folder / CASE_SQLITE)
        files.append(CASE_SQLITE)
    else:
        _run(["pg_dump", "--format=custom", "--file", str(folder / CASE_PG)], url)
        files.append(CASE_PG)
    manifest = {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {name: _sha256(folder / name) for name in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return files


def _checked(folder: Path) -> dict[str, str]:
    try:
        files: dict[str, str] = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError) as err:
        raise BackupError(f"{folder} holds no readable {MANIFEST}") from err
    for name, digest in files.items():
        if not (folder / name).is_file() or _sha256(folder / name) != digest:
            raise BackupError(f"{name} is missing or altered (its SHA-256 is not the manifest's)")
    return files


def restore(folder: Path, url: str, temporal_db: Path | None) -> list[str]:
    """Restore into an empty case database and a new Temporal file (its server stopped)."""
    files = _checked(folder)
    case_file = CASE_SQLITE if url.startswith("sqlite") else CASE_PG
    if case_file not in files:
        raise BackupError(f"this backup holds no {case_file} for {make_url(url).drivername}")
    if temporal_db is not None:
        if TEMPORAL not in files:
            raise BackupError("this backup holds no Temporal database")
        if temporal_db.exists():
            raise BackupError(f"{temporal_db} exists: restore Temporal into a new file")
    if url.startswith("sqlite"):
        target = _sqlite_path(url)
        if target.exists():
            raise BackupError(f"{target} exists: restore the case database into a new file")
    else:
        engine = create_engine(url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError("the case database is not empty: restore into a new database")
    restored = []
    if url.startswith("sqlite"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / CASE_SQLITE, target)
    else:
        _run(
            ["pg_restore", "--exit-on-error", "--single-transaction", "--dbname",
             make_url(url).database or "", str(folder / CASE_PG)],
            url,
        )  # fmt: skip
    restored.append(case_file)
    if temporal_db is not None:
        temporal_db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / TEMPORAL, temporal_db)
        restored.append(TEMPORAL)
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ops.backup", description="Back up or restore the case database and Temporal's."
    )
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--temporal-db",
        type=Path,
        default=Path(os.environ.get("VCS_TEMPORAL_DB_FILE", DEFAULT_TEMPORAL_DB)),
        help="the dev server's SQLite file (default data/temporal.db, or VCS_TEMPORAL_DB_FILE)",
    )
    parser.add_argument(
        "--no-temporal",
        action="store_true",
        help="the case database only (production: Temporal's PostgreSQL is dumped on its own)",
    )
    args = parser.parse_args(argv)
    temporal_db = None if args.no_temporal else args.temporal_db
    try:
        act = backup if args.action == "backup" else restore
        done = act(args.folder, database_url(), temporal_db)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.action}: {', '.join(done)} ({args.folder})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
