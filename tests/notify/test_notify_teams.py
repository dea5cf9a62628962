"""Microsoft Teams through Power Automate Workflows: a local HTTPS endpoint (self-signed
certificate, `verify=no`) receives the Adaptive Card that apprise builds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from notify_support import BASE_URL, DNR, OFFICER, ORGANISATION, REMINDER_DAY, Mailbox, at
from notify_support import TeamsEndpoint as Teams

from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.notify import deliver_pending, list_notifications
from iop_workflow.service.sweep import daily_sweep

# The endpoint has a self-signed certificate: `verify=no` is the point of these tests.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def _config(mailbox: Mailbox, teams: Teams) -> str:
    return f"""
version: 1
urls:
  - "mailto://127.0.0.1:{mailbox.port}?from=iop@example.com":
      tag: email
  - "workflows://127.0.0.1:{teams.port}/IOPWORKFLOW/SIGNATUR123?verify=no&image=no":
      tag: teams-mjolby, teams-officers
  - "workflows://127.0.0.1:{teams.port}/KRAMFORS/SIGNATUR456?verify=no&image=no":
      tag: teams-kramfors
"""


def test_the_officers_channel_gets_an_adaptive_card_in_swedish(
    db: Database, mailbox: Mailbox, teams: Teams, configure: Callable[..., Settings]
) -> None:
    settings = configure(_config(mailbox, teams))
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    report = deliver_pending(db, now=at(REMINDER_DAY), settings=settings)

    assert report.messages_failed == 0
    # Only the renewal notice addresses the officer; the report reminder is for the
    # organisation alone, and the Kramfors channel hears nothing about Mjölby.
    [(path, payload)] = teams.posts
    assert path.startswith("/workflows/IOPWORKFLOW/triggers/manual/paths/invoke?")
    assert "sig=SIGNATUR123" in path
    assert payload["type"] == "message"
    attachment = payload["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [block["type"] for block in card["body"]] == ["TextBlock", "TextBlock"]  # no image
    title, body = card["body"][0]["text"], card["body"][1]["text"]
    assert title == f"Dags för dialog om förnyelse ({DNR})"
    assert f"Diarienummer: {DNR}" in body
    assert "Överenskommelse: Stödsamtal och rådgivning för våldsutsatta" in body
    assert "Organisation: Samtalsjouren Svartån" in body
    assert "Beslut om förnyelse senast: 30 september 2027" in body
    assert "Boka ett dialogmöte med organisationen" in body
    assert f"{BASE_URL}/agreements/" in body
    assert "Hej!" not in body  # a channel is not greeted like a person
    delivered = {r["kind"]: r["delivered_to"] for r in list_notifications(db)}
    assert delivered["renewal_window_open"][0] == f"email:{OFFICER}"
    assert delivered["renewal_window_open"][2].startswith("teams:teams-mjolby,teams-officers#")
    assert delivered["report_due_soon"] == [f"email:{ORGANISATION}"]


def test_a_retry_sends_only_to_the_target_that_failed(
    db: Database, mailbox: Mailbox, teams: Teams, configure: Callable[..., Settings]
) -> None:
    settings = configure(_config(mailbox, teams))
    teams.fail_first = 1  # the workflow answers 500 once
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    first = deliver_pending(db, now=at(REMINDER_DAY), settings=settings)
    retry = deliver_pending(db, now=at(REMINDER_DAY) + timedelta(hours=1), settings=settings)

    assert (first.sent, first.retrying, first.messages_sent, first.messages_failed) == (1, 1, 3, 1)
    [error] = first.errors
    assert error.startswith("teams teams-mjolby,teams-officers#")
    assert "Internal server error., error=500" in error
    assert (retry.claimed, retry.sent, retry.messages_sent) == (1, 1, 1)
    assert len(teams.posts) == 1
    # The e-mails of the first run were not sent again.
    assert sorted(r for m in mailbox.received for r in m.rcpt_tos) == sorted(
        [ORGANISATION, ORGANISATION, OFFICER]
    )
    assert {(r["state"], r["attempts"]) for r in list_notifications(db)} == {
        ("sent", 1),
        ("sent", 2),
    }
