"""Shared test set-up: a clean environment for every test, and small factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def iop_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The product's default folder during the tests (IOP_DATA_DIR), never the real one."""
    return tmp_path_factory.mktemp("iop-data")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, iop_data_dir: Path) -> Iterator[None]:
    """Tests never see a developer's IOP_* settings, and never write into the project's
    own var/iop.db: the default database folder is a temporary one."""
    import os

    for key in list(os.environ):
        if key.startswith("IOP_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IOP_DATA_DIR", str(iop_data_dir))
    from iop_workflow.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_db() -> Iterator[str]:
    """URL of an empty database on the session's own PostgreSQL cluster (one for all
    the test folders)."""
    from pg_cluster import cluster

    with cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once per backend (a SQLite file; PostgreSQL, schema emptied)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'iop.db'}"
    from pg_cluster import empty_postgres

    url: str = request.getfixturevalue("pg_db")
    empty_postgres(url)
    return url
