"""Issue 11 item 3: the forum is recorded.

Kramfors holds the dialogue and the follow-up's review in Seniorrådet (the preset's
`dialogue_forum`): `start_dialogue` and `approve_follow_up` record where and when the
meeting was held (`forum`, `meeting_on`, `minutes_ref`) and are refused without its
date; `iop show` and `iop audit` show it. Mjölby names no forum: the meeting is
optional there and recorded when given. The import replays the same steps, so a
Kramfors agreement past dialogue needs its dialogue meeting in the file, and an
approved follow-up its review meeting.

The CLI tests run `iop` as a subprocess on a copy of a SQLite database holding both
example files and two initiatives ready for dialogue (one per municipality); the
service-layer tests run on both backends.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_cli_acceptance import EXAMPLE_STATISTICS, EXAMPLES, Cli, copy_database, transition_args

from iop_workflow.adapters.db import Database
from iop_workflow.domain.errors import GuardRefused, InvalidInput
from iop_workflow.service.importer import import_file
from iop_workflow.service.steps import transition
from iop_workflow.service.views import agreement_audit, show

KRAMFORS_NEW = "VFN 2026/0120"  # imported below: a Kramfors initiative ready for dialogue
MJOLBY_NEW = "OSN 2026/0320"  # the same for Mjölby
KRAMFORS_RUNNING = "VFN 2025/0031"  # examples/kramfors.yaml, active, follow-up 2025 approved
MJOLBY_RUNNING = "OSN 2024/0087"  # examples/mjolby.yaml, active
JOHAN, GUNNEL = "Johan Nordin", "Gunnel Åström"  # Kramfors officer; representative
ANNA, LEILA = "Anna Berg", "Leila Haddad"  # Mjölby officer; representative
EXIT_USAGE, EXIT_REFUSED = 2, 3

KRAMFORS_STATISTICS = (
    "statistics.besök=2300",
    "statistics.unika deltagare=190",
    "statistics.digitala hjälptillfällen=260",
)
DOCUMENT_KINDS = ("income_statement", "balance_sheet", "activity_report", "statistics")
MEETING_TEXT = "in Seniorrådet 2026-11-18, minutes SR 2026/7 § 2"
REFUSAL = (
    "error: refused: step 'start_dialogue' refused: Kramfors kommun holds the dialogue in "
    "Seniorrådet: the date of its meeting (meeting_on) is required"
)


def _criteria(keys: list[str]) -> str:
    return "\n".join(
        f"      - {{criterion: {k}, verdict: met, motivation: Bedömt i dialogen.}}" for k in keys
    )


KRAMFORS_CRITERIA = [
    "initiative_from_organisation",
    "shared_need",
    "not_other_grant",
    "no_market",
    "not_detail_regulated",
    "not_purchase",
]
MJOLBY_CRITERIA = [
    "initiative_from_organisation",
    "political_programme",
    "not_standard_grant",
    "no_market",
    "both_finance",
    "not_detail_regulated",
    "local_development",
    "independent_actor",
    "within_committee_scope",
]

# Two initiatives whose organisations (registered) and officers are already stored.
INITIATIVES = f"""\
agreements:
  - diarienummer: {KRAMFORS_NEW}
    municipality: kramfors
    title: Promenadgrupper för seniorer i Gudmundrå
    officer: {JOHAN}
    period: {{start: 2027-04-01, end: 2029-03-31}}
    parties: [{{organisation: 802529-4367}}]
    criteria:
{_criteria(KRAMFORS_CRITERIA)}
  - diarienummer: {MJOLBY_NEW}
    municipality: mjolby
    title: Samtalsgrupper på Öppna Dörren
    officer: {ANNA}
    period: {{start: 2027-04-01, end: 2029-03-31}}
    parties: [{{organisation: 802471-3052}}]
    criteria:
{_criteria(MJOLBY_CRITERIA)}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forum")
    cli = Cli(folder / "iop.db")
    cli.ok("db", "upgrade")
    for name in ("mjolby.yaml", "kramfors.yaml"):
        cli.ok("import", str(EXAMPLES / name))
    cli.ok("import", str(_write(folder, "initiatives.yaml", INITIATIVES)))
    return folder / "iop.db"


