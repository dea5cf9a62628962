"""Alembic environment for the shipped migrations.

Run from code (`Database.upgrade()`, which passes its own connection in
`config.attributes["connection"]`) or from the command line with the project's
`alembic.ini`; then the URL is `sqlalchemy.url`, else `IOP_DATABASE_URL`, else the
default iop.db in the data folder (see `iop_workflow.config.database_location`).

SQLite runs in batch mode: it can alter a table only by copying it. A batch migration
of `audit_log` drops its append-only triggers with the old table; recreate them.
"""

from __future__ import annotations

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from iop_workflow.adapters import orm
from iop_workflow.adapters.db import Database, default_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name)

target_metadata = orm.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_database_url()


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = Database(_url())  # same pragmas and locking as the product itself
    try:
        with database.engine.begin() as own:
            _run(own)
    finally:
        database.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
