"""Benchmark: the daily sweep, the payout run and the portfolio report over many
agreements (issue 15; figures in docs/performance.md).

    .venv/bin/python bench/sweep_bench.py [N ...] [--repeat R] [--no-postgres]

For each N (default 10 000 and 100 000) and each database (SQLite, and PostgreSQL on a
throwaway cluster this script starts with tests/pg_cluster.py when it can): a child
process builds N active, decided and signed Mjölby agreements (five years; a quarter
each with the preset's two payouts a year, four, twelve, and a plan of explicit dates),
CHUNK agreements per transaction. Then R times (default 3), on a fresh copy of what was
built, a child runs the jobs in order: the sweep of an ordinary day and the payout run
releasing every first instalment of 2027; a busy day; the busiest day, whose payout run
blocks every payout of 2028; the same day again (which must change nothing); the
portfolio report; the audit chain's verification. Each job's time is the least of the R.
Each sweep and payout run is printed with its floor (one plain SQL read of the rows it
needs, best of three, fetched whole), the ratio and rows per second; each child's peak
resident memory is measured from outside (wait4). Last, the naive pattern: one Prefect
task per agreement (a temporary Prefect server), on 1 000 agreements, scaled.
Targets (issue 15, read here, never asserted): 100k, SQLite: every day type within 5x
its floor, ordinary day 100k / 10k <= 3x, payout run with 100k blocked <= 3 s, busiest
sweep <= 2 s, portfolio <= 2 s, peak RSS <= 300 MB, generator <= 400 MB; PostgreSQL
within 2x of SQLite.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iop_workflow.adapters import tables as t  # noqa: E402
from iop_workflow.adapters.db import Database  # noqa: E402
from iop_workflow.domain.deadlines import follow_up_dates, planned_instalments  # noqa: E402
from iop_workflow.domain.model import Agreement, YearSupport  # noqa: E402
from iop_workflow.policies import load_policy  # noqa: E402
from iop_workflow.service.audit import verify_audit  # noqa: E402
from iop_workflow.service.payouts import payout_run, run_payouts  # noqa: E402
from iop_workflow.service.report import portfolio  # noqa: E402
from iop_workflow.service.sweep import daily_sweep  # noqa: E402

START, END = date(2027, 1, 1), date(2031, 12, 31)
SUPPORT = 30_000_000  # 300 000 kr a year, in öre
# The payout plans of agreement i: PLANS[i % 4] (domain/payout_plan.py).
PLANS: tuple[dict[str, object] | None, ...] = (
    None,
    {"per_year": 4},
    {"per_year": 12},
    {"dates": [f"{y}-{md}" for y in range(2027, 2032) for md in ("03-01", "06-15", "10-01")]},
)


CHUNK = 5_000  # agreements written per transaction: the generator's memory stays flat


def build(db: Database, n: int) -> None:
    """N active agreements with their parties, follow-ups and payouts, written CHUNK
    agreements at a time (rows made as they are written, never all at once)."""
    policy = load_policy("mjolby")
    template = Agreement(
        diarienummer="T",
        municipality="mjolby",
        committee="OSN",
        title="",
        purpose="",
        target_group="",
        start=START,
        end=END,
        officer="Bench Officer",
        support=[YearSupport(y, SUPPORT) for y in range(2027, 2032)],
    )
    instalments = []
    for plan in PLANS:
        template.payout_plan = dict(plan) if plan else None
        instalments.append(planned_instalments(template, policy))
    follow = [(y, *follow_up_dates(template, policy, y)) for y in range(2027, 2032)]
    for first in range(1, n + 1, CHUNK):
        ids = range(first, min(first + CHUNK, n + 1))
        with db.write() as s:
            _write_chunk(s, ids, instalments, follow)


def _write_chunk(s, ids: range, instalments, follow) -> None:  # type: ignore[no-untyped-def]
    s.execute(
        sa.insert(t.organisations),
        [
            {
                "id": i,
                "name": f"Förening {i}",
                "organisationsnummer": f"{802000 + i // 10000:06d}-{i % 10000:04d}",
                "contact_name": "K",
                "contact_email": "k@example.org",
                "forening_registered": True,
            }
            for i in ids
        ],
    )
    s.execute(
        sa.insert(t.agreements),
        [
            {
                "id": i,
                "diarienummer": f"OSN 2026/{i:06d}",
                "municipality": "mjolby",
                "committee": "OSN",
                "title": "Bench",
                "purpose": "p",
                "target_group": "tg",
                "start": START,
                "end": END,
                "officer": "Bench Officer",
                "state": "active",
                "description": "",
                "goals": "g",
                "values": "v",
                "indicators": ["besök"],
                "repayment_terms": "",
                "renewal_terms": "",
                "first_start": START,
                "period_no": 1,
                "payout_plan": PLANS[i % len(PLANS)],
                "version": 1,
            }
            for i in ids
        ],
    )
    s.execute(
        sa.insert(t.agreement_parties),
        [{"agreement_id": i, "organisation_id": i, "share_bp": 10_000} for i in ids],
    )
    # Decided and signed (iop-rules §3): the first year's instalments may be paid.
    s.execute(
        sa.insert(t.decisions),
        [
            {
                "agreement_id": i,
                "kind": "entry",
                "body": "OSN",
                "meeting_date": date(2026, 11, 20),
                "paragraph": f"§ {i}",
                "outcome": "approved",
                "recorded_by": "Bench Secretary",
                "period_no": 1,
            }
            for i in ids
        ],
    )
    s.execute(
        sa.insert(t.signatures),
        [
            {
                "agreement_id": i,
                "party": party,
                "signed_on": date(2026, 12, 1),
                "signed_by": "Bench Signer",
                "period_no": 1,
            }
            for i in ids
            for party in ("municipality", f"{802000 + i // 10000:06d}-{i % 10000:04d}")
        ],
    )
    s.execute(
        sa.insert(t.follow_ups),
        [
            {
                "agreement_id": i,
                "year": y,
                "opens_on": o,
                "due_on": d,
                "state": "planned",
                "statistics": {},
                "version": 1,
            }
            for i in ids
            for (y, o, d) in follow
        ],
    )
    s.execute(
        sa.insert(t.payouts),
        [
            {
                "agreement_id": i,
                "organisation_id": i,
                "covers_from": p.covers_from,
                "covers_to": p.covers_to,
                "due_on": p.due_on,
                "amount_ore": p.amount_ore,
                "state": "planned",
                "version": 1,
            }
            for i in ids
            for p in instalments[i % len(PLANS)]
        ],
    )


# The days the runs act on. 2027-04-30: an ordinary day for the sweep (nothing opens or
# falls due) and the first payouts of 2027, all released (no follow-up gates the first
# year). 2027-11-01 and 2028-04-28: the busy days, follow-ups opening and reminders due;
# on 2028-04-28 every payout of 2028 is due and blocked (no follow-up 2027 approved).
ORDINARY, BUSY, BLOCKED = date(2027, 4, 30), date(2027, 11, 1), date(2028, 4, 28)


def floor_sweep(db: Database, day: date) -> tuple[float, int]:
    """One plain read of the rows the sweep of `day` must look at: follow-ups opening or
    with a report due within a month, agreements ending within 400 days (renewals)."""
    sql = sa.text(
        "SELECT id, agreement_id, state, opens_on, due_on FROM follow_ups "
        "WHERE (state = 'planned' AND opens_on <= :d) "
        "OR (state IN ('open', 'returned', 'overdue') AND due_on BETWEEN :a AND :b) "
        'UNION ALL SELECT id, id, state, start, "end" FROM agreements '
        "WHERE state IN ('active', 'renewal') AND \"end\" BETWEEN :d AND :e"
    )
    params = {
        "d": day,
        "a": day - timedelta(days=45),
        "b": day + timedelta(days=31),
        "e": day + timedelta(days=400),
    }
    return _floor(db, sql, params)


def floor_payouts(db: Database, day: date) -> tuple[float, int]:
    """One plain read of the rows the payout run of `day` needs: each due open payout
    with its agreement and the follow-up its gate depends on."""
    year = (
        "CAST(EXTRACT(YEAR FROM p.covers_from) AS INTEGER)"
        if db.engine.dialect.name == "postgresql"
        else "CAST(strftime('%Y', p.covers_from) AS INTEGER)"
    )
    sql = sa.text(
        "SELECT p.id, p.state, p.due_on, p.amount_ore, a.diarienummer, a.municipality, "
        "f.state FROM payouts p JOIN agreements a ON a.id = p.agreement_id "
        "LEFT JOIN follow_ups f ON f.agreement_id = p.agreement_id "
        f"AND f.year = {year} - 1 "
        "WHERE p.state IN ('planned', 'blocked') AND p.due_on <= :d"
    )
    return _floor(db, sql, {"d": day})


def _floor(db: Database, sql: sa.TextClause, params: dict[str, object]) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(3):  # the best of three: the floor is what the machine can do
        began = time.perf_counter()
        with db.engine.connect() as conn:
            rows = len(conn.execute(sql, params).all())
        best = min(best, time.perf_counter() - began)
    return best, rows


def _timed(run) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = run()
    return time.perf_counter() - began, result


def runs(url: str) -> list[dict[str, object]]:
    """The jobs of the benchmark on the built database, in their order: each one's time,
    its floor (where it has one) and how many changes it made."""
    db = Database(url)
    now = datetime.now(tz=UTC)
    found: list[dict[str, object]] = []

    def job(name: str, day: date, floor, run) -> None:  # type: ignore[no-untyped-def]
        floor_s, floor_rows = floor(db, day) if floor else (None, None)
        took, result = _timed(run)
        changes = len(getattr(result, "changes", []))
        found.append(
            {
                "job": name,
                "day": day.isoformat(),
                "seconds": took,
                "floor": floor_s,
                "floor_rows": floor_rows,
                "changes": changes,
                "notifications": getattr(result, "notifications", 0),
            }
        )

    job(
        "sweep, ordinary day",
        ORDINARY,
        floor_sweep,
        lambda: daily_sweep(db, as_of=ORDINARY, now=now),
    )
    job(
        "payout run, all released",
        ORDINARY,
        floor_payouts,
        lambda: payout_run(db, as_of=ORDINARY, now=now),
    )
    job("sweep, busy day", BUSY, floor_sweep, lambda: daily_sweep(db, as_of=BUSY, now=now))
    job("payout run, busy day", BUSY, floor_payouts, lambda: payout_run(db, as_of=BUSY, now=now))
    job("sweep, busiest day", BLOCKED, floor_sweep, lambda: daily_sweep(db, as_of=BLOCKED, now=now))
    job(
        "payout run, all blocked",
        BLOCKED,
        floor_payouts,
        lambda: payout_run(db, as_of=BLOCKED, now=now),
    )
    job(
        "sweep, same day again",
        BLOCKED,
        floor_sweep,
        lambda: daily_sweep(db, as_of=BLOCKED, now=now),
    )
    job(
        "payout run, same day again",
        BLOCKED,
        floor_payouts,
        lambda: payout_run(db, as_of=BLOCKED, now=now),
    )
    again = found[-2:]
    assert not any(j["changes"] for j in again), "a second run of the same day changed rows"
    job("portfolio report", BLOCKED, None, lambda: portfolio(db, BLOCKED, verify=False))
    job("audit chain verified", BLOCKED, None, lambda: verify_audit(db))
    db.dispose()
    return found


# The naive pattern's temporary Prefect server: quiet, and no telemetry from a benchmark.
QUIET_PREFECT = {"PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def _child(*args: str) -> tuple[str, float]:
    """Run this file with `args` in a child process: its output and its peak RSS (MB),
    measured from outside (wait4's resource usage of that child alone)."""
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **QUIET_PREFECT},
    )
    out = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench child {args[0]} failed")
    return out, usage.ru_maxrss / 1024


