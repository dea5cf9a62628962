"""The audit trail is a hash chain (issue 9): `iop audit verify` passes after the
product's own writes, and names the record someone changed or removed behind the
application's back; every record says through which channel it came, who ran it where,
and which day it acted on. On SQLite and on a real PostgreSQL."""

from __future__ import annotations

import getpass
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from audit_check import assert_audit_intact
from click.testing import Result
from typer.testing import CliRunner

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database, Repository, migration_config
from iop_workflow.domain.audit_chain import record_hash
from iop_workflow.domain.errors import IopError, RuleViolation, StaleUpdate
from iop_workflow.domain.model import AuditRecord
from iop_workflow.domain.roles import FLOW_ORIGIN, SYSTEM_ACTOR, Origin
from iop_workflow.orchestration.artifacts import markdown
from iop_workflow.service.actors import resolve_actor
from iop_workflow.service.audit import verify_audit
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.report import portfolio
from iop_workflow.service.steps import transition
from iop_workflow.service.sweep import daily_sweep

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {name: ROOT / "examples" / f"{name}.yaml" for name in ("mjolby", "kramfors")}
DEMO, RUNNING, INITIATIVE = "OSN 2026/0142", "OSN 2024/0087", "VFN 2026/0088"
ANNA, PER, SVEN, JOHAN = "Anna Berg", "Per Sandberg", "Sven Ek", "Johan Nordin"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CLI = Origin("cli", "anna", "kansli-07")
ACTIVATION: list[tuple[str, str, str, dict[str, Any]]] = [
    ("propose_plan", ANNA, "2026-11-23", {}),
    ("submit_for_decision", ANNA, "2026-11-24", {}),
    ("approve_decision", PER, "2026-12-15", {"meeting_date": "2026-12-10", "paragraph": "§ 201"}),
    ("sign", ANNA, "2026-12-16", {}),
    ("sign", SVEN, "2026-12-17", {}),
    ("activate", ANNA, "2026-12-18", {}),
]
KRAMFORS_CRITERIA = [
    "initiative_from_organisation", "shared_need", "not_other_grant", "no_market",
    "not_detail_regulated", "not_purchase",
]  # fmt: skip


@pytest.fixture
def chain_db(backend_url: str) -> Iterator[Database]:
    """Mjölby's examples imported, on an empty database of each backend. Not the shared
    `db` fixture: these tests break the chain on purpose."""
    database = Database(backend_url)
    database.upgrade()
    import_file(database, str(EXAMPLES["mjolby"]), now=NOW)
    yield database
    database.dispose()


