"""The personal calendar feed a calendar program subscribes to: the person's own
deadlines as all-day events with stable UIDs, a cancelled deadline sent as cancelled,
and an address that stops working when revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar
from web_app import ANNA, DAY, JOHAN, LEILA, REF, agreement_id, now, prepared_app

from iop_workflow.bootstrap import App
from iop_workflow.domain.errors import NotFound
from iop_workflow.service.deadline_feed import GONE, create_feed, feed_for_secret, revoke_feeds
from iop_workflow.service.steps import transition


@pytest.fixture
def product(tmp_path: Path) -> App:
    return prepared_app(tmp_path)


def events(app: App, secret: str) -> dict[str, dict[str, str]]:
    feed = feed_for_secret(app.database, secret, today=DAY, base_url="https://iop.example.se")
    calendar = Calendar.from_ical(feed)
    assert "IOP-frister" in str(calendar["x-wr-calname"])
    return {
        str(e["uid"]): {
            "summary": str(e["summary"]),
            "status": str(e["status"]),
            "start": e["dtstart"].dt,
            "end": e["dtend"].dt,
            "url": str(e["url"]),
        }
        for e in calendar.walk("VEVENT")
    }


def test_an_officers_feed_holds_their_deadlines_as_stable_all_day_events(product: App) -> None:
    secret = create_feed(product.database, ANNA, now=now())
    first, again = events(product, secret), events(product, secret)
    assert first == again and first
    ref = agreement_id(product.database)
    opens = first[f"{ref}-follow_up_opens-2027@iop-workflow"]
    assert opens["summary"] == f"Uppföljningen 2027 öppnar – {REF}"
    assert (opens["end"] - opens["start"]).days == 1 and not hasattr(opens["start"], "hour")
    assert opens["url"] == f"https://iop.example.se/agreements/{ref}"  # the page, as reminders link
    assert all(e["summary"].endswith(("OSN 2024/0087", "OSN 2026/0142")) for e in first.values())
    johan = events(product, create_feed(product.database, JOHAN, now=now()))
    assert johan and not any(REF in e["summary"] for e in johan.values())


def test_the_organisation_gets_its_report_deadlines(product: App) -> None:
    found = events(product, create_feed(product.database, LEILA, now=now()))
    ref = agreement_id(product.database)
    assert found[f"{ref}-report_due-2027@iop-workflow"]["summary"] == (
        f"Årsrapport 2027 ska lämnas – {REF}"
    )


def test_a_terminated_agreements_follow_up_is_sent_as_cancelled_with_the_same_uid(
    product: App,
) -> None:
    secret = create_feed(product.database, ANNA, now=now())
    ref = agreement_id(product.database)
    uid = f"{ref}-follow_up_opens-2027@iop-workflow"
    assert events(product, secret)[uid]["status"] == "CONFIRMED"
    transition(
        product.database,
        REF,
        "terminate",
        actor_name=ANNA,
        data={"date": "2027-04-30", "reason": "Verksamheten har upphört"},
        today=DAY,
        now=now(),
        clock=product.clock,
    )
    after = events(product, secret)
    cancelled = {u: e for u, e in after.items() if e["status"] == "CANCELLED"}
    assert cancelled, after
    assert all(u.startswith(f"{ref}-") for u in cancelled)


def test_a_revoked_address_answers_like_an_unknown_one(product: App) -> None:
    old = create_feed(product.database, ANNA, now=now())
    new = create_feed(product.database, ANNA, now=now())  # the new address revokes the old
    assert events(product, new)
    for secret in (old, "not-a-secret"):
        with pytest.raises(NotFound, match=GONE):
            feed_for_secret(product.database, secret, today=DAY)
    assert revoke_feeds(product.database, ANNA, now=now()) == 1
    with pytest.raises(NotFound, match=GONE):
        feed_for_secret(product.database, new, today=DAY)
