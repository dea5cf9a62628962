"""`insert_many` and `insert_shared` (adapters/bulk.py) store what `sa.insert` stores,
on both databases, and `insert_many` counts only the rows it inserted when a unique key
is there already. The audit records are chained before they are stored: the chain that
verifies at the end of each test (tests/conftest.py) is a second check that the stored
values are the hashed ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.audit_chain import append, append_shared
from iop_workflow.adapters.bulk import insert_many, insert_shared
from iop_workflow.adapters.db import Database

STOCKHOLM_WINTER = timezone(timedelta(hours=1))


def _row(key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": datetime(2027, 1, 31, 23, 30, 15, 123456, tzinfo=STOCKHOLM_WINTER),
        "actor": "Åsa Öberg",
        "role": "system",
        "agreement_id": None,
        "entity": "payout",
        "entity_key": key,
        "trigger": "block_payout",
        "from_state": "planned",
        "to_state": "blocked",
        "reason": "uppföljning 2026 är inte godkänd",
        "data": data,
        "channel": "flow",
        "os_user": None,
        "host": "värd",
        "effective_date": date(2027, 2, 1),
    }


def _stored(db: Database, keys: list[str]) -> list[dict[str, Any]]:
    log = t.audit_log
    with db.read() as session:
        rows = session.execute(
            sa.select(log).where(log.c.entity_key.in_(keys)).order_by(log.c.seq)
        ).mappings()
        return [
            {
                k: v
                for k, v in row.items()
                if k not in ("id", "entity_key", "seq", "prev_hash", "hash")
            }
            for row in rows
        ]


def test_rows_are_stored_as_sa_insert_stores_them(empty_db: Database) -> None:
    empty_db.upgrade()
    shared = {"as_of": "2027-02-01", "belopp": 1_300_000, "nested": {"år": [2026, 2027]}}
    with empty_db.write() as session:
        by_core = [_row("a1", shared), _row("a2", {})]
        append(session, by_core)
        session.execute(sa.insert(t.audit_log), by_core)
        by_bulk = [_row("b1", shared), _row("b2", {})]
        append(session, by_bulk)
        inserted = insert_many(session, t.audit_log, by_bulk)
    assert inserted == 2
    core, bulk = _stored(empty_db, ["a1", "a2"]), _stored(empty_db, ["b1", "b2"])
    assert bulk == core
    assert bulk[0]["at"] == datetime(2027, 1, 31, 22, 30, 15, 123456, tzinfo=UTC)
    assert bulk[0]["data"]["nested"] == {"år": [2026, 2027]}
    assert bulk[0]["actor"] == "Åsa Öberg"
    assert bulk[0]["effective_date"] == date(2027, 2, 1)


def test_rows_with_shared_values_are_stored_as_sa_insert_stores_them(empty_db: Database) -> None:
    # As the set-wise runs audit: the run's values shared, each change's own in a tuple.
    empty_db.upgrade()
    data = {"as_of": "2027-02-01", "nested": {"år": [2026, 2027]}}
    own = ("agreement_id", "entity_key", "reason")
    with empty_db.write() as session:
        by_core = [_row("a1", data), {**_row("a2", data), "reason": "gate holds"}]
        append(session, by_core)
        session.execute(sa.insert(t.audit_log), by_core)
        shared = {k: v for k, v in _row("", data).items() if k not in own}
        changes = [(None, "b1", by_core[0]["reason"]), (None, "b2", "gate holds")]
        links = append_shared(
            session, shared, {"agreement_id": 0, "entity_key": 1, "reason": 2}, changes
        )
        rows = [(*change, *link) for change, link in zip(changes, links, strict=True)]
        inserted = insert_shared(
            session, t.audit_log, shared, (*own, "seq", "prev_hash", "hash"), rows
        )
    assert inserted == 2
    core, bulk = _stored(empty_db, ["a1", "a2"]), _stored(empty_db, ["b1", "b2"])
    assert bulk == core
    assert [row["reason"] for row in bulk] == ["uppföljning 2026 är inte godkänd", "gate holds"]
    assert bulk[0]["at"] == datetime(2027, 1, 31, 22, 30, 15, 123456, tzinfo=UTC)
    assert bulk[1]["data"]["nested"] == {"år": [2026, 2027]}


def _organisation(orgnr: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "organisationsnummer": orgnr,
        "contact_name": "Kassör",
        "contact_email": "kassor@example.org",
        "forening_registered": True,
        "forening_registered_on": date(1998, 3, 14),
    }


def test_rows_whose_key_is_stored_are_left_out_and_not_counted(empty_db: Database) -> None:
    empty_db.upgrade()
    o = t.organisations
    with empty_db.write() as session:
        insert_many(session, o, [_organisation("802000-0001", "Första")])
    with empty_db.write() as session:
        again = [
            _organisation("802000-0001", "Samma nummer"),
            _organisation("802000-0002", "Andra"),
            _organisation("802000-0003", "Tredje"),
        ]
        inserted = insert_many(session, o, again, skip=("organisationsnummer",))
    assert inserted == 2
    with empty_db.read() as session:
        stored = session.execute(sa.select(o).order_by(o.c.organisationsnummer)).all()
    assert [row.name for row in stored] == ["Första", "Andra", "Tredje"]
    assert all(row.forening_registered is True for row in stored)
    assert stored[0].forening_registered_on == date(1998, 3, 14)


def test_nothing_to_insert_sends_nothing(empty_db: Database) -> None:
    empty_db.upgrade()
    with empty_db.write() as session:
        assert insert_many(session, t.organisations, []) == 0
