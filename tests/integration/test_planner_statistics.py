"""A run that changed many rows leaves PostgreSQL's planner statistics up to date.

Autovacuum refreshes them only a minute or so after a bulk change; a query planned on
the old figures in between (the run's own summary, the portfolio) can take seconds
instead of milliseconds (docs/performance.md). `after_bulk_change` refreshes the
statistics of what the run changed once it has committed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from iop_workflow.adapters.db import Database
from iop_workflow.service import setwise
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.sweep import daily_sweep

pytestmark = pytest.mark.postgres

MJOLBY = Path(__file__).resolve().parents[2] / "examples" / "mjolby.yaml"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PAYOUT_DAY = date(2027, 4, 30)  # the running agreement's instalments fall due
SWEEP_DAY = date(2027, 4, 1)


@pytest.fixture
def pg(pg_db: str) -> Iterator[Database]:
    from pg_cluster import empty_postgres

    empty_postgres(pg_db)
    database = Database(pg_db)
    database.upgrade()
    database.mark_sandbox("tests: payout days of years to come")
    import_file(database, str(MJOLBY), now=NOW)
    yield database
    database.dispose()


def _analyzed(db: Database) -> set[str]:
    """The tables ANALYZE has been run on (autovacuum's own runs are counted apart)."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        )
        return {name for (name,) in rows}


def _changed(result: object) -> int:
    return len(getattr(result, "changes", []))


def test_a_bulk_run_refreshes_the_statistics_of_what_it_changed(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The examples are a handful of agreements: any change counts as a bulk one here.
    monkeypatch.setattr(setwise, "BULK_CHANGE", 1)
    swept = daily_sweep(pg, as_of=SWEEP_DAY, now=NOW)
    assert _changed(swept) > 0
    assert {"follow_ups", "agreements", "audit_log", "notifications"} <= _analyzed(pg)
    assert "payouts" not in _analyzed(pg)

    paid = payout_run(pg, as_of=PAYOUT_DAY, now=NOW)
    assert _changed(paid) > 0
    assert "payouts" in _analyzed(pg)


def test_a_small_run_leaves_the_statistics_to_autovacuum(pg: Database) -> None:
    paid = payout_run(pg, as_of=PAYOUT_DAY, now=NOW)
    assert 0 < _changed(paid) < setwise.BULK_CHANGE
    assert _analyzed(pg) == set()


def test_an_unknown_table_is_refused(pg: Database) -> None:
    with pytest.raises(ValueError, match="no such table: payout"):
        pg.refresh_statistics("payout")
    assert _analyzed(pg) == set()


def test_a_named_table_gets_the_statistics_of_its_keyed_columns(pg: Database) -> None:
    # The examples' import wrote audit records: a sample to take.
    pg.refresh_statistics("audit_log")
    with pg.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT attname FROM pg_stats WHERE schemaname = 'public' AND tablename = 'audit_log'"
        )
        analysed = {name for (name,) in rows}
    # What a plan picks an index or a join by; not the reason, the data, the hashes.
    assert analysed == {"id", "agreement_id", "seq"}
    assert "audit_log" in _analyzed(pg)


def test_no_statement_waits_for_the_jit_compiler(pg: Database) -> None:
    # Every connection of the pool, in writes and in reads (docs/performance.md).
    with pg.write() as writing, pg.read() as reading:
        settings = [s.execute(sa.text("SHOW jit")).scalar_one() for s in (writing, reading)]
    assert settings == ["off", "off"]
