"""SMTP down during a scheduled flow, then back: real Prefect server, real SMTP server.

The acceptance item: the flow still completes its other work, reports the failure where
an officer looks (the run's log and a `notification-delivery` artifact), keeps the rows
pending; once SMTP is back the next run delivers each message exactly once, and a run
after that sends nothing more. The apprise file points its e-mail entry at a loopback
port where nothing listens, with a password filled in from the environment, which must
then appear in no artifact, log line or summary.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus
from uuid import UUID

import pytest
import sqlalchemy as sa
from flow_support import (
    RUNNING_MJOLBY,
    artifacts_of,
    flow_run_id,
    flow_run_state,
    free_port,
    new_database,
    product_database,
    wait_for_log,
)

from flows.daily_sweep import daily_sweep
from flows.payout_run import payout_run
from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.notify import DeliveryReport, list_notifications
from iop_workflow.orchestration.delivery_report import KEY, markdown, warning

# The SMTP server of the notification tests (aiosmtpd), whichever folders pytest collects.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notify"))
from notify_support import OFFICER, ORGANISATION, Mailbox, self_signed  # noqa: E402

SWEEP_DAY = date(2027, 3, 1)  # 30 days before OSN 2024/0087's 2026 report is due
PAYOUT_DAY = date(2027, 4, 30)  # its 2027 payout is blocked: follow-up 2026 overdue
PASSWORD = "Fl0w/Smtp@Pass:9Kz"  # '/', '@' and ':' must be percent-encoded into the URL
SECRETS = [PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD)]
CONFIG = """
version: 1
template:
  IOP_SMTP_PASSWORD:
urls:
  - "mailtos://iop:${{IOP_SMTP_PASSWORD}}@127.0.0.1:{port}?from=iop@example.com&verify=no":
      tag: email