@pytest.fixture
def cli(prepared: Path, tmp_path: Path) -> Cli:
    copy_database(prepared, tmp_path / "iop.db")
    return Cli(tmp_path / "iop.db")


def dialogue(ref: str, actor: str, *sets: str) -> list[str]:
    return transition_args(ref, "start_dialogue", actor, "2026-11-20", *sets)


def submitted(cli: Cli, ref: str, officer: str, rep: str, statistics: tuple[str, ...]) -> None:
    """Open the follow-up of 2026 and have its report submitted on 2027-03-02."""
    cli.step(ref, "open_follow_up", officer, "2027-03-01", "year=2026")
    for kind in DOCUMENT_KINDS:
        cli.step(ref, "receive_document", rep, "2027-03-02", "year=2026", f"kind={kind}")
    cli.step(ref, "submit_report", rep, "2027-03-02", "year=2026", *statistics)


def approve(ref: str, actor: str, *sets: str) -> list[str]:
    return transition_args(ref, "approve_follow_up", actor, "2027-03-10", "year=2026", *sets)


def follow_up_of(view: dict[str, Any], year: int) -> dict[str, Any]:
    return next(f for f in view["follow_ups"] if f["year"] == year)


# --- the dialogue (CLI) -------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [(), ("minutes_ref=SR 2026/7 § 2",), ("forum=Seniorrådet", "reason=Dialogen inleds")],
    ids=["nothing", "only-minutes", "only-forum"],
)
def test_kramfors_cannot_start_the_dialogue_without_the_meeting(
    cli: Cli, given: tuple[str, ...]
) -> None:
    before = cli.tables()

    run = cli.run(*dialogue(KRAMFORS_NEW, JOHAN, *given))

    assert run.code == EXIT_REFUSED, str(run)
    assert run.err.strip() == REFUSAL, str(run)
    assert cli.tables() == before
    assert cli.json("show", KRAMFORS_NEW)["state"] == "initiative"


def test_kramfors_dialogue_records_its_meeting_in_show_and_audit(cli: Cli) -> None:
    cli.ok(*dialogue(KRAMFORS_NEW, JOHAN, "meeting_on=2026-11-18", "minutes_ref=SR 2026/7 § 2"))

    view = cli.json("show", KRAMFORS_NEW)
    assert view["state"] == "dialogue"
    # The forum is the preset's: none was given.
    assert view["dialogue"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2026-11-18",
        "minutes_ref": "SR 2026/7 § 2",
    }
    assert f"  dialogue     {MEETING_TEXT}" in cli.ok("show", KRAMFORS_NEW).out.splitlines()

    record = cli.json("audit", KRAMFORS_NEW)[-1]
    assert record["trigger"] == "start_dialogue"
    assert record["data"]["forum"] == "Seniorrådet"
    assert record["data"]["meeting_on"] == "2026-11-18"
    assert record["data"]["minutes_ref"] == "SR 2026/7 § 2"
    table = cli.ok("audit", KRAMFORS_NEW).out.splitlines()
    assert table[0].split()[-1] == "MEETING"
    assert table[-1].endswith(MEETING_TEXT), table[-1]
    assert "start_dialogue" in table[-1]


def test_a_forum_other_than_the_presets_is_recorded_as_given(cli: Cli) -> None:
    cli.ok(
        *dialogue(KRAMFORS_NEW, JOHAN, "forum=Seniorrådets arbetsutskott", "meeting_on=2026-11-19")
    )

    assert cli.json("show", KRAMFORS_NEW)["dialogue"] == {
        "forum": "Seniorrådets arbetsutskott",
        "meeting_on": "2026-11-19",
        "minutes_ref": None,
    }
    assert (
        "  dialogue     in Seniorrådets arbetsutskott 2026-11-19"
        in cli.ok("show", KRAMFORS_NEW).out.splitlines()
    )


