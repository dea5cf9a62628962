"""Stored instants are UTC; `iop audit` and `iop notify list` show them in Swedish time
with the zone marked (CET in winter, CEST in summer), and their JSON keeps ISO 8601
with Stockholm's offset (issue 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_runner import run_iop

from iop_workflow.adapters import audit_chain
from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.importer import import_file
from iop_workflow.service.sweep import daily_sweep
from iop_workflow.timefmt import local_iso, shown

ROOT = Path(__file__).resolve().parents[2]
REF = "OSN 2024/0087"
WINTER = datetime(2026, 12, 1, 20, 5, 33, 250000, tzinfo=UTC)  # 21:05:33 CET
SUMMER = datetime(2027, 6, 15, 12, 0, 7, tzinfo=UTC)  # 14:00:07 CEST
RETRY = datetime(2027, 3, 1, 5, 30, tzinfo=UTC)  # 06:30:00 CET


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """Mjölby's examples imported in winter, one audit line and one sent notification in
    summer, one notification waiting for its retry in winter."""
    path = tmp_path / "iop.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    import_file(db, str(ROOT / "examples" / "mjolby.yaml"), now=WINTER)
    daily_sweep(db, as_of=date(2026, 11, 23), now=WINTER)
    daily_sweep(db, as_of=date(2027, 3, 1), now=WINTER)  # 30 days before a report is due
    with db.write() as session:
        agreement_id = session.scalar(
            sa.select(t.agreements.c.id).where(t.agreements.c.diarienummer == REF)
        )
        summer = {
            "at": SUMMER,
            "actor": "Anna Berg",
            "role": "officer",
            "agreement_id": agreement_id,
            "entity": "agreement",
            "entity_key": REF,
            "trigger": "note",
            "from_state": "active",
            "to_state": "active",
            "reason": "a summer line",
            "data": {},
        }
        audit_chain.append(session, [summer])  # chained like every writer's rows
        session.execute(sa.insert(t.audit_log).values(**summer))
        first, second = session.scalars(
            sa.select(t.notifications.c.id).order_by(t.notifications.c.id).limit(2)
        ).all()
        session.execute(
            sa.update(t.notifications)
            .where(t.notifications.c.id == first)
            .values(state="sent", sent_at=SUMMER, next_attempt_at=None, attempts=1)
        )
        session.execute(
            sa.update(t.notifications)
            .where(t.notifications.c.id == second)
            .values(next_attempt_at=RETRY, attempts=1)
        )
    db.dispose()
    return path


def test_the_formatter() -> None:
    assert shown(WINTER) == "2026-12-01 21:05:33 CET"
    assert shown(SUMMER) == "2027-06-15 14:00:07 CEST"
    assert shown("2027-06-15T12:00:07") == "2027-06-15 14:00:07 CEST"  # naive is UTC
    assert shown(None) == "" and local_iso(None) is None
    assert local_iso(WINTER) == "2026-12-01T21:05:33.250000+01:00"
    assert local_iso(SUMMER.isoformat()) == "2027-06-15T14:00:07+02:00"


def test_audit_shows_swedish_time_with_the_zone(db_file: Path) -> None:
    table = run_iop(db_file, "audit", REF)
    assert table.code == 0, table
    lines = table.out.splitlines()
    assert lines[0].startswith("AT ")
    assert any(line.startswith("2026-12-01 21:05:33 CET ") for line in lines), table.out
    [summer] = [line for line in lines if "a summer line" in line]
    assert summer.startswith("2027-06-15 14:00:07 CEST "), summer
    assert "2026-12-01 20:05" not in table.out and "+00:00" not in table.out

    audit = run_iop(db_file, "audit", REF, "--json").json()
    moments = {row["at"] for row in audit}
    assert "2026-12-01T21:05:33.250000+01:00" in moments
    assert "2027-06-15T14:00:07+02:00" in moments
    assert all(m.endswith(("+01:00", "+02:00")) for m in moments), moments
    # The same instants as stored.
    assert datetime.fromisoformat("2027-06-15T14:00:07+02:00") == SUMMER


def test_notify_list_shows_swedish_time_with_the_zone(db_file: Path) -> None:
    table = run_iop(db_file, "notify", "list")
    assert table.code == 0, table
    header, *rows = table.out.splitlines()
    assert "NEXT" in header and "SENT" in header
    assert any("2027-03-01 06:30:00 CET" in row and "pending" in row for row in rows), table.out
    assert any("2027-06-15 14:00:07 CEST" in row and "sent" in row for row in rows), table.out
    assert "+00:00" not in table.out

    listed = run_iop(db_file, "notify", "list", "--json").json()
    assert {r["sent_at"] for r in listed if r["state"] == "sent"} == {"2027-06-15T14:00:07+02:00"}
    assert "2027-03-01T06:30:00+01:00" in {r["next_attempt_at"] for r in listed}
