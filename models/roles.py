"""The case database's application roles (issue 16 item 2): `python -m models.roles` grants them
their privileges (models/grants.sql), as the owner of the tables. PostgreSQL only.

    vcs         owns the tables; only the migrate service logs in as it
    vcs_worker  the worker: reads and writes, the audit trail append-only
    vcs_app     the console and the CLI: reads, and the writes the service layer makes itself

The roles themselves are made once by a superuser (deploy/postgres-init/02-vcs-roles.sh, when
the data volume is created). `python -m models.migrate` applies the grants after upgrading, when
the roles exist, so a new table is covered as soon as it is made.
"""

import logging
import sys
from pathlib import Path

from sqlalchemy import Connection, create_engine, make_url, pool, text

import models.db

GRANTS_SQL = Path(__file__).resolve().parent / "grants.sql"
WORKER_ROLE = "vcs_worker"
APP_ROLE = "vcs_app"

log = logging.getLogger("models.roles")


def grant_statements(worker: str, app: str) -> list[str]:
    """The statements of grants.sql for these roles (comments dropped, one per `;`)."""
    body = "\n".join(
        line
        for line in GRANTS_SQL.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    quoted = {"worker": _identifier(worker), "app": _identifier(app)}
    return [s.strip().format(**quoted) for s in body.split(";") if s.strip()]


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"role name {name!r} is not letters, digits and _")
    return f'"{name}"'


def roles_exist(connection: Connection, *roles: str) -> bool:
    found = connection.execute(
        text("SELECT count(*) FROM pg_roles WHERE rolname = ANY(:roles)"), {"roles": list(roles)}
    ).scalar_one()
    return bool(found == len(roles))


def apply_grants(connection: Connection, worker: str = WORKER_ROLE, app: str = APP_ROLE) -> None:
    for statement in grant_statements(worker, app):
        connection.execute(text(statement))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-5.5s [%(name)s] %(message)s")
    url = models.db.database_url()
    if not url.startswith("postgresql"):
        print("error: roles and grants are for PostgreSQL (VCS_DATABASE_URL)", file=sys.stderr)
        return 2
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            if not roles_exist(connection, WORKER_ROLE, APP_ROLE):
                print(
                    f"error: roles {WORKER_ROLE} and {APP_ROLE} do not exist: a superuser makes "
                    "them (deploy/postgres-init/02-vcs-roles.sh)",
                    file=sys.stderr,
                )
                return 2
            apply_grants(connection)
    finally:
        engine.dispose()
    target = make_url(url).render_as_string(hide_password=True)
    print(f"privileges of {WORKER_ROLE} and {APP_ROLE} applied: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