def test_the_refusal_for_the_rules_comes_before_the_one_for_the_meeting(cli: Cli) -> None:
    # examples/kramfors.yaml: the organisation is not in the föreningsregister.
    run = cli.run(*dialogue("VFN 2026/0088", JOHAN))
    assert run.code == EXIT_REFUSED, str(run)
    assert "föreningsregister" in run.err and "meeting_on" not in run.err


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("meeting_on=2026-13-01", "field 'meeting_on': '2026-13-01' is not a date (YYYY-MM-DD)"),
        ("meeting_on=18 november", "field 'meeting_on': '18 november' is not a date"),
        (
            "meeting_on=2026-11-21",
            "field 'meeting_on': the meeting 2026-11-21 is after the day of the step 2026-11-20",
        ),
        ("minutes_ref=" + "x" * 101, "field 'minutes_ref': "),
        ("forum=" + "å" * 201, "field 'forum': "),
        ("meeting_place=Folkets hus", "field 'meeting_place': is not an input of this step"),
    ],
    ids=["no-such-day", "not-a-date", "after-the-step", "long-minutes", "long-forum", "typo"],
)
def test_a_bad_meeting_is_bad_input_and_changes_nothing(cli: Cli, given: str, message: str) -> None:
    before = cli.tables()

    run = cli.run(*dialogue(KRAMFORS_NEW, JOHAN, "meeting_on=2026-11-18", given))

    assert run.code == EXIT_USAGE, str(run)
    assert run.err.startswith("error: step 'start_dialogue' "), str(run)
    assert message in run.err, str(run)
    assert run.err.count("\n") == 1, "one message"
    assert cli.tables() == before


# --- the follow-up's review (CLI) ---------------------------------------------------


def test_kramfors_cannot_approve_a_follow_up_without_the_meeting(cli: Cli) -> None:
    submitted(cli, KRAMFORS_RUNNING, JOHAN, GUNNEL, KRAMFORS_STATISTICS)
    before = cli.tables()

    run = cli.run(*approve(KRAMFORS_RUNNING, JOHAN, "minutes_ref=SR 2027/2 § 5"))

    assert run.code == EXIT_REFUSED, str(run)
    assert run.err.strip() == (
        "error: refused: step 'approve_follow_up' refused: Kramfors kommun holds the follow-up's "
        "review in Seniorrådet: the date of its meeting (meeting_on) is required"
    ), str(run)
    assert cli.tables() == before


def test_kramfors_follow_up_approval_records_its_meeting_in_show_and_audit(cli: Cli) -> None:
    submitted(cli, KRAMFORS_RUNNING, JOHAN, GUNNEL, KRAMFORS_STATISTICS)

    cli.ok(*approve(KRAMFORS_RUNNING, JOHAN, "meeting_on=2027-03-09", "minutes_ref=SR 2027/2 § 5"))

    view = cli.json("show", KRAMFORS_RUNNING)
    assert follow_up_of(view, 2026)["state"] == "approved"
    assert follow_up_of(view, 2026)["meeting"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2027-03-09",
        "minutes_ref": "SR 2027/2 § 5",
    }
    # The imported follow-up of 2025 keeps the meeting its file records.
    assert follow_up_of(view, 2025)["meeting"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2026-04-28",
        "minutes_ref": "SR 2026/2 § 4",
    }
    assert follow_up_of(view, 2027)["meeting"] is None
    text = cli.ok("show", KRAMFORS_RUNNING).out.splitlines()
    assert (
        "  follow-up 2026: approved (report due 2027-04-30), "
        "reviewed in Seniorrådet 2027-03-09, minutes SR 2027/2 § 5"
    ) in text
    assert "  follow-up 2027: planned (report due 2028-04-30)" in text

    records = cli.json("audit", KRAMFORS_RUNNING)
    approved = next(r for r in records if r["trigger"] == "approve_follow_up")
    assert (approved["entity"], approved["entity_key"]) == ("follow_up", "2026")
    assert {k: approved["data"][k] for k in ("forum", "meeting_on", "minutes_ref")} == {
        "forum": "Seniorrådet",
        "meeting_on": "2027-03-09",
        "minutes_ref": "SR 2027/2 § 5",
    }
    line = next(x for x in cli.ok("audit", KRAMFORS_RUNNING).out.splitlines() if "approve_f" in x)
    assert line.endswith("in Seniorrådet 2027-03-09, minutes SR 2027/2 § 5"), line


