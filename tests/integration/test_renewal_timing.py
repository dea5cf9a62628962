"""Renewal timing as the guideline words it (issue 11, item 4), as a user meets it.

The renewal dialogue is *recommended* in the first two months of the final year: an
officer may start it earlier, and the audit record says so. An agreement whose renewal
decision deadline falls before its window opens, or whose deadline passed without a
decision, shows it in `iop timeline` and gets one notice to the officer and their
manager (`renewal_deadline_missed`) instead of the ordinary renewal reminders.

Through the real `iop` (import, transition, audit, timeline, notify preview/list) and
the service layer's daily sweep, on SQLite and PostgreSQL. The agreements:

- OSN 2024/0087 (examples/mjolby.yaml): 2025-01-01 – 2027-12-31, window
  2027-01-01 – 2027-02-28, decision deadline 2027-09-30; officer Anna Berg, whose
  manager is Karin Lund;
- OSN 2026/0201 (below): 2027-06-01 – 2028-03-31, window 2028-01-01 – 2028-02-29,
  decision deadline 2027-12-31, before the window opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_runner import Run, run_iop
from test_cli_acceptance import EXAMPLES, transition_args

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.sweep import daily_sweep

RUNNING, SHORT = "OSN 2024/0087", "OSN 2026/0201"
ANNA, PER = "Anna Berg", "Per Sandberg"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
MISSED = "renewal_deadline_missed"
ORDINARY = {"renewal_window_open", "renewal_deadline_approaching"}

SHORT_AGREEMENT = """\
agreements:
  - diarienummer: OSN 2026/0201
    municipality: mjolby
    title: Kortare överenskommelse om stödsamtal
    purpose: Att våldsutsatta personer tidigt får stöd och rådgivning.
    target_group: Vuxna i Mjölby kommun som lever med våld i nära relation
    goals: Fler våldsutsatta söker stöd tidigare.
    values: Stödet är kostnadsfritt och frivilligt.
    indicators: [individkontakter, unika besökare]
    officer: Anna Berg
    period: {start: 2027-06-01, end: 2028-03-31}
    state: active
    parties: [{organisation: 802503-9176, share: 100}]
    criteria:
      - {criterion: initiative_from_organisation, verdict: met, motivation: "Jouren ansökte."}
      - {criterion: political_programme, verdict: met, motivation: "Ingår i handlingsplanen."}
      - {criterion: not_standard_grant, verdict: met, motivation: "Löpande verksamhet."}
      - {criterion: no_market, verdict: met, motivation: "Ingen marknad."}
      - {criterion: both_finance, verdict: met, motivation: "Jouren står för lokal."}
      - {criterion: not_detail_regulated, verdict: met, motivation: "Jouren utformar stödet."}
      - {criterion: local_development, verdict: met, motivation: "Samverkar med skolor."}
      - {criterion: independent_actor, verdict: met, motivation: "Självständig röst."}
      - {criterion: within_committee_scope, verdict: met, motivation: "Individ och familj."}
    economic_plan:
      support: {2027: "200 000", 2028: "100 000"}
      contributions:
        - {year: 2027, kind: volunteer_hours, hours: 400, value: 100000, description: Jourpass}
        - {year: 2028, kind: volunteer_hours, hours: 200, value: 50000, description: Jourpass}
      repayment_terms: Pro rata per dag.
      renewal_terms: Båda parter kan avstå från förnyelse utan skäl.
    decisions:
      - {kind: entry, body: Omsorgs- och socialnämnden, meeting_date: 2026-11-18,
         paragraph: "§ 140", outcome: approved, minutes_adjusted: 2026-11-20,
         recorded_by: Per Sandberg}
    signatures:
      - {party: municipality, signed_on: 2026-11-24, signed_by: Anna Berg}
      - {party: 802503-9176, signed_on: 2026-11-25, signed_by: Leila Haddad}
"""


class World:
    """One database (either backend) with examples/mjolby.yaml and the short agreement."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.db_file = url, folder / "iop.db"
        self.db = Database(url)

    def run(self, *args: str) -> Run:
        return run_iop(self.db_file, *args, url=self.url)

    def ok(self, *args: str) -> Run:
        run = self.run(*args)
        assert run.code == 0, str(run)
        return run

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def sweep(self, day: date) -> int:
        """The daily sweep of `day` (the service layer): how many notices it queued."""
        return daily_sweep(self.db, as_of=day, now=NOW).notifications

    def notices(self, ref: str) -> list[dict[str, Any]]:
        return [n for n in self.json("notify", "list") if n["diarienummer"] == ref]

    def renewal_notices(self, ref: str) -> list[dict[str, Any]]:
        return [n for n in self.notices(ref) if n["kind"].startswith("renewal")]

    def facts(self, ref: str, kind: str) -> list[dict[str, Any]]:
        n, a = t.notifications, t.agreements
        query = (
            sa.select(n.c.facts)
            .join(a, a.c.id == n.c.agreement_id)
            .where(a.c.diarienummer == ref, n.c.kind == kind)
        )
        with self.db.read() as session:
            return [dict(row.facts) for row in session.execute(query)]

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        found = {}
        with self.db.read() as session:
            for table in (t.agreements, t.audit_log, t.notifications):
                found[table.name] = sorted(
                    (tuple(row) for row in session.execute(sa.select(table))), key=repr
                )
        return found


