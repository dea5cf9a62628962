"""Shared test set-up: a clean environment for every test, and small factories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
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


_REAL_CLOCK: list[bool] = [False]
# The databases the running test migrated to head: their audit trail must verify when it
# is done (`iop audit verify`), unless the test rewrote it on purpose (`audit_tampered`).
_MIGRATED: list[str] = []


@pytest.fixture(autouse=True, scope="session")
def sandbox_databases() -> Iterator[None]:
    """Every database a test migrates to head is a sandbox: the tests act on days of
    years to come, and only a sandbox's clock may move (iop_workflow/clock.py). A test
    of the real system day is marked `real_clock` and gets ordinary databases."""
    from iop_workflow.adapters.db import Database

    upgrade = Database.upgrade

    def upgrade_to_a_sandbox(self: Database, revision: str = "head") -> None:
        upgrade(self, revision)
        if revision == "head":
            _MIGRATED.append(self.url.render_as_string(hide_password=False))
            if not _REAL_CLOCK[0]:
                self.mark_sandbox("tests: days of years to come")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Database, "upgrade", upgrade_to_a_sandbox)
        yield


@pytest.fixture(autouse=True)
def real_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    _REAL_CLOCK[0] = request.node.get_closest_marker("real_clock") is not None
    _MIGRATED.clear()
    yield
    _REAL_CLOCK[0] = False
    if request.node.get_closest_marker("audit_tampered") is None:
        _verify_audit_of_migrated_databases()
    _MIGRATED.clear()


def _verify_audit_of_migrated_databases() -> None:
    """Every database the test migrated still has an intact audit trail: what the suite
    itself wrote verifies (a database gone by now, a temporary copy, is skipped)."""
    import sqlalchemy as sa

    from iop_workflow.adapters.db import Database
    from iop_workflow.service.audit import verify_audit

    for url in dict.fromkeys(_MIGRATED):
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            continue
        db = Database(url)
        try:
            if not sa.inspect(db.engine).has_table("audit_chain"):
                continue  # emptied by the test (a PostgreSQL schema dropped)
            verdict = verify_audit(db)
        finally:
            db.dispose()
        assert verdict.intact, f"{url}: audit trail {verdict.summary()}"


@pytest.fixture(scope="session")
def pg_db() -> Iterator[str]:
    """URL of an empty database on the session's own PostgreSQL cluster (one for all
    the test folders)."""
    from pg_cluster import Unavailable, cluster

    with ExitStack() as stack:
        try:
            url = stack.enter_context(cluster())
        except Unavailable as problem:
            pytest.fail(str(problem), pytrace=False)
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