def test_a_review_meeting_before_the_report_came_is_refused(cli: Cli) -> None:
    submitted(cli, KRAMFORS_RUNNING, JOHAN, GUNNEL, KRAMFORS_STATISTICS)
    before = cli.tables()

    run = cli.run(*approve(KRAMFORS_RUNNING, JOHAN, "meeting_on=2027-03-01"))

    assert run.code == EXIT_REFUSED, str(run)
    assert "the meeting 2027-03-01 is before the report was submitted 2027-03-02" in run.err
    assert cli.tables() == before


def test_a_returned_follow_up_may_record_its_meeting(cli: Cli) -> None:
    submitted(cli, KRAMFORS_RUNNING, JOHAN, GUNNEL, KRAMFORS_STATISTICS)
    cli.step(
        KRAMFORS_RUNNING,
        "return_follow_up",
        JOHAN,
        "2027-03-10",
        "year=2026",
        "reason=Saknas",
        "meeting_on=2027-03-09",
    )

    meeting = follow_up_of(cli.json("show", KRAMFORS_RUNNING), 2026)["meeting"]
    assert meeting == {"forum": "Seniorrådet", "meeting_on": "2027-03-09", "minutes_ref": None}


# --- Mjölby names no forum ---------------------------------------------------------


def test_mjolby_starts_the_dialogue_without_a_meeting(cli: Cli) -> None:
    cli.ok(*dialogue(MJOLBY_NEW, ANNA))

    view = cli.json("show", MJOLBY_NEW)
    assert (view["state"], view["dialogue"]) == ("dialogue", None)
    assert "  dialogue     " not in cli.ok("show", MJOLBY_NEW).out
    assert cli.ok("audit", MJOLBY_NEW).out.splitlines()[-1].rstrip().endswith("dialogue")


def test_mjolby_records_a_meeting_when_given(cli: Cli) -> None:
    cli.ok(*dialogue(MJOLBY_NEW, ANNA, "meeting_on=2026-11-17", "minutes_ref=OSN 2026/0320-3"))

    view = cli.json("show", MJOLBY_NEW)
    assert view["dialogue"] == {
        "forum": None,
        "meeting_on": "2026-11-17",
        "minutes_ref": "OSN 2026/0320-3",
    }
    assert (
        "  dialogue     2026-11-17, minutes OSN 2026/0320-3"
        in cli.ok("show", MJOLBY_NEW).out.splitlines()
    )


def test_mjolby_approves_a_follow_up_without_a_meeting(cli: Cli) -> None:
    submitted(cli, MJOLBY_RUNNING, ANNA, LEILA, EXAMPLE_STATISTICS)

    cli.ok(*approve(MJOLBY_RUNNING, ANNA))

    follow_up = follow_up_of(cli.json("show", MJOLBY_RUNNING), 2026)
    assert (follow_up["state"], follow_up["meeting"]) == ("approved", None)


# --- what a client is told ----------------------------------------------------------


def test_iop_steps_describes_the_meeting_fields(cli: Cli) -> None:
    for trigger in ("start_dialogue", "approve_follow_up", "return_follow_up"):
        [step] = cli.json("steps", trigger)
        fields = {f["name"]: f for f in step["fields"]}
        assert step["command"] == "MeetingCommand"
        assert (fields["forum"]["label"], fields["forum"]["type"]) == ("Forum", "text")
        assert (fields["meeting_on"]["label"], fields["meeting_on"]["type"]) == (
            "Mötesdatum",
            "date",
        )
        assert fields["minutes_ref"]["limits"] == {"max_length": 100}
        assert "Seniorrådet" in fields["meeting_on"]["help"]