@pytest.fixture
def world(backend_url: str, tmp_path: Path) -> Iterator[World]:
    found = World(backend_url, tmp_path)
    found.db.upgrade()  # in-process: a sandbox (tests/conftest.py), its trail verified after
    found.ok("import", str(EXAMPLES / "mjolby.yaml"))
    (tmp_path / "short.yaml").write_text(SHORT_AGREEMENT, encoding="utf-8")
    found.ok("import", str(tmp_path / "short.yaml"))
    yield found
    found.db.dispose()


def deadline_row(world: World, ref: str, as_of: str) -> dict[str, Any]:
    timeline = world.json("timeline", ref, "--as-of", as_of)
    (row,) = [r for r in timeline if r["kind"] == "renewal_decision_deadline"]
    return row


def preview_to(world: World, as_of: str, ref: str, subject: str) -> dict[str, dict[str, Any]]:
    """`iop notify preview`: the messages about `ref` with `subject` (pending reminders of
    other kinds are in the preview too), by the address they go to."""
    items = world.json("notify", "preview", "--as-of", as_of)
    wanted = f"{subject} ({ref})"
    return {item["to"]: item for item in items if item["subject"] == wanted}


# --- starting the dialogue early ------------------------------------------------------


def test_an_officer_starts_the_renewal_dialogue_before_the_window_and_the_audit_says_so(
    world: World,
) -> None:
    world.ok(*transition_args(RUNNING, "start_renewal", ANNA, "2026-12-01"))

    assert world.json("show", RUNNING)["state"] == "renewal"
    last = world.json("audit", RUNNING)[-1]
    assert (last["trigger"], last["from"], last["to"], last["actor"]) == (
        "start_renewal",
        "active",
        "renewal",
        ANNA,
    )
    assert last["data"]["note"] == "started before the recommended window, which opens 2027-01-01"
    assert last["data"]["window_opens"] == "2027-01-01"


def test_a_start_after_the_deadline_is_allowed_and_recorded_as_such(world: World) -> None:
    world.ok(*transition_args(RUNNING, "start_renewal", ANNA, "2027-10-04"))
    last = world.json("audit", RUNNING)[-1]
    assert last["data"]["note"] == "the renewal decision deadline 2027-09-30 has passed"


def test_the_dialogue_cannot_start_before_the_current_period(world: World) -> None:
    before = world.tables()
    run = world.run(*transition_args(SHORT, "start_renewal", ANNA, "2026-12-02"))
    assert run.code == 3, str(run)
    assert "the current period starts 2027-06-01" in run.err
    assert "recommended window opens 2028-01-01" in run.err
    assert world.tables() == before


def test_the_schedule_still_starts_the_dialogue_when_the_window_opens(world: World) -> None:
    world.sweep(date(2026, 12, 31))
    assert world.json("show", RUNNING)["state"] == "active"
    world.sweep(date(2027, 1, 1))
    assert world.json("show", RUNNING)["state"] == "renewal"
    last = world.json("audit", RUNNING)[-1]
    assert (last["trigger"], last["actor"], last["reason"]) == (
        "start_renewal",
        "system",
        "renewal window opened",
    )
    assert "note" not in last["data"]


# --- a deadline before the window -----------------------------------------------------


def test_a_short_agreement_shows_its_deadline_before_the_window_in_the_timeline(
    world: World,
) -> None:
    row = deadline_row(world, SHORT, "2026-12-02")
    assert row["due"] == "2027-12-31"
    assert row["status"] == "deadline_before_window"
    assert row["note"] == (
        "Sista dag för beslut om förnyelse (2027-12-31) infaller före det rekommenderade "
        "dialogfönstret (2028-01-01 – 2028-02-29): inled dialogen om förnyelse i god tid "
        "före 2027-12-31."
    )
    table = world.ok("timeline", SHORT, "--as-of", "2026-12-02").out
    assert "NOTE" in table.splitlines()[0]
    assert "deadline_before_window  renewal" in table
    # The ordinary agreement's deadline row has no such status.
    ordinary = deadline_row(world, RUNNING, "2026-12-02")
    assert (ordinary["status"], ordinary["note"]) == ("upcoming", None)


