"""What every process checks before it touches the case database (issue 16 item 4): the schema
is Alembic's alone in production.

The worker, the console and the CLI call `ready_database` at start-up. On PostgreSQL they refuse
to start unless the database is at the newest revision in migrations/versions (the one-shot
`python -m models.migrate` brings it there: compose's `migrate` service); they never create or
change a table. `create_all` is kept for the embedded SQLite database of a developer's machine
(bin/run-demo, `data/vcs.db`), which has no separate migration step.
"""

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from models.audit_key import require_audit_key
from models.codec import load_keys
from models.db import create_tables
from models.errors import VcsError
from models.migrate import alembic_config

MIGRATE_COMMAND = "python -m models.migrate"
VERSION_TABLE = "alembic_version"


class SchemaNotAtHead(VcsError):
    """The case database is not at the newest Alembic revision."""


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """What alembic_version holds (read directly: alembic's MigrationContext logs at INFO)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        return set(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def ready_database(engine: Engine) -> None:
    """Create the embedded SQLite tables, or check that PostgreSQL is at Alembic head."""
    if engine.dialect.name == "sqlite":
        create_tables(engine)
        return
    current, heads = current_revisions(engine), head_revisions()
    if current != heads:
        at = ", ".join(sorted(current)) or "no revision (empty, or made outside Alembic)"
        raise SchemaNotAtHead(
            f"the case database is at {at}, not head {', '.join(sorted(heads))}: "
            f"run `{MIGRATE_COMMAND}` (compose: the migrate service), then start again"
        )


def ready_or_exit(engine: Engine, *, worker: bool = False) -> None:
    """For a long-running process (worker, console): the schema at head and, for the worker,
    the payload keys and the audit key; else refuse to start, one line on stderr."""
    try:
        ready_database(engine)
        if worker:  # the console reads no sealed text and talks to no Temporal yet
            load_keys()
            require_audit_key("the worker")
    except VcsError as err:
        raise SystemExit(f"error: {err}") from None
