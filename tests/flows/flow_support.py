"""What the flow tests share: example data, walks, table dumps, Prefect read-backs."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
import yaml
from audit_check import assert_audit_intact as assert_audit_intact  # for the flow tests

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.importer import import_file
from iop_workflow.service.steps import transition

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {name: ROOT / "examples" / f"{name}.yaml" for name in ("mjolby", "kramfors")}

DEMO = "OSN 2026/0142"  # examples/mjolby.yaml: in dialogue, 2027-01-01 → 2031-12-31
RUNNING_MJOLBY = "OSN 2024/0087"  # active since 2025, follow-up 2026 not yet submitted
RUNNING_KRAMFORS = "VFN 2025/0031"
ANNA, PER, SVEN = "Anna Berg", "Per Sandberg", "Sven Ek"
DOCUMENT_KINDS = ("income_statement", "balance_sheet", "activity_report", "statistics")
STATISTICS = {
    "statistics.individkontakter": "412",
    "statistics.unika besökare": "97",
    "statistics.informationstillfällen": "12",
}

# The demo agreement from dialogue to active, as an officer would walk it.
ACTIVATION: list[tuple[str, str, str, dict[str, Any]]] = [
    ("propose_plan", ANNA, "2026-11-23", {}),
    ("submit_for_decision", ANNA, "2026-11-24", {}),
    ("approve_decision", PER, "2026-12-15", {"meeting_date": "2026-12-10", "paragraph": "§ 201"}),
    ("sign", ANNA, "2026-12-16", {}),
    ("sign", SVEN, "2026-12-17", {}),
    ("activate", ANNA, "2026-12-18", {}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def now() -> datetime:
    return datetime.now(tz=UTC)


def import_examples(db: Database) -> None:
    for path in EXAMPLES.values():
        import_file(db, str(path), now=now())


def new_database(url: str, *, examples: bool = True) -> Database:
    """Migrated, with the examples; `assert_audit_intact(db)` checks its audit chain."""
    db = Database(url)
    db.upgrade()
    db.mark_sandbox("tests: days of years to come")
    if examples:
        import_examples(db)
    return db


@contextmanager
def product_database(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The flows (which read IOP_DATABASE_URL) use `url` inside the block."""
    from iop_workflow.config import get_settings

    with monkeypatch.context() as patch:
        patch.setenv("IOP_DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


@contextmanager
def using_server(api_url: str, patch: pytest.MonkeyPatch) -> Iterator[None]:
    """Flow runs and clients (and subprocesses, through the environment) use `api_url`."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    patch.setenv("PREFECT_API_URL", api_url)
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


def step(db: Database, trigger: str, actor: str, day: date | str, **data: Any) -> Any:
    today = day if isinstance(day, date) else date.fromisoformat(day)
    return transition(db, DEMO, trigger, actor_name=actor, data=data, today=today, now=now())


def activate_demo(db: Database) -> int:
    """OSN 2026/0142 walked to active; returns its agreement id."""
    result = None
    for trigger, actor, day, data in ACTIVATION:
        result = step(db, trigger, actor, day, **data)
    assert result is not None and result.state == "active"
    return int(result.agreement_id)


def follow_up_state(db: Database, agreement_id: int, year: int) -> str | None:
    f = t.follow_ups
    with db.read() as session:
        return session.execute(
            sa.select(f.c.state).where(f.c.agreement_id == agreement_id, f.c.year == year)
        ).scalar_one_or_none()


def approve_follow_up(db: Database, agreement_id: int, year: int, day: date) -> Any:
    """Open (when the sweep has not), receive every document, submit and approve the
    demo agreement's follow-up of `year`; returns the approving step's result."""
    if follow_up_state(db, agreement_id, year) == "planned":
        step(db, "open_follow_up", ANNA, day, year=year)
    for kind in DOCUMENT_KINDS:
        step(db, "receive_document", SVEN, day, year=year, kind=kind)
    step(db, "submit_report", SVEN, day, year=year, **STATISTICS)
    return step(db, "approve_follow_up", ANNA, day, year=year)


def table_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            table.name: session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    with db.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in t.metadata.sorted_tables
        }


def bulk_copies_yaml(
    path: Path, count: int, *, of: str = RUNNING_MJOLBY, paid_through: str | None = "as is"
) -> Path:
    """An import file with `count` copies of an example agreement (new diarienummer each),
    referring to the organisation and people already imported with the examples.

    `paid_through=None` drops `payouts_released_through`: every instalment is unpaid."""
    source = yaml.safe_load(EXAMPLES["mjolby"].read_text(encoding="utf-8"))
    template = next(a for a in source["agreements"] if a["diarienummer"] == of)
    agreements = []
    for n in range(count):
        copy = json.loads(json.dumps(template, default=str))
        copy["diarienummer"] = f"OSN 2025/{5000 + n:04d}"
        copy["title"] = f"{template['title']} ({n + 1})"
        if paid_through is None:
            copy.pop("payouts_released_through", None)
        agreements.append(copy)
    path.write_text(yaml.safe_dump({"agreements": agreements}, allow_unicode=True), "utf-8")
    return path


# --- Prefect read-backs -----------------------------------------------------------------


def flow_run_id(state: Any) -> UUID:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return UUID(str(run_id))


def artifacts_of(run_id: UUID) -> dict[str, Any]:
    """The artifacts a flow run created, by key: in its tasks and in the flow itself.

    Posted without task-run and flow-run filters: the client's `read_artifacts` sends
    them (the server refuses them as null), and a task-run filter, even an empty one,
    leaves out the artifacts a flow creates outside any task (`daily-sweep-summary`)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import Artifact

    body = {
        "artifacts": {"flow_run_id": {"any_": [str(run_id)]}},
        "sort": "CREATED_DESC",
        "limit": 200,
        "offset": 0,
    }
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=body)
    response.raise_for_status()
    found = Artifact.model_validate_list(response.json())
    return {a.key: a for a in found if a.key}