def test_iop_triggers_says_kramfors_dialogue_needs_the_meeting_date(cli: Cli) -> None:
    view = cli.json("triggers", KRAMFORS_NEW, "--as-of", "2026-11-20")
    step = next(s for s in view["allowed"] if s["trigger"] == "start_dialogue")
    assert "meeting_on" in step["needs"]
    mjolby = cli.json("triggers", MJOLBY_NEW, "--as-of", "2026-11-20")
    step = next(s for s in mjolby["allowed"] if s["trigger"] == "start_dialogue")
    assert "meeting_on" not in step["needs"]


# --- the import --------------------------------------------------------------------


def _kramfors_example(edit: tuple[str, str]) -> str:
    text = (EXAMPLES / "kramfors.yaml").read_text(encoding="utf-8")
    old, new = edit
    assert text.count(old) == 1, old
    return text.replace(old, new)


DIALOGUE_LINE = (
    '    dialogue: {forum: Seniorrådet, meeting_on: 2024-11-12, minutes_ref: "SR 2024/6 § 3"}\n'
)
MEETING_LINE = '        meeting: {meeting_on: 2026-04-28, minutes_ref: "SR 2026/2 § 4"}\n'


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            (DIALOGUE_LINE, ""),
            "agreements[0] (VFN 2025/0031) field 'dialogue.meeting_on': step 'start_dialogue' "
            "refused: Kramfors kommun holds the dialogue in Seniorrådet: the date of its "
            "meeting (meeting_on) is required; required in state 'active'",
        ),
        (
            (DIALOGUE_LINE, "    dialogue: {minutes_ref: SR 2024/6}\n"),
            "field 'dialogue.meeting_on': step 'start_dialogue' refused:",
        ),
        (
            (MEETING_LINE, ""),
            "agreements[0] (VFN 2025/0031) field 'follow_ups[0].meeting.meeting_on': step "
            "'approve_follow_up' refused: Kramfors kommun holds the follow-up's review in "
            "Seniorrådet: the date of its meeting (meeting_on) is required; required for a "
            "follow-up that is approved",
        ),
        (
            (MEETING_LINE, "        meeting: {meeting_on: 2026-04-14}\n"),
            "field 'follow_ups[0].meeting.meeting_on': step 'approve_follow_up' refused: the "
            "meeting 2026-04-14 is before the report was submitted 2026-04-15",
        ),
        (
            (MEETING_LINE, "        meeting: {meeting_on: 2026-02-30}\n"),
            "field 'follow_ups[0].meeting.meeting_on': 2026-02-30 is not a calendar date",
        ),
        (
            (MEETING_LINE, "        meeting: {meeting_on: 2026-04-28, room: Stora salen}\n"),
            "field 'follow_ups[0].meeting.room'",
        ),
        (
            (
                "    criteria:\n      - {criterion: initiative_from_organisation, verdict: met, "
                "assessed_by",
                "    dialogue: {meeting_on: 2026-10-01}\n    criteria:\n      - {criterion: "
                "initiative_from_organisation, verdict: met, assessed_by",
            ),
            "agreements[1] (VFN 2026/0088) field 'dialogue': an agreement in state "
            "'initiative' has held no dialogue yet",
        ),
    ],
    ids=[
        "no-dialogue",
        "dialogue-without-date",
        "no-review-meeting",
        "meeting-before-report",
        "no-such-day",
        "unknown-key",
        "dialogue-of-an-initiative",
    ],
)
def test_the_import_replays_the_forum_rule(
    cli: Cli, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    fresh = Cli(tmp_path / "fresh.db")
    fresh.ok("db", "upgrade")
    path = _write(tmp_path, "kramfors.yaml", _kramfors_example(edit))

    run = fresh.run("import", str(path))

    assert run.code == EXIT_USAGE, str(run)
    assert message in run.err, str(run)
    assert fresh.json("agreements") == []


def test_the_imported_example_shows_its_dialogue(cli: Cli) -> None:
    view = cli.json("show", KRAMFORS_RUNNING)
    assert view["dialogue"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2024-11-12",
        "minutes_ref": "SR 2024/6 § 3",
    }
    assert (
        "  dialogue     in Seniorrådet 2024-11-12, minutes SR 2024/6 § 3"
        in cli.ok("show", KRAMFORS_RUNNING).out.splitlines()
    )


# --- the service layer, on both backends ------------------------------------------

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def service_db(db: Database, tmp_path: Path) -> Database:
    for name in ("mjolby.yaml", "kramfors.yaml"):
        import_file(db, str(EXAMPLES / name), now=NOW)
    import_file(db, str(_write(tmp_path, "initiatives.yaml", INITIATIVES)), now=NOW)
    return db


def _step(db: Database, ref: str, trigger: str, actor: str, day: date, **data: str) -> None:
    transition(db, ref, trigger, actor_name=actor, data=data, today=day, now=NOW)


def test_service_refuses_kramfors_dialogue_without_the_meeting(service_db: Database) -> None:
    before = (show(service_db, KRAMFORS_NEW), agreement_audit(service_db, KRAMFORS_NEW))

    with pytest.raises(GuardRefused) as refused:
        _step(service_db, KRAMFORS_NEW, "start_dialogue", JOHAN, date(2026, 11, 20))

    assert refused.value.guard == "forum_meeting_held"
    assert "Seniorrådet" in refused.value.reason
    assert (show(service_db, KRAMFORS_NEW), agreement_audit(service_db, KRAMFORS_NEW)) == before


def test_service_records_the_dialogue_and_the_review_meeting(service_db: Database) -> None:
    _step(
        service_db,
        KRAMFORS_NEW,
        "start_dialogue",
        JOHAN,
        date(2026, 11, 20),
        meeting_on="2026-11-18",
        minutes_ref="SR 2026/7 § 2",
    )
    assert show(service_db, KRAMFORS_NEW)["dialogue"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2026-11-18",
        "minutes_ref": "SR 2026/7 § 2",
    }
    record = agreement_audit(service_db, KRAMFORS_NEW)[-1]
    assert (record["trigger"], record["data"]["forum"]) == ("start_dialogue", "Seniorrådet")

    ref, year = KRAMFORS_RUNNING, "2026"
    _step(service_db, ref, "open_follow_up", JOHAN, date(2027, 3, 1), year=year)
    for kind in DOCUMENT_KINDS:
        _step(service_db, ref, "receive_document", GUNNEL, date(2027, 3, 2), year=year, kind=kind)
    stats = dict(s.split("=", 1) for s in KRAMFORS_STATISTICS)
    _step(service_db, ref, "submit_report", GUNNEL, date(2027, 3, 2), year=year, **stats)
    with pytest.raises(GuardRefused):
        _step(service_db, ref, "approve_follow_up", JOHAN, date(2027, 3, 10), year=year)
    _step(
        service_db,
        ref,
        "approve_follow_up",
        JOHAN,
        date(2027, 3, 10),
        year=year,
        forum="Seniorrådet",
        meeting_on="2027-03-09",
    )

    follow_up = follow_up_of(show(service_db, ref), 2026)
    assert follow_up["state"] == "approved"
    assert follow_up["meeting"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2027-03-09",
        "minutes_ref": None,
    }
    approved = next(
        r for r in agreement_audit(service_db, ref) if r["trigger"] == "approve_follow_up"
    )
    assert approved["data"]["meeting_on"] == "2027-03-09"


def test_service_refuses_a_bad_meeting_date_naming_the_field(service_db: Database) -> None:
    with pytest.raises(InvalidInput) as bad:
        _step(service_db, KRAMFORS_NEW, "start_dialogue", JOHAN, date(2026, 11, 20), meeting_on="x")
    assert bad.value.field == "meeting_on"
    assert show(service_db, KRAMFORS_NEW)["state"] == "initiative"


def test_service_import_stores_the_meetings(service_db: Database) -> None:
    view = show(service_db, KRAMFORS_RUNNING)
    assert view["dialogue"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2024-11-12",
        "minutes_ref": "SR 2024/6 § 3",
    }
    assert follow_up_of(view, 2025)["meeting"] == {
        "forum": "Seniorrådet",
        "meeting_on": "2026-04-28",
        "minutes_ref": "SR 2026/2 § 4",
    }
    assert show(service_db, MJOLBY_RUNNING)["dialogue"] is None