@pytest.fixture
def iop(chain_db: Database, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`iop ARGS` in this process, on `chain_db` (so on PostgreSQL too)."""
    from iop_workflow.config import get_settings
    from iop_workflow.entrypoints.cli.main import app

    monkeypatch.setenv("IOP_DATABASE_URL", chain_db.url.render_as_string(hide_password=False))
    get_settings.cache_clear()

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


def step(db: Database, ref: str, trigger: str, actor: str, day: str, **data: Any) -> Any:
    return transition(
        db,
        ref,
        trigger,
        actor_name=actor,
        data=data,
        today=date.fromisoformat(day),
        now=datetime.now(tz=UTC),
        origin=CLI,
    )


def copies_yaml(path: Path, count: int, first: int) -> Path:
    """`count` copies of OSN 2024/0087 under new diarienummer (its organisation and
    people are already imported)."""
    source = yaml.safe_load(EXAMPLES["mjolby"].read_text(encoding="utf-8"))
    template = next(a for a in source["agreements"] if a["diarienummer"] == RUNNING)
    agreements = []
    for n in range(first, first + count):
        copy = json.loads(json.dumps(template, default=str))
        copy["diarienummer"] = f"OSN 2025/{7000 + n:04d}"
        agreements.append(copy)
    path.write_text(yaml.safe_dump({"agreements": agreements}, allow_unicode=True), "utf-8")
    return path


def audit_rows(db: Database) -> list[Any]:
    with db.read() as session:
        return list(session.execute(sa.select(t.audit_log).order_by(t.audit_log.c.id)))


def behind_the_back(db: Database, *statements: str) -> None:
    """Lift the append-only triggers as someone with the database's own rights could,
    then run `statements`, all outside the application."""
    if db.dialect == "sqlite":
        lift = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    else:
        lift = ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"]
    with db.engine.begin() as conn:
        for sql in [*lift, *statements]:
            conn.exec_driver_sql(sql)


def walk(db: Database, tmp_path: Path) -> None:
    """Steps, a sweep, a payout run and an import: every writer of the audit log."""
    for trigger, actor, day, data in ACTIVATION:
        step(db, DEMO, trigger, actor, day, **data)
    daily_sweep(db, as_of=date(2027, 4, 1), now=NOW, origin=FLOW_ORIGIN)
    payout_run(db, as_of=date(2027, 4, 30), now=NOW, origin=FLOW_ORIGIN)
    import_file(db, str(EXAMPLES["kramfors"]), now=NOW)
    import_file(db, str(copies_yaml(tmp_path / "copies.yaml", 2, 0)), now=NOW)


# --- the chain holds after the product's own writes --------------------------------------


def test_verify_passes_after_steps_a_sweep_a_payout_run_and_an_import(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path
) -> None:
    walk(chain_db, tmp_path)
    rows = audit_rows(chain_db)

    run = iop("audit", "verify")
    assert run.exit_code == 0, run.output
    assert (
        run.output.strip() == f"audit trail intact: {len(rows)} records, head {rows[-1].hash[:16]}"
    )
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert {r.trigger for r in rows} >= {"import", "activate", "open_follow_up", "release_payout"}
    verdict = json.loads(iop("audit", "verify", "--json").output)
    assert verdict == {"intact": True, "records": len(rows), "head": rows[-1].hash, "broken": None}


def test_every_record_says_through_what_it_came_and_which_day_it_acted_on(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path
) -> None:
    walk(chain_db, tmp_path)
    rows = audit_rows(chain_db)
    by_trigger = {(r.trigger, r.entity_key if r.entity == "agreement" else ""): r for r in rows}

    activate = by_trigger["activate", DEMO]
    assert (activate.channel, activate.os_user, activate.host) == ("cli", "anna", "kansli-07")
    assert activate.effective_date == date(2026, 12, 18)
    released = [r for r in rows if r.trigger == "release_payout"]
    assert released and {(r.channel, r.os_user, r.effective_date) for r in released} == {
        ("flow", None, date(2027, 4, 30))
    }
    opened = [r for r in rows if r.trigger == "open_follow_up"]
    assert {(r.channel, r.effective_date) for r in opened} == {("flow", date(2027, 4, 1))}
    imported = [r for r in rows if r.trigger == "import"]
    assert {(r.channel, r.effective_date) for r in imported} == {("import", date(2026, 11, 20))}

    shown = json.loads(iop("audit", DEMO, "--json").output)
    [activated] = [r for r in shown if r["trigger"] == "activate"]
    assert {"at", "actor", "role", "entity", "trigger", "from", "to", "reason", "data"} <= set(
        activated
    )
    assert (activated["channel"], activated["os_user"], activated["host"]) == (
        "cli", "anna", "kansli-07"
    )  # fmt: skip
    assert activated["effective_date"] == "2026-12-18" and activated["id"] == activate.id
    assert {(r["channel"], r["os_user"]) for r in shown if r["actor"] == "system"} == {
        ("flow", None)
    }
    table = iop("audit", DEMO).output.splitlines()
    assert table[0].split()[:5] == ["AT", "DAY", "ACTOR", "VIA", "ON"]
    assert any("2026-12-18" in line and "cli (anna@kansli-07)" in line for line in table)


def test_the_cli_records_its_channel_user_and_host(
    chain_db: Database, iop: Callable[..., Result]
) -> None:
    run = iop("transition", DEMO, "propose_plan", "--actor", ANNA, "--as-of", "2026-11-23")
    assert run.exit_code == 0, run.output
    last = audit_rows(chain_db)[-1]
    assert (last.trigger, last.channel, last.effective_date) == (
        "propose_plan",
        "cli",
        date(2026, 11, 23),
    )
    assert (last.os_user, last.host) == (getpass.getuser(), socket.gethostname())

    refused = iop("transition", DEMO, "submit_for_decision", "--actor", "system")
    assert refused.exit_code == 3 and "act as a person" in refused.output
    assert audit_rows(chain_db)[-1].id == last.id
    assert iop("audit", "verify").exit_code == 0


# --- the chain names what was changed behind the application's back ----------------------


@pytest.mark.audit_tampered  # the suite's end-of-test check would name it
@pytest.mark.parametrize(("column", "value"), [("reason", "tidied up"), ("actor", "Karin Lund")])
def test_a_record_rewritten_with_raw_sql_is_named(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path, column: str, value: str
) -> None:
    walk(chain_db, tmp_path)
    victim = next(r for r in audit_rows(chain_db) if r.trigger == "approve_decision")
    behind_the_back(chain_db, f"UPDATE audit_log SET {column} = '{value}' WHERE id = {victim.id}")

    run = iop("audit", "verify")
    assert run.exit_code == 3, run.output
    assert run.output.strip() == (
        f"audit trail BROKEN at record {victim.id} (agreement {DEMO}): "
        "hash mismatch: its content is not what was recorded"
    )
    broken = json.loads(iop("audit", "verify", "--json").output)["broken"]
    assert broken["record"] == victim.id and broken["diarienummer"] == DEMO


@pytest.mark.audit_tampered  # the suite's end-of-test check would name it
def test_a_record_rewritten_and_hashed_again_breaks_the_link_of_the_next(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path
) -> None:
    walk(chain_db, tmp_path)
    rows = audit_rows(chain_db)
    victim = next(i for i, r in enumerate(rows) if r.trigger == "sign")
    forged = {**rows[victim]._asdict(), "actor": "Karin Lund"}
    new_hash = record_hash(forged, seq=forged["seq"], prev_hash=forged["prev_hash"])
    behind_the_back(
        chain_db,
        f"UPDATE audit_log SET actor = 'Karin Lund', hash = '{new_hash}' "
        f"WHERE id = {rows[victim].id}",
    )

    run = iop("audit", "verify")
    assert run.exit_code == 3, run.output
    assert f"BROKEN at record {rows[victim + 1].id} (agreement {DEMO}): broken link" in run.output
    assert f"does not follow record {rows[victim].id}" in run.output


@pytest.mark.audit_tampered  # the suite's end-of-test check would name it
def test_a_deleted_record_is_named(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path
) -> None:
    walk(chain_db, tmp_path)
    rows = audit_rows(chain_db)
    gone = next(i for i, r in enumerate(rows) if r.trigger == "submit_for_decision")
    behind_the_back(chain_db, f"DELETE FROM audit_log WHERE id = {rows[gone].id}")

    run = iop("audit", "verify")
    assert run.exit_code == 3, run.output
    assert run.output.strip() == (
        f"audit trail BROKEN at record {rows[gone + 1].id} (agreement {DEMO}): missing record: "
        f"chain place {rows[gone].seq} is gone (after record {rows[gone - 1].id})"
    )
    # The report says so too.
    report = portfolio(chain_db, date(2027, 5, 1))
    assert report.audit is not None and not report.audit.intact
    assert f"Audit trail: **BROKEN at record {rows[gone + 1].id}" in markdown(
        report, report.scopes["overall"]
    )


@pytest.mark.audit_tampered  # the suite's end-of-test check would name it
def test_the_newest_record_deleted_is_named_by_the_chain_head(
    chain_db: Database, iop: Callable[..., Result], tmp_path: Path
) -> None:
    walk(chain_db, tmp_path)
    rows = audit_rows(chain_db)
    behind_the_back(chain_db, f"DELETE FROM audit_log WHERE id = {rows[-1].id}")

    run = iop("audit", "verify")
    assert run.exit_code == 3, run.output
    assert (
        f"BROKEN at the chain head: missing record: the chain head says {len(rows)}" in run.output
    )


def test_the_report_shows_an_intact_trail(chain_db: Database, tmp_path: Path) -> None:
    walk(chain_db, tmp_path)
    count = len(audit_rows(chain_db))
    report = portfolio(chain_db, date(2027, 5, 1))
    for scope in report.scopes.values():
        assert f"Audit trail: intact ({count} records, head " in markdown(report, scope)


# --- concurrent writers do not fork the chain -------------------------------------------


def test_concurrent_steps_sweeps_payout_runs_and_imports_keep_one_chain(
    chain_db: Database, tmp_path: Path
) -> None:
    db = chain_db
    import_file(db, str(EXAMPLES["kramfors"]), now=NOW)
    import_file(db, str(copies_yaml(tmp_path / "first.yaml", 6, 0)), now=NOW)
    days = [date(2026, 11, 25) + timedelta(days=9 * k) for k in range(24)]
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def retried(fire: Callable[[], Any]) -> None:
        for _ in range(20):
            try:
                fire()
                return
            except StaleUpdate:
                continue  # a concurrent run changed the agreement first: try again
            except IopError:
                return  # refused by a rule on this day: nothing was written

    def sweeps() -> None:
        for day in days:
            daily_sweep(db, as_of=day, now=datetime.now(tz=UTC), origin=FLOW_ORIGIN)

    def payouts() -> None:
        for day in days:
            payout_run(db, as_of=day, now=datetime.now(tz=UTC), origin=FLOW_ORIGIN)

    def officer_steps() -> None:
        for trigger, actor, day, data in ACTIVATION:
            retried(lambda: step(db, DEMO, trigger, actor, day, **data))  # noqa: B023

    def assessments_and_imports() -> None:
        for n, criterion in enumerate(KRAMFORS_CRITERIA):
            data = {"criterion": criterion, "verdict": "met", "motivation": "Bedömt."}
            retried(lambda: step(db, INITIATIVE, "assess_criterion", JOHAN, "2026-11-24", **data))  # noqa: B023
            if n % 3 == 0:
                path = copies_yaml(tmp_path / f"more-{n}.yaml", 2, 100 + n)
                import_file(db, str(path), now=datetime.now(tz=UTC))

    def run(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=run, args=(w,))
        for w in (sweeps, payouts, officer_steps, assessments_and_imports)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures

    rows = audit_rows(db)
    verdict = assert_audit_intact(db)
    assert verdict.records == len(rows) > 50
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert {r.trigger for r in rows} >= {"activate", "assess_criterion", "import", "open_follow_up"}


# --- only the flows act as the system ----------------------------------------------------


def test_the_system_actor_is_refused_unless_the_step_comes_through_a_flow(
    chain_db: Database,
) -> None:
    before = audit_rows(chain_db)
    for origin in (Origin(), CLI, Origin("import"), Origin("api"), Origin("web")):
        with pytest.raises(RuleViolation, match="act as a person"):
            transition(
                chain_db,
                RUNNING,
                "open_follow_up",
                actor_name=SYSTEM_ACTOR.name,
                data={"year": 2026},
                today=date(2027, 1, 2),
                now=NOW,
                origin=origin,
            )
    assert audit_rows(chain_db) == before

    with chain_db.read() as session:
        repo = Repository(session)
        agreement = repo.agreement(RUNNING)
        assert resolve_actor(repo, "system", agreement, origin=FLOW_ORIGIN) == SYSTEM_ACTOR
        with pytest.raises(RuleViolation):
            resolve_actor(repo, "system", agreement)
    done = transition(
        chain_db,
        RUNNING,
        "open_follow_up",
        actor_name=SYSTEM_ACTOR.name,
        data={"year": 2026},
        today=date(2027, 1, 2),
        now=NOW,
        origin=FLOW_ORIGIN,
    )
    assert [c.trigger for c in done.changes] == ["open_follow_up"]
    last = audit_rows(chain_db)[-1]
    assert (last.actor, last.channel) == ("system", "flow")
    assert_audit_intact(chain_db)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        Origin("fax")


# --- migration 0005 chains the records already there -------------------------------------


def test_the_migration_chains_existing_records_and_fills_their_effective_date(
    backend_url: str,
) -> None:
    from alembic import command

    db = Database(backend_url)
    try:
        with db.engine.execution_options(iop_write=True).begin() as conn:
            config = migration_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "0004")
        old = sa.table(
            "audit_log",
            *(sa.column(c) for c in ("at", "actor", "role", "entity", "entity_key", "trigger")),
            *(sa.column(c) for c in ("from_state", "to_state", "reason")),
            sa.column("data", sa.JSON()),
        )
        at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
        rows = [
            {"at": at + timedelta(seconds=i), "actor": "Anna Berg", "role": "officer",
             "entity": "agreement", "entity_key": "X", "trigger": f"step_{i}",
             "from_state": "a", "to_state": "b", "reason": "å ä ö \"quoted\"",
             "data": {"as_of": f"2026-03-0{i + 1}", "n": i} if i % 2 == 0 else {"n": i}}
            for i in range(5)
        ]  # fmt: skip
        with db.engine.begin() as conn:
            conn.execute(sa.insert(old), rows)

        db.upgrade()

        stored = audit_rows(db)
        assert [r.seq for r in stored] == [1, 2, 3, 4, 5]
        assert [r.effective_date for r in stored] == [
            date(2026, 3, 1), None, date(2026, 3, 3), None, date(2026, 3, 5)
        ]  # fmt: skip
        assert {r.channel for r in stored} == {None}
        assert assert_audit_intact(db).records == 5
        # New records continue the chain, and the trigger is back.
        daily_sweep(db, as_of=date(2026, 11, 23), now=NOW, origin=FLOW_ORIGIN)
        import_file(db, str(EXAMPLES["mjolby"]), now=NOW)
        assert assert_audit_intact(db).records > 5
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as conn:
                conn.execute(sa.update(t.audit_log).values(reason="edited"))
    finally:
        db.dispose()


def test_a_database_whose_chain_holds_verifies_empty_and_after_a_downgrade_and_upgrade(
    backend_url: str,
) -> None:
    from alembic import command

    db = Database(backend_url)
    try:
        db.upgrade()
        assert verify_audit(db).records == 0 and verify_audit(db).intact
        import_file(db, str(EXAMPLES["kramfors"]), now=NOW)
        with db.engine.execution_options(iop_write=True).begin() as conn:
            config = migration_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
        db.upgrade()  # the chain is computed again from the rows
        assert assert_audit_intact(db).records == len(audit_rows(db)) > 0
    finally:
        db.dispose()


def test_every_database_object_chains_its_records_and_guards_them(tmp_path: Path) -> None:
    """However many Database objects a process makes and drops (a hypothesis run makes
    hundreds): each one's sessions chain and guard the audit records. `event.contains`
    went by a recycled id and skipped most of them."""
    import gc

    url = f"sqlite:///{tmp_path / 'iop.db'}"
    Database(url).upgrade()
    for n in range(60):
        db = Database(url)
        with db.write() as session:
            session.add(
                AuditRecord(NOW, "Anna Berg", "officer", None, "agreement", "X", f"t{n}", "a", "b")
            )
        with pytest.raises(IopError, match="append-only"):
            with db.write() as session:
                Repository(session).session.scalars(sa.select(AuditRecord)).first().reason = "x"  # type: ignore[union-attr]
        db.dispose()
        del db
        gc.collect()
    assert assert_audit_intact(Database(url)).records == 60
