"""Benchmark: the daily sweep and the payout run over many agreements.

    .venv/bin/python bench/sweep_bench.py [N] [--postgres URL]

Builds N active Mjölby agreements (five years; a quarter each with the preset's two
payouts a year, four, twelve, and a plan of explicit dates) straight into a
fresh SQLite database (or the PostgreSQL URL given), then times, on one payout day:
the sweep, the payout run, and a second sweep and payout run of the same day (which
must change nothing). Prints seconds, rows per second and the peak memory (RSS) of
the process doing the runs (the data is built by a child process).
Targets: each run well under a minute for 100 000 agreements, memory well under 1 GB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iop_workflow.adapters import tables as t  # noqa: E402
from iop_workflow.adapters.db import Database  # noqa: E402
from iop_workflow.domain.deadlines import follow_up_dates, planned_instalments  # noqa: E402
from iop_workflow.domain.model import Agreement, YearSupport  # noqa: E402
from iop_workflow.policies import load_policy  # noqa: E402
from iop_workflow.service.payouts import payout_run  # noqa: E402
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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(db: Database, n: int) -> None:
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
    with db.write() as s:
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
                for i in range(1, n + 1)
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
                for i in range(1, n + 1)
            ],
        )
        s.execute(
            sa.insert(t.agreement_parties),
            [
                {"agreement_id": i, "organisation_id": i, "share_bp": 10_000}
                for i in range(1, n + 1)
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
                for i in range(1, n + 1)
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
                for i in range(1, n + 1)
                for p in instalments[i % len(PLANS)]
            ],
        )


def timed(label: str, n: int, run) -> object:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = run()
    took = time.perf_counter() - began
    changes = len(result.changes)
    print(
        f"{label:<34} {took:8.2f} s  {changes:>8} changes  "  # noqa: T201
        f"{n / took:>10.0f} agreements/s  notifications {result.notifications}"
    )
    return result


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--build":
        # Child process: fill the database, so its memory is not counted in the runs'.
        db = Database(argv[2])
        db.upgrade()
        db.mark_sandbox("bench/sweep_bench.py: payout days of years to come")
        build(db, int(argv[1]))
        return 0
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)  # noqa: T201
        return 0
    n = int(argv[0]) if argv and argv[0].isdigit() else 20_000
    url = argv[argv.index("--postgres") + 1] if "--postgres" in argv else None
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        began = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", str(n), url], check=True)
        db = Database(url)
        print(f"{db.dialect}: built {n} agreements in {time.perf_counter() - began:.1f} s")  # noqa: T201
        now = datetime.now(tz=UTC)
        # 2028-04-28: follow-ups 2027 are open and past nothing; every 2028 payout is due
        # and blocked (no follow-up approved), and the 2027 ones are released.
        for day in (date(2027, 4, 30), date(2027, 11, 1), date(2028, 4, 28)):
            timed(f"sweep {day}", n, lambda d=day: daily_sweep(db, as_of=d, now=now))
            timed(f"payout run {day}", n, lambda d=day: payout_run(db, as_of=d, now=now))
        again = date(2028, 4, 28)
        s2 = timed(f"sweep {again} again", n, lambda: daily_sweep(db, as_of=again, now=now))
        p2 = timed(f"payout run {again} again", n, lambda: payout_run(db, as_of=again, now=now))
        assert not s2.changes and not p2.changes, "a second run of the same day changed rows"
        print(f"peak memory (RSS): {peak_rss_mb():.0f} MB")  # noqa: T201
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