def task_run_names(run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
    return [run.name for run in runs]


def flow_run_state(run_id: UUID) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    assert run.state is not None
    return str(run.state.type.value)


def read_events(
    api_url: str, *, since: datetime, names: list[str], resource_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """Events stored by the server (POST /events/filter), oldest first."""
    query: dict[str, Any] = {
        "occurred": {"since": since.isoformat(), "until": now().isoformat()},
        "event": {"name": names},
    }
    if resource_ids is not None:
        query["resource"] = {"id": resource_ids}
    request = urllib.request.Request(
        f"{api_url}/events/filter",
        data=json.dumps({"filter": query, "limit": 50}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        events: list[dict[str, Any]] = json.load(response)["events"]
    return sorted(events, key=lambda e: e["occurred"])


def wait_for_events(
    api_url: str,
    *,
    since: datetime,
    names: list[str],
    resource_ids: list[str] | None = None,
    at_least: int = 1,
    timeout: float = 20,
) -> list[dict[str, Any]]:
    """Events reach the server asynchronously (a websocket worker): poll for them."""
    deadline = time.monotonic() + timeout
    while True:
        events = read_events(api_url, since=since, names=names, resource_ids=resource_ids)
        if len(events) >= at_least or time.monotonic() > deadline:
            return events
        time.sleep(0.5)


def logs_of(run_id: UUID) -> list[Any]:
    """The log records of a flow run (its tasks' included), oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    with get_client(sync_client=True) as client:
        return list(
            client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
                sort=LogSort.TIMESTAMP_ASC,
                limit=200,
                offset=0,
            )
        )


def wait_for_log(run_id: UUID, containing: str, *, timeout: float = 20) -> list[Any]:
    """A flow run's logs once one contains `containing` (they are sent in batches by a
    background worker); all of them, whether it came or not."""
    deadline = time.monotonic() + timeout
    while True:
        logs = logs_of(run_id)
        if any(containing in log.message for log in logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.2)
