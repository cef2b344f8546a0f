"""Alembic environment of the case database.

The schema is SQLModel.metadata (every table is registered by importing models.db); the URL is
models.db.database_url() (VCS_DATABASE_URL, else data/vcs.db). models.migrate.upgrade() hands
over a connection of its own in `config.attributes["connection"]` instead.

Revisions must run on SQLite and on PostgreSQL, so they are always rendered in batch mode:
on SQLite a batch operation copies the table, on PostgreSQL it is a plain ALTER TABLE.
"""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import models.db  # registers every table on SQLModel.metadata
from models.migrate import lock, migration_engine

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(
        url=models.db.database_url(),
        target_metadata=target_metadata,
        render_as_batch=True,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = migration_engine(models.db.database_url())
    try:
        with engine.connect() as connection:
            configure(connection)
            with context.begin_transaction():
                lock(connection)
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
