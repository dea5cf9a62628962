"""`iop db info`: which product database is in use, why that one, and what state it is in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..adapters import tables as t
from ..adapters.db import Database, migration_config
from ..config import Settings, database_location
from ..domain.errors import IopError


def database_info(settings: Settings | None = None) -> dict[str, Any]:
    """The URL in use (password hidden), where it came from, the schema revision (Alembic
    current and head) and the number of agreements. Creates nothing: a SQLite file that
    does not exist yet is reported as missing."""
    location = database_location(settings)
    url = sa.make_url(location.where)
    heads = sorted(ScriptDirectory.from_config(migration_config()).get_heads())
    info: dict[str, Any] = {
        "url": url.render_as_string(hide_password=True),
        "source": location.source,
        "reason": location.detail,
        "dialect": url.get_backend_name(),
        "file": None,
        "exists": True,
        "revision": {"current": None, "head": ", ".join(heads), "up_to_date": False},
        "agreements": None,
    }
    if info["dialect"] == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database)).resolve()
        info["file"] = str(path)
        if not path.is_file():
            info["exists"] = False
            return info
    db = Database(location.where)
    try:
        connection = _connect(db, info["url"], location.detail)
        with connection:
            current = sorted(MigrationContext.configure(connection).get_current_heads())
            info["revision"] |= {
                "current": ", ".join(current) or None,
                "up_to_date": current == heads,
            }
            if sa.inspect(connection).has_table(t.agreements.name):
                count = connection.execute(sa.select(sa.func.count()).select_from(t.agreements))
                info["agreements"] = int(count.scalar_one())
    finally:
        db.dispose()
    return info


def _connect(db: Database, shown_url: str, why: str) -> sa.Connection:
    try:
        return db.engine.connect()
    except sa.exc.DBAPIError as error:
        # The driver's own words name host and port, never the password.
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise IopError(f"cannot reach the database {shown_url} ({why}): {reason}") from None
