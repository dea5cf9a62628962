"""Acceptance (issue 15, item 3): the event cursor moves only past what the Prefect server
has stored, a burst larger than the server's queues arrives whole, what the server drops
or cannot take is reported and goes out with the next publish, and the flows' bulk work
is summarised (docs/events.md).

Real Prefect servers, read back through their API: the session's server (conftest.py)
and, for the test of dropped events, one of this module's own whose event persister keeps
at most 1,000 events in memory and writes them every 2 s (PREFECT_SERVER_SERVICES_EVENT_
PERSISTER_QUEUE_MAX_SIZE, _BATCH_SIZE, _FLUSH_INTERVAL): it drops whatever comes faster.
The queue that dropped events on busy days, the 10,000 messages each consumer of the
in-memory broker holds, has no setting (prefect/server/utilities/messaging/memory.py);
the burst test sends more than that. A traceback in a server's log fails the test.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from flow_support import (
    ROOT,
    flow_run_id,
    flow_run_state,
    free_port,
    new_database,
    now,
    product_database,
    using_server,
    wait_for_log,
)
from prefect_servers import (
    PrefectServer,
    drain_prefect_workers,
    start_server,
    stop_server,
    wait_healthy,
)
from service_runs import build

from flows.payout_run import payout_run
from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.domain.machines import ENTITY_OF
from iop_workflow.orchestration import run_summary
from iop_workflow.orchestration.events import publish_events
from iop_workflow.service import events as ev
from iop_workflow.service.payouts import payout_run as payout_service
from iop_workflow.service.sweep import daily_sweep as sweep_service

PAYOUT_DAY = date(2027, 4, 30)  # each copy of OSN 2024/0087: 2025-26 released, 2027 held
SERVER_QUEUE = 10_000  # messages a consumer of the server's in-memory broker holds
AUTOMATION = ROOT / "deployments" / "automations" / "payout-blocked-notify.yaml"
LOSSY = {  # at most 1,000 events in memory, written every 2 s: the rest are dropped
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_QUEUE_MAX_SIZE": "1000",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "1000000",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "2",
}


# --- reading the servers back ----------------------------------------------------------


def _filter(api_url: str, query: dict[str, Any], limit: int = 0) -> dict[str, Any]:
    query.setdefault("occurred", {})
    query["occurred"].setdefault("since", (now() - timedelta(days=1)).isoformat())
    query["occurred"].setdefault("until", (now() + timedelta(days=1)).isoformat())
    answer = httpx.post(
        f"{api_url}/events/filter", json={"filter": query, "limit": limit}, timeout=60
    )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def stored(api_url: str, ids: Sequence[str]) -> int:
    """How many of these events the server has."""
    return sum(
        int(_filter(api_url, {"id": {"id": list(ids[k : k + 1000])}})["total"])
        for k in range(0, len(ids), 1000)
    )


def events_named(api_url: str, name: str, since: datetime) -> list[dict[str, Any]]:
    page = _filter(api_url, {"event": {"name": [name]}, "occurred": {"since": since.isoformat()}})
    page = _filter(
        api_url,
        {"event": {"name": [name]}, "occurred": {"since": since.isoformat()}},
        limit=min(int(page["total"]), 50),
    )
    return list(page["events"])


def expected(db: Database) -> tuple[list[str], list[ev.AgreementEvent]]:
    """The ids of every per-agreement event of the audit log, and its summaries (in one
    range: what a publish makes of a log no earlier publish has seen)."""
    newest = ev.marks(db).newest
    ids = [str(e.id) for page in ev.per_agreement_events(db, 0, newest) for e in page]
    return ids, ev.summaries(db, 0, newest)


@dataclass
class ServerLog:
    """What a server writes to its log from now on."""

    path: Path
    start: int = 0

    def __post_init__(self) -> None:
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def text(self) -> str:
        with open(self.path, "rb") as log:
            log.seek(self.start)
            return log.read().decode(errors="replace")

    def assert_clean(self, *also: str) -> None:
        text = self.text()
        for bad in ("Traceback", *also):
            assert bad not in text, f"{bad!r} in the Prefect server's log:\n{text[-4000:]}"


def release_payouts(db: Database) -> list[Any]:
    a = t.audit_log
    with db.read() as session:
        return list(
            session.execute(
                sa.select(a.c.id, a.c.agreement_id)
                .where(a.c.trigger == "release_payout", a.c.actor == "system")
                .order_by(a.c.id)
            ).all()
        )


# --- a Prefect server of this module's own --------------------------------------------


@pytest.fixture(scope="module")
def lossy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = start_server(tmp_path_factory.mktemp("lossy-prefect"), LOSSY)
    try:
        wait_healthy(server, 180)
        yield server
    finally:
        # Prefect's background senders of this process (events, logs) keep one worker per
        # server: stop the ones bound to this server while it still answers, or they
        # retry against it and hold up the others.
        drain_prefect_workers()
        stop_server(server)


# --- the rule ---------------------------------------------------------------------------


def test_the_flows_bulk_is_summarised_and_what_operators_automate_on_is_not() -> None:
    per, summary = ev.Delivery.PER_AGREEMENT, ev.Delivery.SUMMARY
    assert ev.delivery("follow_up", "open_follow_up", "system") is summary
    assert ev.delivery("payout", "release_payout", "system") is summary
    for entity, trigger in [
        ("payout", "block_payout"),
        ("follow_up", "mark_report_overdue"),
        ("claim", "mark_claim_overdue"),
        ("agreement", "end"),
        ("agreement", "start_renewal"),
    ]:
        assert ev.delivery(entity, trigger, "system") is per, trigger
    # Whatever a person did, and every kind of change, is per agreement unless named.
    for trigger, entity in ENTITY_OF.items():
        assert ev.delivery(entity, trigger, "Anna Berg") is per
        if (entity, trigger) not in ev.SUMMARISED:
            assert ev.delivery(entity, trigger, "system") is per
    assert ev.summary_name("payout", "release_payout", "blocked", "released") == (
        "iop.summary.payout.released"
    )
    # Event ids are the uuid5 they always were: what was published before keeps its id.
    for name in ["", "audit-7-2027-04-30T05:00:00.123456+00:00-OSN 2024/0087-payout-3-x", "åä"]:
        assert ev.event_id(name) == str(uuid.uuid5(ev.NAMESPACE, name))


def test_the_rule_and_its_sql_agree_and_the_marks_hold_on_both_backends(
    backend_url: str, tmp_path: Path
) -> None:
    build(backend_url, tmp_path, copies=3)
    db = Database(backend_url)
    try:
        sweep_service(db, as_of=PAYOUT_DAY, now=now())
        payout_service(db, as_of=PAYOUT_DAY, now=now())
        a = t.audit_log
        with db.read() as session:
            rows = session.execute(
                sa.select(a.c.entity, a.c.trigger, a.c.from_state, a.c.to_state, a.c.actor)
            ).all()
        summarised = [r for r in rows if ev.delivery(r.entity, r.trigger, r.actor) == "summary"]
        per = [r for r in rows if r not in summarised]
        bulk = Counter(
            ev.summary_name(r.entity, r.trigger, r.from_state, r.to_state) for r in summarised
        )
        newest = ev.marks(db).newest
        assert ev.per_agreement_count(db, 0, newest) == len(per)
        pages = list(ev.per_agreement_events(db, 0, newest, page=7))
        assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
        made = [e for p in pages for e in p]
        assert len(made) == len({e.id for e in made}) == len(per)
        summaries = ev.summaries(db, 0, newest)
        assert {s.event: s.payload["count"] for s in summaries} == dict(bulk)
        assert {"iop.summary.payout.released", "iop.summary.follow-up.open"} <= set(bulk)

        # One publisher at a time; the marks only move forward.
        assert ev.claim(db, 60) and not ev.claim(db, 60)
        ev.release(db)
        assert ev.claim(db, 60)
        ev.release(db)
        ev.advance(db, published=5, sent=9)
        ev.advance(db, published=3, sent=4)
        assert (ev.marks(db).published, ev.marks(db).sent) == (5, 9)
    finally:
        db.dispose()


# --- the acceptance tests ---------------------------------------------------------------


def test_a_burst_larger_than_the_servers_queue_arrives_whole(
    prefect_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    build(url, tmp_path, copies=100, times=100)  # 10,400 agreements
    db = Database(url)
    log = ServerLog(prefect_api.log)
    started = now()
    with product_database(url, monkeypatch):
        state = payout_run(as_of=PAYOUT_DAY, return_state=True)
    result = state.result()
    ids, summaries = expected(db)

    assert result["blocked"] > SERVER_QUEUE, result["blocked"]
    assert "events_unconfirmed" not in result, result
    assert result["events_published"] == len(ids) + len(summaries)
    assert ev.marks(db).published == ev.marks(db).newest
    assert stored(prefect_api.api_url, ids) == len(ids)
    [released] = events_named(prefect_api.api_url, "iop.summary.payout.released", started)
    assert released["id"] == str(summaries[0].id)
    assert released["payload"]["count"] == result["released"] == len(release_payouts(db))
    assert len(released["related"]) == ev.RELATED_AGREEMENTS
    assert flow_run_state(flow_run_id(state)) == "COMPLETED"
    log.assert_clean("queue is full", "dropping")


def test_the_summary_of_a_payout_run_counts_what_it_released(
    prefect_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    build(url, tmp_path, copies=3)  # the examples and 3 agreements with nothing paid yet
    db = Database(url)
    log = ServerLog(prefect_api.log)
    started = now()
    with product_database(url, monkeypatch):
        result = payout_run(as_of=PAYOUT_DAY)
    rows = release_payouts(db)
    ids, summaries = expected(db)
    assert result["released"] == len(rows) > 0
    assert result["events_published"] == len(ids) + 1 == result["blocked"] + 7 + 1  # 7 imports

    [summary] = events_named(prefect_api.api_url, "iop.summary.payout.released", started)
    payload = summary["payload"]
    assert payload["count"] == len(rows)
    assert (payload["first_audit_id"], payload["last_audit_id"]) == (rows[0].id, rows[-1].id)
    assert payload["as_of"] == PAYOUT_DAY.isoformat() and payload["days"] == ["2027-04-30"]
    assert payload["from"] == {"planned": len(rows)}
    agreements = sorted({r.agreement_id for r in rows})
    assert payload["agreements"] == payload["agreements_listed"] == len(agreements)
    assert [r["prefect.resource.id"] for r in summary["related"]] == [
        f"iop.agreement.{n}" for n in agreements
    ]
    assert {r["prefect.resource.role"] for r in summary["related"]} == {"agreement"}
    assert sum(payload["municipalities"].values()) == len(rows)

    # The example automation still fires on every blocked payout, as Prefect matches it.
    from prefect.server.events.schemas.automations import EventTrigger
    from prefect.server.events.schemas.events import ReceivedEvent

    trigger = EventTrigger.model_validate(yaml.safe_load(AUTOMATION.read_text())["trigger"])
    blocked = events_named(prefect_api.api_url, "iop.payout.blocked", started)
    assert len(blocked) == result["blocked"] > 0
    assert all(trigger.covers(ReceivedEvent.model_validate(e)) for e in blocked)
    assert not trigger.covers(ReceivedEvent.model_validate(summary))
    log.assert_clean()


def test_the_cursor_stays_while_the_server_is_unreachable_and_all_arrives_once_later(
    prefect_server: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = new_database(f"sqlite:///{tmp_path / 'iop.db'}")
    sweep_service(db, as_of=PAYOUT_DAY, now=now())
    payout_service(db, as_of=PAYOUT_DAY, now=now())
    ids, summaries = expected(db)
    before = ev.marks(db)
    log = ServerLog(prefect_server.log)

    with using_server(f"http://127.0.0.1:{free_port()}/api", monkeypatch):  # nobody there
        down = publish_events(db)
    assert (down.confirmed, down.unconfirmed) == (0, len(ids) + len(summaries))
    assert "did not answer" in down.problem and str(before.published) in down.warning()
    assert ev.marks(db) == before  # the cursor, and no note of anything sent

    with using_server(prefect_server.api_url, monkeypatch):
        up = publish_events(db)
        again = publish_events(db)
    assert (up.confirmed, up.unconfirmed, up.cursor) == (
        len(ids) + len(summaries),
        0,
        before.newest,
    )
    assert stored(prefect_server.api_url, ids) == len(ids)
    assert stored(prefect_server.api_url, [str(s.id) for s in summaries]) == len(summaries)
    assert (again.confirmed, again.unconfirmed) == (0, 0)
    log.assert_clean()


def test_events_the_server_drops_are_reported_and_go_out_with_the_next_publish(
    lossy_server: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    build(url, tmp_path, copies=30, times=100)  # 3,400 agreements
    db = Database(url)
    with using_server(lossy_server.api_url, monkeypatch), product_database(url, monkeypatch):
        state = payout_run(as_of=PAYOUT_DAY, return_state=True)
        result = state.result()
        ids, summaries = expected(db)
        everything = len(ids) + len(summaries)

        # The run completed, and said what the server has not stored.
        assert flow_run_state(flow_run_id(state)) == "COMPLETED"
        missing = result["events_unconfirmed"]
        assert missing > 0 and result["events_published"] + missing == everything
        warning = f"{missing} events not yet confirmed by the Prefect server, will be retried"
        logs = wait_for_log(flow_run_id(state), warning)
        assert any(log.message.startswith(warning) and log.level == 30 for log in logs)
        blocked = run_summary.payout_line(result, [])
        assert f"{missing} events not yet confirmed by the Prefect server" in blocked
        cursor = ev.marks(db).published
        assert cursor < ev.marks(db).newest
        assert stored(lossy_server.api_url, ids) >= result["events_published"] - len(summaries)

        # The server ignores an id it saw among its last 1,000 within 5 minutes (also when
        # it then dropped it): a publish an hour later is past that, here 1,000 other
        # events are (docs/events.md, "Sending again").
        filler = [
            {"id": str(uuid.uuid4()), "occurred": now().isoformat(), "event": "test.filler"}
            | {"resource": {"prefect.resource.id": "test.filler"}}
            for _ in range(1000)
        ]
        httpx.post(f"{lossy_server.api_url}/events", json=filler, timeout=60).raise_for_status()
        time.sleep(4)  # two of its writes: room in its memory again

        # What it has is not sent again; a window below its 1,000 gets the rest through.
        later = publish_events(db, chunk=500, window=500)
    assert (later.unconfirmed, later.cursor) == (0, ev.marks(db).newest), later
    assert later.confirmed >= everything - result["events_published"]
    assert stored(lossy_server.api_url, ids) == len(ids)
    text = lossy_server.log.read_text(errors="replace")
    assert "dropping event" in text  # it did drop events
    assert "Traceback" not in text and "IntegrityError" not in text, text[-4000:]