def test_a_short_agreement_gets_one_notice_to_officer_and_manager_and_no_reminders(
    world: World,
) -> None:
    # Every day an ordinary reminder would have come, and the window's opening.
    days = [date(2027, 10, 31), date(2027, 11, 1), date(2027, 12, 1), date(2027, 12, 17)]
    days += [date(2027, 12, 31), date(2028, 1, 1), date(2028, 2, 1), date(2028, 3, 31)]
    for day in days:
        world.sweep(day)

    (notice,) = world.renewal_notices(SHORT)
    assert notice["kind"] == MISSED and notice["stage"] == "missed"
    assert notice["subject_date"] == "2027-12-31"
    assert notice["recipients"] == ["officer", "manager"]
    assert not ORDINARY & {n["kind"] for n in world.notices(SHORT)}
    (facts,) = world.facts(SHORT, MISSED)
    assert facts["timing"] == "deadline_before_window"  # sent on 2027-11-01, in time


def test_the_short_agreements_notice_reads_in_swedish_to_officer_and_manager(
    world: World,
) -> None:
    world.sweep(date(2027, 11, 1))
    messages = preview_to(
        world, "2027-11-01", SHORT, "Beslut om förnyelse behövs före dialogfönstret"
    )

    assert set(messages) == {"anna.berg@mjolby.example", "karin.lund@mjolby.example"}
    officer, manager = messages["anna.berg@mjolby.example"], messages["karin.lund@mjolby.example"]
    assert (
        officer["subject"]
        == manager["subject"]
        == ("Beslut om förnyelse behövs före dialogfönstret (OSN 2026/0201)")
    )
    for item in (officer, manager):
        assert "Nämnden behöver besluta om förnyelse senast 31 december 2027." in item["body"]
        assert "(1 januari 2028 – 29 februari 2028)" in item["body"]
        assert "Överenskommelsen upphör: 31 mars 2028" in item["body"]
    assert "Inled dialogen om förnyelse med organisationen nu" in officer["body"]
    assert "Stäm av med Anna Berg att dialogen om förnyelse inleds nu" in manager["body"]
    assert "Ansvarig handläggare är Anna Berg." in manager["body"]


# --- a deadline passed without a decision -------------------------------------------


def test_a_deadline_passed_without_a_decision_gets_the_status_and_one_notice(
    world: World,
) -> None:
    # The ordinary reminders lead up to the deadline, as before.
    for day in (date(2027, 1, 1), date(2027, 8, 1), date(2027, 9, 16)):
        world.sweep(day)
    kinds = [n["kind"] for n in world.renewal_notices(RUNNING)]
    assert sorted(kinds) == sorted(
        ["renewal_window_open", "renewal_deadline_approaching", "renewal_deadline_approaching"]
    )
    assert deadline_row(world, RUNNING, "2027-09-30")["status"] == "upcoming"

    world.sweep(date(2027, 10, 1))

    row = deadline_row(world, RUNNING, "2027-10-01")
    assert row["status"] == "deadline_missed"
    assert row["note"] == (
        "Sista dag för beslut om förnyelse (2027-09-30) har passerat utan beslut; "
        "överenskommelsen löper ut 2027-12-31."
    )
    missed = [n for n in world.renewal_notices(RUNNING) if n["kind"] == MISSED]
    assert [(n["subject_date"], n["recipients"]) for n in missed] == [
        ("2027-09-30", ["officer", "manager"])
    ]
    messages = preview_to(
        world, "2027-10-01", RUNNING, "Sista dag för beslut om förnyelse har passerat"
    )
    assert set(messages) == {"anna.berg@mjolby.example", "karin.lund@mjolby.example"}
    for item in messages.values():
        assert item["subject"] == "Sista dag för beslut om förnyelse har passerat (OSN 2024/0087)"
        assert (
            "senast 30 september 2027, och inget beslut om förnyelse är registrerat"
            in (item["body"])
        )


def test_a_declined_renewal_gets_no_missed_deadline_notice(world: World) -> None:
    world.ok(*transition_args(RUNNING, "decline_renewal", PER, "2027-03-01"))
    world.sweep(date(2027, 10, 1))
    assert MISSED not in {n["kind"] for n in world.notices(RUNNING)}
    assert deadline_row(world, RUNNING, "2027-10-01")["status"] == "passed"


def test_rerunning_the_sweep_sends_nothing_twice(world: World) -> None:
    assert world.sweep(date(2027, 10, 1)) > 0
    before = world.tables()["notifications"]

    assert world.sweep(date(2027, 10, 1)) == 0
    for day in (date(2027, 10, 2), date(2027, 11, 1), date(2027, 11, 2), date(2028, 1, 1)):
        world.sweep(day)
        world.sweep(day)

    after = world.tables()["notifications"]
    assert all(row in after for row in before)  # none changed, none duplicated below
    for ref in (RUNNING, SHORT):
        assert [n["kind"] for n in world.notices(ref)].count(MISSED) == 1, ref
