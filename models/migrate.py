"""Brings the case database to the newest schema: `python -m models.migrate` (alembic upgrade head).

The stack runs it once, before the worker starts (docker-compose.yml, service `migrate`).
The revisions are in migrations/versions; alembic.ini is found in the folder above this
package, so it runs from any directory. A database made before migrations existed (by
models.db.create_tables) is adopted: if its tables are exactly today's models it is stamped at
head, else nothing is changed and the differences are reported.
"""

import logging
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    Index,
    Table,
    create_engine,
    inspect,
    make_url,
    pool,
    text,
)
from sqlalchemy.sql.schema import ColumnCollectionConstraint
from sqlmodel import SQLModel

import models.db
from models.roles import APP_ROLE, WORKER_ROLE, apply_grants, roles_exist

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = ROOT / "alembic.ini"
# Key of the PostgreSQL advisory lock that lets one migration run at a time ("vcs_mig").
MIGRATION_LOCK = 0x7663735F6D6967

log = logging.getLogger("models.migrate")


class MigrationError(RuntimeError):
    """The database cannot be migrated without a person deciding what to do."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The project's alembic configuration; with a connection, migrations run on it."""
    if not ALEMBIC_INI.is_file():
        raise MigrationError(f"{ALEMBIC_INI} is missing: it and migrations/ ship with the code")
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migration_engine(url: str) -> Engine:
    """An engine for migrations. Unlike models.db.make_engine it leaves SQLite's foreign keys
    off (SQLite's default): a batch operation copies a table, drops the old one and renames
    the copy, which enforced foreign keys would refuse for a table that others reference."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, poolclass=pool.NullPool)


def lock(connection: Connection) -> None:
    """One migration at a time on PostgreSQL, until the transaction ends (SQLite: a no-op,
    its writes are serialised by the database file's lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def differences(connection: Connection) -> list[Any]:
    """What alembic autogenerate would change to make the database match SQLModel.metadata."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def describe(difference: Any) -> list[str]:
    """One line per change in an item of compare_metadata's answer (a tuple, or a list of
    modify_* tuples for one column)."""
    if isinstance(difference, list):
        return [line for item in difference for line in describe(item)]
    kind, *rest = difference
    if kind.startswith("modify_") and len(rest) == 6:
        _schema, table, column, _existing, old, new = rest
        return [f"{kind} {table}.{column}: {old!r} -> {new!r}"]
    if kind in ("add_column", "remove_column") and len(rest) == 3:
        _schema, table, column = rest
        return [f"{kind} {table}.{column.name} {column.type!r}"]
    item = rest[0] if rest else None
    if isinstance(item, Table):
        return [f"{kind} {item.name} ({', '.join(item.columns.keys())})"]
    if isinstance(item, Index | ColumnCollectionConstraint) and item.table is not None:
        columns = ", ".join(column.name for column in item.columns)
        return [f"{kind} {item.name or '(unnamed)'} on {item.table.name} ({columns})"]
    return [f"{kind} {rest!r}"]


def _adopt_unversioned(connection: Connection, config: Config) -> None:
    """Stamp at head a database whose tables create_tables made, if they match the models."""
    if MigrationContext.configure(connection).get_current_heads():
        return
    existing = set(inspect(connection).get_table_names()) & set(SQLModel.metadata.tables)
    if not existing:
        return
    found = differences(connection)
    if found:
        listing = "\n".join(f"  {line}" for line in describe(found))
        raise MigrationError(
            "the case database has tables but no alembic version, and they differ from the "
            f"models:\n{listing}\nbring it to a revision by hand, then `alembic stamp` it"
        )
    log.info("adopting the existing case database (%s tables): stamping head", len(existing))
    command.stamp(config, "head")


def upgrade(url: str | None = None) -> None:
    """Upgrade the case database at `url` (default: models.db.database_url()) to head."""
    engine = migration_engine(url or models.db.database_url())
    try:
        with engine.begin() as connection:
            lock(connection)
            config = alembic_config(connection)
            _adopt_unversioned(connection, config)
            command.upgrade(config, "head")
            if connection.dialect.name == "postgresql" and roles_exist(
                connection, WORKER_ROLE, APP_ROLE
            ):
                apply_grants(connection)  # a new table is covered as soon as it is made
                log.info("privileges of %s and %s applied", WORKER_ROLE, APP_ROLE)
    finally:
        engine.dispose()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-5.5s [%(name)s] %(message)s")
    url = models.db.database_url()
    target = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except MigrationError as error:
        print(f"migration failed: {error}", file=sys.stderr)
        return 1
    print(f"case database at head: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
