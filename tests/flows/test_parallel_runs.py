"""Acceptance (issue 9): the scheduled work, run by four processes at once or killed by
SIGKILL halfway and run again, ends in the very state one uninterrupted process gives, on
SQLite (a file) and on PostgreSQL.

Each database is built twice the same way (service_runs.build: the examples, bulk copies
of OSN 2024/0087 with every instalment unpaid, multiplied in SQL), so ids agree; the
final states are compared table by table as multisets of rows, without the columns that
say when a row was written or that number what the runs inserted (service_runs.VARYING).
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from audit_check import assert_audit_intact
from service_runs import (
    build,
    comparable,
    differences,
    event_days,
    pay,
    releases_per_payout,
    walk,
)

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database

SPAWN = multiprocessing.get_context("spawn")
WALKERS = 4
FIRST, LAST = date(2027, 1, 1), date(2028, 12, 31)
PAYOUT_DAY = date(2027, 1, 31)  # every instalment of 2025 and 2026 released, 2027's held
KILLS = 3
# Enough agreements that one payout run takes a second or more, so that a kill can land
# in the middle of it (about 10,000 on SQLite since the run releases in one UPDATE;
# PostgreSQL is slower per row, fewer do).
TIMES = {"sqlite": 96, "postgresql": 40}


def _payout_states(url: str) -> Counter[str]:
    db = Database(url)
    try:
        with db.read() as session:
            return Counter(
                dict(
                    session.execute(
                        sa.select(t.payouts.c.state, sa.func.count()).group_by(t.payouts.c.state)
                    ).all()
                )
            )
    finally:
        db.dispose()


def _notification_keys(url: str) -> Counter[tuple[object, ...]]:
    n = t.notifications
    db = Database(url)
    try:
        with db.read() as session:
            keys = session.execute(
                sa.select(n.c.agreement_id, n.c.kind, n.c.subject_date, n.c.stage)
            )
            return Counter(tuple(row) for row in keys)
    finally:
        db.dispose()


def _audit_intact(url: str) -> None:
    db = Database(url)
    try:
        assert_audit_intact(db)  # one hash chain, whoever appended to it
    finally:
        db.dispose()


def _finish(
    processes: list[multiprocessing.process.BaseProcess], timeout: float
) -> list[int | None]:
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    return [process.exitcode for process in processes]


def test_four_processes_sweeping_and_paying_the_same_days_end_as_one_process_does(
    backend_url: str, tmp_path: Path
) -> None:
    agreements = build(backend_url, tmp_path, copies=100, times=3)
    db = Database(backend_url)
    days = event_days(db, FIRST, LAST)
    db.dispose()
    walk(backend_url, days)  # one process, this one
    expected = comparable(backend_url)
    states = _payout_states(backend_url)

    assert build(backend_url, tmp_path, copies=100, times=3) == agreements
    barrier = SPAWN.Barrier(WALKERS)
    walkers = [
        SPAWN.Process(target=walk, args=(backend_url, days, barrier), name=f"walker-{n}")
        for n in range(WALKERS)
    ]
    for walker in walkers:
        walker.start()
    assert _finish(walkers, timeout=300) == [0] * WALKERS

    # There was work to do: payouts released and blocked, reminders queued, every day.
    assert agreements > 300 and len(days) > 50
    assert states["released"] > agreements and states["blocked"] > agreements, states
    assert len(expected["notifications"]) > agreements
    # Nothing doubled: each payout released once, each notification once.
    releases = releases_per_payout(backend_url)
    assert releases and set(releases.values()) == {1}
    notifications = _notification_keys(backend_url)
    assert notifications and set(notifications.values()) == {1}
    # Nothing lost, nothing else different.
    assert differences(expected, comparable(backend_url)) == {}
    _audit_intact(backend_url)


def test_a_payout_run_killed_by_sigkill_and_run_again_ends_as_an_uninterrupted_run(
    backend_url: str, tmp_path: Path
) -> None:
    times = TIMES[backend_url.split(":")[0].split("+")[0]]
    agreements = build(backend_url, tmp_path, copies=100, times=times)
    before = _payout_states(backend_url)["released"]
    started, seconds = SPAWN.Event(), SPAWN.Value("d", 0.0)
    uninterrupted = SPAWN.Process(target=pay, args=(backend_url, PAYOUT_DAY, started, seconds))
    uninterrupted.start()
    assert _finish([uninterrupted], timeout=300) == [0]
    took = seconds.value
    expected = comparable(backend_url)
    after = _payout_states(backend_url)["released"]
    assert agreements >= 100 * times and after - before > 3 * agreements and took > 0.5, (
        agreements,
        after - before,
        took,
    )

    assert build(backend_url, tmp_path, copies=100, times=times) == agreements
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    kills: list[tuple[float, bool, int]] = []
    delay = rng.uniform(0.1, 0.9) * took
    # KILLS kills, and more while none has landed mid-run: on a loaded machine the measured
    # run may have been slower than the next, so a kill that came too late halves the wait.
    while len(kills) < KILLS or (
        not any(running for _, running, _ in kills) and len(kills) < 4 * KILLS
    ):
        if kills and not kills[-1][1]:  # it had finished: start again from the same data
            delay = kills[-1][0] / 2
            assert build(backend_url, tmp_path, copies=100, times=times) == agreements
        elif kills:
            delay = rng.uniform(0.1, 0.9) * took
        # Kept here until the child has them: a process forgets its arguments once started.
        started, seconds = SPAWN.Event(), SPAWN.Value("d", 0.0)
        run = SPAWN.Process(target=pay, args=(backend_url, PAYOUT_DAY, started, seconds))
        run.start()
        try:
            assert started.wait(60), "the payout run did not start"
            time.sleep(delay)
            running = run.is_alive()
            run.kill()  # SIGKILL
        finally:
            _finish([run], timeout=30)
        released = _payout_states(backend_url)["released"]
        kills.append((round(delay, 2), running, released))
        # One transaction: all of the run or none of it, whenever it was killed.
        assert released in (before, after), (seed, kills)
    assert any(running and released == before for _, running, released in kills), (seed, kills)
    if not kills[-1][1]:  # the last one had finished: the rerun starts from the same data
        assert build(backend_url, tmp_path, copies=100, times=times) == agreements

    started, seconds = SPAWN.Event(), SPAWN.Value("d", 0.0)
    rerun = SPAWN.Process(target=pay, args=(backend_url, PAYOUT_DAY, started, seconds))
    rerun.start()
    assert _finish([rerun], timeout=300) == [0]
    assert differences(expected, comparable(backend_url)) == {}, (seed, kills)
    releases = releases_per_payout(backend_url)
    assert set(releases.values()) == {1}
    _audit_intact(backend_url)