"""
# What the sweep of SWEEP_DAY queues, as the recipients read it.
SWEEP_MESSAGES = {
    (
        ORGANISATION,
        f"Påminnelse: verksamhetsrapporten för 2026 ska lämnas senast 31 mars 2027 "
        f"({RUNNING_MJOLBY})",
    ),
    (ORGANISATION, f"Dags för dialog om förnyelse ({RUNNING_MJOLBY})"),
    (OFFICER, f"Dags för dialog om förnyelse ({RUNNING_MJOLBY})"),
}
REFUSED = "Connection error"  # apprise's reason when nothing listens on the port
WARNING = 30


@dataclass
class Run:
    """One flow run as the dashboard shows it."""

    id: UUID
    state: str
    summary: dict[str, Any]
    artifacts: dict[str, str]  # key -> markdown
    logs: list[Any]

    @property
    def warnings(self) -> list[str]:
        return [log.message for log in self.logs if log.level >= WARNING]

    def text(self) -> str:
        """Everything an operator can read about the run."""
        return "\n".join(
            [json.dumps(self.summary, ensure_ascii=False), *self.artifacts.values()]
            + [log.message for log in self.logs]
        )


@dataclass
class Setting:
    db: Database
    port: int  # SMTP: closed until `smtp_back` starts a server on it
    tls: ssl.SSLContext

    def smtp_back(self) -> Mailbox:
        """STARTTLS and AUTH as in production; only the configured password is accepted."""
        return Mailbox(self.port, tls=self.tls, password=PASSWORD).start()


@pytest.fixture
def setting(prefect_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setting]:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    db = new_database(url)
    port = free_port()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*self_signed(tmp_path))
    config = tmp_path / "apprise.yaml"
    config.write_text(CONFIG.format(port=port), encoding="utf-8")
    monkeypatch.setenv("IOP_APPRISE_CONFIG", str(config))
    monkeypatch.setenv("IOP_SMTP_PASSWORD", PASSWORD)
    # The smallest backoff the settings allow: the retry is due a second later.
    monkeypatch.setenv("IOP_NOTIFY_BACKOFF_SECONDS", "1")
    with product_database(url, monkeypatch):  # also re-reads the IOP_ settings
        yield Setting(db, port, tls)
    db.dispose()


def run(flow: Callable[..., Any], day: date, done_marker: str) -> Run:
    state = flow(as_of=day, return_state=True)
    run_id = flow_run_id(state)
    # The flow's own closing log line comes last: once it is stored, so are the task's.
    logs = wait_for_log(run_id, done_marker)
    assert any(done_marker in log.message for log in logs), [log.message for log in logs]
    artifacts = {key: str(a.data) for key, a in artifacts_of(run_id).items()}
    return Run(run_id, flow_run_state(run_id), state.result(), artifacts, logs)


def wait_until_retry_is_due(db: Database) -> None:
    pending = [r["next_attempt_at"] for r in list_notifications(db, "pending")]
    assert pending and None not in pending
    latest = max(datetime.fromisoformat(at) for at in pending)
    time.sleep(max(0.0, (latest - datetime.now(tz=UTC)).total_seconds()) + 0.05)


def received(box: Mailbox) -> Counter[tuple[str, str]]:
    return Counter((to, message.subject) for message in box.received for to in message.rcpt_tos)


def audited(db: Database, *triggers: str) -> Counter[str]:
    a = t.audit_log
    with db.read() as session:
        query = sa.select(a.c.trigger).where(a.c.trigger.in_(triggers))
        return Counter(session.scalars(query))


def assert_failure_reported(down: Run, *, messages: int, rows: int) -> None:
    delivery = down.summary["notifications"]
    assert (delivery["messages_failed"], delivery["messages_sent"]) == (messages, 0)
    assert (delivery["retrying"], delivery["sent"], delivery["failed"]) == (rows, 0, 0)
    assert len(delivery["errors"]) == messages
    assert all(REFUSED in error for error in delivery["errors"]), delivery["errors"]

    # The officer sees it in the run's log, as a warning with the counts and reasons.
    found = [w for w in down.warnings if "notifications not delivered" in w]
    assert len(found) == 1, down.warnings
    logged = found[0]
    assert f"{rows} retrying" in logged and f"{messages} failed)" in logged
    assert REFUSED in logged and ORGANISATION in logged

    artifact = down.artifacts[KEY]
    assert "Some notifications were not delivered" in artifact
    assert f"| retrying | {rows} |" in artifact and "| sent | 0 |" in artifact
    assert f"## Errors ({messages})" in artifact
    assert artifact.count(REFUSED) == messages and ORGANISATION in artifact


def assert_rows_wait_for_retry(db: Database, count: int) -> None:
    rows = list_notifications(db)
    assert len(rows) == count
    for row in rows:
        assert (row["state"], row["attempts"], row["delivered_to"]) == ("pending", 1, [])
        assert REFUSED in (row["last_error"] or ""), row
        assert row["next_attempt_at"] is not None


def assert_delivered_once(back: Run, db: Database, count: int) -> None:
    assert back.state == "COMPLETED"
    delivery = back.summary["notifications"]
    assert (delivery["sent"], delivery["retrying"], delivery["messages_failed"]) == (count, 0, 0)
    assert delivery["errors"] == [] and back.warnings == []
    artifact = back.artifacts[KEY]
    assert f"| sent | {count} |" in artifact and "## Errors" not in artifact
    assert [(r["state"], r["attempts"]) for r in list_notifications(db)] == [("sent", 2)] * count


def assert_no_secret(*runs: Run) -> None:
    for r in runs:
        leaked = [secret for secret in SECRETS if secret in r.text()]
        assert leaked == [], f"run {r.id} shows the SMTP password"


def test_smtp_down_the_sweep_completes_reports_and_the_next_run_delivers_each_once(
    setting: Setting,
) -> None:
    db, marker = setting.db, "daily sweep 2027-03-01"

    down = run(daily_sweep, SWEEP_DAY, marker)

    assert down.state == "COMPLETED"
    # The sweep's own work is done and announced, whatever became of the e-mails.
    assert down.summary["changes"] == {"open_follow_up": 2, "start_renewal": 1}
    assert audited(db, "open_follow_up", "start_renewal") == Counter(
        open_follow_up=2, start_renewal=1
    )
    assert down.summary["events_published"] >= 3
    assert down.summary["notifications_queued"] == 2
    assert_failure_reported(down, messages=len(SWEEP_MESSAGES), rows=2)
    assert_rows_wait_for_retry(db, 2)

    wait_until_retry_is_due(db)
    box = setting.smtp_back()
    try:
        back = run(daily_sweep, SWEEP_DAY, marker)
        again = run(daily_sweep, SWEEP_DAY, marker)
    finally:
        box.stop()

    assert received(box) == Counter(dict.fromkeys(SWEEP_MESSAGES, 1))
    assert back.summary["changes"] == {}  # the sweep's work was not done twice either
    assert_delivered_once(back, db, 2)
    assert again.state == "COMPLETED"
    assert again.summary["notifications"]["claimed"] == 0
    assert KEY not in again.artifacts  # the dashboard keeps showing the recovery
    assert_no_secret(down, back, again)


def test_smtp_down_the_payout_run_still_blocks_and_reports_then_delivers_each_once(
    setting: Setting,
) -> None:
    db, marker = setting.db, "payout run 2027-04-30"

    down = run(payout_run, PAYOUT_DAY, marker)

    assert down.state == "COMPLETED"
    assert down.summary["blocked"] == 3 and down.summary["events_published"] >= 3
    assert any(RUNNING_MJOLBY in reason for reason in down.summary["blocked_reasons"])
    p = t.payouts
    with db.read() as session:
        blocked = session.execute(
            sa.select(sa.func.count()).select_from(p).where(p.c.state == "blocked")
        ).scalar_one()
    assert blocked == 3
    rows = down.summary["notifications_queued"]
    messages = down.summary["notifications"]["messages_failed"]
    assert rows > 0 and messages >= rows
    assert_failure_reported(down, messages=messages, rows=rows)
    assert_rows_wait_for_retry(db, rows)

    wait_until_retry_is_due(db)
    box = setting.smtp_back()
    try:
        back = run(payout_run, PAYOUT_DAY, marker)
        again = run(payout_run, PAYOUT_DAY, marker)
    finally:
        box.stop()

    # Each message that failed arrives now, once; the officer is among the recipients.
    arrived = received(box)
    assert sum(arrived.values()) == messages and set(arrived.values()) == {1}
    assert OFFICER in {to for to, _ in arrived}
    assert back.summary["blocked"] == 0  # already blocked: nothing decided twice
    assert_delivered_once(back, db, rows)
    assert again.summary["notifications"]["claimed"] == 0 and KEY not in again.artifacts
    assert_no_secret(down, back, again)


def test_a_long_outage_stays_readable_in_the_artifact_and_the_log_line() -> None:
    # A day's worth of rows during an outage; a server answer with markdown in it.
    errors = [f"email person{n}@mjolby.example: 550 <denied> | retry *later*" for n in range(60)]
    report = DeliveryReport(configured=True, claimed=60, retrying=60, messages_failed=60)
    report.errors = errors
    report.problems = ["no e-mail address for Karin Lund (manager of Anna Berg)"]

    text = markdown(report, now=datetime(2027, 3, 1, 5, 0, tzinfo=UTC))
    line = warning(report)

    assert text.startswith("# Notification delivery — 2027-03-01 06:00:00 CET\n")
    assert "| retrying | 60 |" in text and "| failed | 60 |" in text
    assert "## Errors (60)" in text and "- … and 10 more" in text
    assert "person49@" in text and "person50@" not in text
    # Escaped: the server's words cannot open a table cell or an HTML tag.
    assert "550 \\<denied\\> \\| retry \\*later\\*" in text
    assert "<denied>" not in text
    assert "## Recipients without an address (1)" in text and "Karin Lund" in text
    assert "60 retrying" in line and "person4@" in line and "person5@" not in line
    assert "and 56 more (artifact notification-delivery)" in line