class Copies:
    """Fresh copies of one built database: a file copy for SQLite, a database made from
    the built one as its template for PostgreSQL."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder, self.made = url, folder, 0

    def fresh(self) -> str:
        self.made += 1
        if self.url.startswith("sqlite"):
            copy = self.folder / f"copy{self.made}.db"
            shutil.copyfile(self.url.removeprefix("sqlite:///"), copy)
            return f"sqlite:///{copy}"
        base, name = self.url.rsplit("/", 1)
        copy = f"{name}_copy{self.made}"
        with _admin(self.url) as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {copy} TEMPLATE {name}")
        return f"{base}/{copy}"

    def drop(self, url: str) -> None:
        if url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).unlink()
            return
        with _admin(self.url) as conn:
            conn.exec_driver_sql(f"DROP DATABASE {url.rsplit('/', 1)[1]}")


def _admin(url: str) -> sa.Connection:
    engine = sa.create_engine(
        url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    return engine.connect()


def bench_size(n: int, url: str, repeat: int, folder: Path) -> dict[str, object]:
    began = time.perf_counter()
    _, build_rss = _child("--build", str(n), url)
    built = time.perf_counter() - began
    copies, rounds, runs_rss = Copies(url, folder), [], 0.0
    for _ in range(repeat):
        copy = copies.fresh()
        out, rss = _child("--runs", copy)
        copies.drop(copy)
        rounds.append(json.loads(out))
        runs_rss = max(runs_rss, rss)
    # The least time of each job over the rounds (its floor is already a best of three).
    jobs = [dict(min(same, key=lambda j: j["seconds"])) for same in zip(*rounds, strict=True)]
    return {
        "n": n,
        "dialect": url.split(":", 1)[0].split("+", 1)[0],
        "built_seconds": built,
        "build_rss_mb": build_rss,
        "runs_rss_mb": runs_rss,
        "repeat": repeat,
        "jobs": jobs,
    }


NAIVE_N = 1_000


def naive(url: str) -> dict[str, float]:
    """The payout run of ORDINARY the naive way, one Prefect task (and one transaction)
    per agreement, against the set-wise run on a copy of the same database."""
    from prefect import flow, task
    from prefect.testing.utilities import prefect_test_harness

    db = Database(url)
    now = datetime.now(tz=UTC)
    with db.read() as session:
        ids = list(session.execute(sa.select(t.agreements.c.id)).scalars())

    @task
    def one(agreement_id: int) -> int:
        with db.write() as session:
            found = run_payouts(session, as_of=ORDINARY, now=now, agreement_ids=[agreement_id])
        return len(found.changes)

    @flow
    def per_agreement() -> int:
        return sum(one(agreement_id) for agreement_id in ids)

    with prefect_test_harness(server_startup_timeout=180):
        took, changes = _timed(per_agreement)
        # Let the server record the last task runs before it stops (not timed).
        time.sleep(10)
    db.dispose()
    return {"agreements": len(ids), "seconds": took, "changes": float(changes)}  # type: ignore[arg-type]


def bench_naive(folder: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / 'naive.db'}"
    _child("--build", str(NAIVE_N), url)
    copies = Copies(url, folder)
    setwise_url = copies.fresh()
    setwise_db = Database(setwise_url)
    took, result = _timed(lambda: payout_run(setwise_db, as_of=ORDINARY, now=datetime.now(UTC)))
    setwise_db.dispose()
    out, _ = _child("--naive", url)
    found: dict[str, float] = json.loads(out)
    found["setwise_seconds"] = took
    found["setwise_changes"] = float(len(result.changes))  # type: ignore[attr-defined]
    return found


def report(results: list[dict[str, object]]) -> None:
    for r in results:
        n = int(r["n"])  # type: ignore[call-overload]
        print(  # noqa: T201
            f"\n{r['dialect']}, {n} agreements: built in {r['built_seconds']:.1f} s "
            f"(generator peak RSS {r['build_rss_mb']:.0f} MB); runs peak RSS "
            f"{r['runs_rss_mb']:.0f} MB; each time the least of {r['repeat']} rounds"
        )
        print(  # noqa: T201
            f"{'job':<28} {'day':<10} {'time s':>8} {'floor s':>8} {'ratio':>7} "
            f"{'changes':>8} {'rows/s':>10}"
        )
        for j in r["jobs"]:  # type: ignore[attr-defined]
            floor = j["floor"]
            ratio = f"{j['seconds'] / floor:6.1f}x" if floor else "      -"
            floor_text = f"{floor:8.2f}" if floor is not None else "       -"
            rows = max(int(j["changes"]), int(j["floor_rows"] or 0), n)
            print(  # noqa: T201
                f"{j['job']:<28} {j['day']:<10} {j['seconds']:8.2f} {floor_text} {ratio} "
                f"{j['changes']:>8} {rows / j['seconds']:>10.0f}"
            )
    for dialect in sorted({str(r["dialect"]) for r in results}):
        ordinary = {
            int(r["n"]): next(j["seconds"] for j in r["jobs"] if j["job"] == "sweep, ordinary day")  # type: ignore[attr-defined, call-overload]
            for r in results
            if r["dialect"] == dialect
        }
        if len(ordinary) > 1:
            small, large = min(ordinary), max(ordinary)
            print(  # noqa: T201
                f"\n{dialect}: ordinary-day sweep {large} / {small}: "
                f"{ordinary[large] / ordinary[small]:.1f}x for {large / small:.0f}x the agreements"
            )
    _compare_databases(results)


def _compare_databases(results: list[dict[str, object]]) -> None:
    by = {(str(r["dialect"]), int(r["n"])): r for r in results}  # type: ignore[call-overload]
    for (dialect, n), r in sorted(by.items()):
        base = by.get(("sqlite", n))
        if dialect == "sqlite" or base is None:
            continue
        print(f"\n{dialect} / sqlite, {n} agreements (target <= 2x):")  # noqa: T201
        for mine, theirs in zip(r["jobs"], base["jobs"], strict=True):  # type: ignore[call-overload]
            print(f"  {mine['job']:<28} {mine['seconds'] / theirs['seconds']:6.1f}x")  # noqa: T201


def report_naive(found: dict[str, float], sizes: list[int]) -> None:
    n = found["agreements"]
    per_naive = found["seconds"] / n
    per_setwise = found["setwise_seconds"] / n
    print(  # noqa: T201
        f"\nnaive pattern (one Prefect task per agreement), payout run of {ORDINARY}, "
        f"{n:.0f} agreements, SQLite: {found['seconds']:.1f} s, {found['changes']:.0f} changes; "
        f"set-wise on the same database: {found['setwise_seconds']:.2f} s, "
        f"{found['setwise_changes']:.0f} changes; {per_naive / per_setwise:.0f}x per agreement"
    )
    for size in sizes:
        print(  # noqa: T201
            f"  scaled to {size} agreements: naive {per_naive * size:.0f} s"
        )


def _postgres(stack: ExitStack, skip: bool) -> str | None:
    if skip:
        return None
    sys.path.insert(0, str(ROOT / "tests"))
    from pg_cluster import Unavailable, cluster

    try:
        return stack.enter_context(cluster())
    except Unavailable as problem:
        print(f"PostgreSQL left out: {problem}")  # noqa: T201
        return None


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--build":
        # Child process: fill the database, so its memory is not counted in the runs'.
        db = Database(argv[2])
        db.upgrade()
        db.mark_sandbox("bench/sweep_bench.py: payout days of years to come")
        build(db, int(argv[1]))
        # A database in use has its planner statistics (autovacuum keeps them on PostgreSQL).
        db.refresh_statistics()
        db.dispose()
        return 0
    if argv and argv[0] == "--runs":
        print(json.dumps(runs(argv[1])))  # noqa: T201
        return 0
    if argv and argv[0] == "--naive":
        print(json.dumps(naive(argv[1])))  # noqa: T201
        return 0
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)  # noqa: T201
        return 0
    repeat, sizes = 3, []
    words = iter(argv)
    for word in words:
        if word == "--repeat":
            repeat = int(next(words))
        elif word.isdigit():
            sizes.append(int(word))
    sizes = sizes or [10_000, 100_000]
    machine = f"{os.cpu_count()} cores, {platform.platform()}"
    print(f"machine: {machine}, Python {platform.python_version()}")  # noqa: T201
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")  # noqa: T201
    results = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        postgres = _postgres(stack, "--no-postgres" in argv)
        for n in sizes:
            results.append(
                bench_size(n, f"sqlite:///{Path(folder) / 'bench.db'}", repeat, Path(folder))
            )
            Path(folder, "bench.db").unlink()
            if postgres is not None:
                sys.path.insert(0, str(ROOT / "tests"))
                from pg_cluster import empty_postgres

                empty_postgres(postgres)
                results.append(bench_size(n, postgres, repeat, Path(folder)))
        report(results)
        report_naive(bench_naive(Path(folder)), sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
