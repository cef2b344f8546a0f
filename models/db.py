"""The case database: SQLite by default, PostgreSQL in production (`VCS_DATABASE_URL`)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, SQLModel, create_engine

import models.access_log
import models.case
import models.handoff
import models.hospital
import models.parole
import models.records
import models.reports
import models.sharing
import models.victim  # noqa: F401  (register every table on SQLModel.metadata)
from models.secret_files import secret

DEFAULT_SQLITE_PATH = Path(__file__).resolve().parent.parent / "data" / "vcs.db"


def database_url() -> str:
    # A secret: the URL holds the password (VCS_DATABASE_URL_FILE in production).
    return secret("VCS_DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,  # errors and logs never quote the values written
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def create_tables(engine: Engine) -> None:
    """Create missing tables. Two processes starting together may race on SQLite: the loser
    finds the tables made by the winner on its second look."""
    try:
        SQLModel.metadata.create_all(engine)
    except (OperationalError, ProgrammingError, IntegrityError):
        SQLModel.metadata.create_all(engine)


if __name__ == "__main__":
    # The embedded SQLite database of a developer's machine (bin/run-demo); PostgreSQL's schema
    # is Alembic's alone (models/startup.py).
    if not database_url().startswith("sqlite"):
        raise SystemExit("error: PostgreSQL is made by `python -m models.migrate`, not create_all")
    create_tables(make_engine())
    print(f"case database ready: {make_engine().url.render_as_string(hide_password=True)}")


# The transaction that every session_scope in this thread joins (one_transaction), if any.
_JOINED: ContextVar[Session | None] = ContextVar("vcs_joined_transaction", default=None)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error. Inside
    `one_transaction`, the transaction already open there (its end commits or rolls back)."""
    joined = _JOINED.get()
    if joined is not None:
        yield joined
        return
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def one_transaction(engine: Engine) -> Iterator[Session]:
    """Several steps, each written as its own `session_scope`, as one transaction: a workflow
    task's steps commit once (activities/steps.py)."""
    with session_scope(engine) as session:
        token = _JOINED.set(session)
        try:
            yield session
        finally:
            _JOINED.reset(token)
