"""Databases for the integration tests: a SQLite file, and the session's throwaway
PostgreSQL cluster (`pg_db`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_check import assert_audit_intact
from pg_cluster import empty_postgres

from iop_workflow.adapters.db import Database


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'iop.db'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def empty_db(backend_url: str) -> Iterator[Database]:
    """A Database on an empty, never migrated database, once per backend."""
    database = Database(backend_url)
    yield database
    database.dispose()


@pytest.fixture
def db(empty_db: Database) -> Iterator[Database]:
    """A Database migrated to head, once per backend; its audit trail must still verify
    (`iop audit verify`) when the test is done."""
    empty_db.upgrade()
    yield empty_db
    assert_audit_intact(empty_db)


@pytest.fixture
def pg_database(pg_db: str) -> Iterator[Database]:
    """A Database migrated to head on PostgreSQL only, for what SQLite cannot do."""
    empty_postgres(pg_db)
    database = Database(pg_db)
    database.upgrade()
    yield database
    assert_audit_intact(database)
    database.dispose()
