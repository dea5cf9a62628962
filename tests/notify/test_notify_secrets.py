"""A configured secret appears nowhere: not in a log line, the database, the CLI's output
or the portfolio artifacts, on the failure paths (authentication refused, server down)
as well as on success."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import sqlalchemy as sa
from notify_support import ORGANISATION, REMINDER_DAY, ROOT, Mailbox, at, free_port

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.notify import deliver_pending, list_notifications
from iop_workflow.orchestration.artifacts import markdown
from iop_workflow.service.report import portfolio
from iop_workflow.service.sweep import daily_sweep

PASSWORD = "Hemlig/P@ss:w0rd-7Qx"  # '/', '@' and ':' would break a URL if not encoded
SIGNATURE = "sig-9f8e7d6c5b4a3921"
SECRETS = [s for v in (PASSWORD, SIGNATURE) for s in (v, quote(v, safe=""), quote_plus(v))]

CONFIG = """
version: 1
template:
  IOP_SMTP_PASSWORD:
  IOP_TEAMS_SIGNATURE:
urls:
  - "mailtos://iop:${{IOP_SMTP_PASSWORD}}@127.0.0.1:{smtp}?from=iop@example.com&verify=no":
      tag: email
  - "workflows://127.0.0.1:{closed}/IOPWORKFLOW/${{IOP_TEAMS_SIGNATURE}}?verify=no&image=no":
      tag: teams-mjolby
"""


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def _database_text(db: Database) -> str:
    with db.engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in t.metadata.sorted_tables
            for row in conn.execute(sa.select(table))
        )


def _cli(db: Database, config: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOP_")}
    env |= {
        "IOP_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "IOP_APPRISE_CONFIG": str(config),
        "IOP_SMTP_PASSWORD": PASSWORD,
        "IOP_TEAMS_SIGNATURE": SIGNATURE,
        "IOP_DEBUG": "1",  # an unexpected error would print its traceback: check that too
    }
    done = subprocess.run(
        [sys.executable, "-m", "iop_workflow.entrypoints.cli.notify_commands", "notify", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_configured_secret_appears_in_no_log_database_row_cli_output_or_artifact(
    db: Database,
    cert: tuple[Path, Path],
    configure: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    monkeypatch.setenv("IOP_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("IOP_TEAMS_SIGNATURE", SIGNATURE)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*cert)
    # STARTTLS and AUTH for real; the server first refuses every password.
    mailbox = Mailbox(free_port(), tls=tls, password="not-the-configured-one").start()
    text = CONFIG.format(smtp=mailbox.port, closed=free_port())
    settings = configure(text, notify_max_attempts=2)
    config = Path(str(settings.apprise_config))
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))
    try:
        refused = deliver_pending(db, now=at(REMINDER_DAY), settings=settings)
        mailbox.stop()
        down = deliver_pending(db, now=at(REMINDER_DAY, 12), settings=settings)
        mailbox.start()
        # New reminders for the CLI: the report is overdue the day after it was due.
        daily_sweep(db, as_of=date(2027, 4, 1), now=at(date(2027, 4, 1)))
        outputs = [
            _cli(db, config, "send"),
            _cli(db, config, "send", "--json"),
            _cli(db, config, "list"),
            _cli(db, config, "list", "--json", "--state", "failed"),
            _cli(db, config, "preview", "--as-of", "2027-04-02"),
            _cli(db, config, "preview", "--as-of", "2027-04-02", "--json"),
        ]
        mailbox.password = PASSWORD  # now the right one: it must arrive intact
        delivered = deliver_pending(db, now=at(date(2027, 4, 2)), settings=settings)
    finally:
        mailbox.stop()

    # The failure paths were taken, and the secret still went through where it should.
    # Three e-mails and two cards (the channel is closed throughout).
    assert refused.messages_failed == 5 and down.failed == 2
    assert any("Authentication credentials invalid" in e for e in refused.errors)
    assert any("Connection error" in e for e in down.errors)
    assert "0 sent" in outputs[0] and "failed:" in outputs[0]
    # The server accepts only the configured password: these arrived with it, decoded.
    assert delivered.messages_sent == len(mailbox.received) == 2
    assert ORGANISATION in {r for m in mailbox.received for r in m.rcpt_tos}
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "Socket Exception" in logged  # apprise's debug lines were captured

    assert _leaks(logged) == []
    assert _leaks(_database_text(db)) == []
    for output in outputs:
        assert _leaks(output) == [], output
    report = portfolio(db, REMINDER_DAY)
    assert report.scopes["overall"].failed_notifications  # the artifact lists the failures
    for scope in report.scopes.values():
        assert _leaks(markdown(report, scope)) == []
    assert all(_leaks(str(row)) == [] for row in list_notifications(db))


def test_the_teams_signature_is_redacted_from_its_error_message(
    db: Database, configure: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOP_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("IOP_TEAMS_SIGNATURE", SIGNATURE)
    settings = configure(CONFIG.format(smtp=free_port(), closed=free_port()))
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    report = deliver_pending(db, now=at(REMINDER_DAY), settings=settings)
    later = deliver_pending(db, now=at(REMINDER_DAY) + timedelta(hours=1), settings=settings)

    teams = [e for e in report.errors + later.errors if e.startswith("teams ")]
    assert teams and all(_leaks(e) == [] for e in teams)
    assert _leaks(_database_text(db)) == []
