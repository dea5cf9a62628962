"""Issue 11 item 2: the association register is maintained, not imported once.

Through the real `iop` (a subprocess, SQLite file) and through the service layer on both
backends. examples/kramfors.yaml holds VFN 2026/0088, an initiative of Väntjänsten
Ådalen (802461-2882), which is not in Kramfors' föreningsregister; Johan Nordin is its
officer (manager Eva Sjölund), Lena Westin the secretary, Olof Berglund an auditor,
Ingrid Höglund the association's representative.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_runner import Run
from test_cli_acceptance import EXAMPLES, Cli, copy_database

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.domain.errors import InvalidInput, NotFound, RuleViolation
from iop_workflow.notify.routing import Row, route
from iop_workflow.service import people_register as people
from iop_workflow.service import register as reg
from iop_workflow.service.importer import import_bundle, import_file
from iop_workflow.service.steps import transition

REF = "VFN 2026/0088"
ORGNR = "802461-2882"
JOHAN, EVA, LENA, OLOF, INGRID = (
    "Johan Nordin",
    "Eva Sjölund",
    "Lena Westin",
    "Olof Berglund",
    "Ingrid Höglund",
)
# The criteria VFN 2026/0088 was imported without, and not_purchase (imported partly met)
# assessed again after the Seniorrådet's discussion.
MISSING = ("shared_need", "not_other_grant", "no_market", "not_detail_regulated", "not_purchase")
USAGE, REFUSED, NOT_FOUND = 2, 3, 4


def now() -> datetime:
    return datetime.now(tz=UTC)


def today() -> date:
    from iop_workflow.config import today_in_stockholm

    return today_in_stockholm(now())


# --- through the CLI --------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_file = tmp_path_factory.mktemp("register") / "iop.db"
    cli = Cli(db_file)
    cli.ok("db", "upgrade")
    cli.ok("import", str(EXAMPLES / "kramfors.yaml"))
    return db_file


@pytest.fixture
def cli(prepared: Path, tmp_path: Path) -> Cli:
    copy_database(prepared, tmp_path / "iop.db")
    return Cli(tmp_path / "iop.db")


def assess_the_rest(cli: Cli) -> None:
    for criterion in MISSING:
        cli.ok(
            "transition",
            REF,
            "assess_criterion",
            "--actor",
            JOHAN,
            "--set",
            f"criterion={criterion}",
            "--set",
            "verdict=met",
            "--set",
            "motivation=Bedömt i Seniorrådet",
        )


def start_dialogue(cli: Cli) -> Run:
    return cli.run(
        "transition",
        REF,
        "start_dialogue",
        "--actor",
        JOHAN,
        "--set",
        f"meeting_on={today()}",
        "--set",
        "minutes_ref=SR 2026/7 § 2",
    )


def test_kramfors_association_registered_later_enters_dialogue(cli: Cli) -> None:
    assess_the_rest(cli)
    refused = start_dialogue(cli)
    assert refused.code == REFUSED, str(refused)
    assert "not registered in Kramfors kommun's föreningsregister" in refused.err

    day = today().isoformat()
    done = cli.ok(
        "org",
        "update",
        ORGNR,
        "--registered",
        "--register-ref",
        "KFR-0512",
        "--registered-on",
        day,
        "--actor",
        JOHAN,
        "--reason",
        "Införd i föreningsregistret",
    )
    assert "forening_registered False → True" in done.out

    entered = start_dialogue(cli)
    assert entered.code == 0, str(entered)
    shown = cli.json("show", REF)
    assert shown["state"] == "dialogue"
    # The dialogue was held in the preset's forum: `show` and the audit say where and when.
    assert shown["dialogue"] == {
        "forum": "Seniorrådet",
        "meeting_on": today().isoformat(),
        "minutes_ref": "SR 2026/7 § 2",
    }
    assert "in Seniorrådet" in cli.ok("show", REF).out
    (step,) = [r for r in cli.json("audit", REF) if r["trigger"] == "start_dialogue"]
    assert step["data"]["forum"] == "Seniorrådet"
    assert step["data"]["minutes_ref"] == "SR 2026/7 § 2"

    view = cli.json("org", "show", ORGNR)
    assert view["forening_register"] == {
        "registered": True,
        "ref": "KFR-0512",
        "registered_on": day,
    }
    (record,) = view["history"]
    assert (record["actor"], record["role"], record["trigger"]) == (
        JOHAN,
        "officer",
        "update_organisation",
    )
    assert (record["from"], record["to"]) == ("not_registered", "registered")
    assert record["data"]["changes"]["forening_register_ref"] == {"from": None, "to": "KFR-0512"}
    assert record["reason"] == "Införd i föreningsregistret"
    assert cli.run("audit", "verify").code == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--registered"], "register_ref"),  # registering needs the register's reference
        (["--contact-email", "inte-en-adress"], "contact_email"),
        (["--name", " "], "name"),
        (
            ["--registered", "--register-ref", "KFR-1", "--registered-on", "2199-12-31"],
            "registered_on",
        ),  # after the day acted on
        (["--register-ref", "KFR-1"], "register_ref"),  # not registered: add --registered
        (["--contact-phone", "0" * 41], "contact_phone"),
    ],
)
def test_bad_organisation_input_is_exit_2_naming_the_field(
    cli: Cli, args: list[str], field: str
) -> None:
    before = cli.tables()
    run = cli.run("org", "update", ORGNR, *args, "--actor", JOHAN)
    assert run.code == USAGE, str(run)
    assert f"field '{field}'" in run.err, str(run)
    assert cli.tables() == before


def test_bad_orgnr_and_nothing_to_change(cli: Cli) -> None:
    before = cli.tables()
    assert cli.run("org", "update", "123", "--name", "X", "--actor", JOHAN).code == USAGE
    assert cli.run("org", "update", ORGNR, "--actor", JOHAN).code == USAGE
    unknown = cli.run("org", "update", "802000-0003", "--name", "X", "--actor", JOHAN)
    assert unknown.code in (USAGE, NOT_FOUND), str(unknown)
    assert cli.tables() == before


@pytest.mark.parametrize(
    ("actor", "why"),
    [
        (OLOF, "is a auditor"),
        (INGRID, "is a organisation_representative"),
        ("system", "'system' is the scheduled flows' own name"),
    ],
)
def test_only_staff_change_the_register(cli: Cli, actor: str, why: str) -> None:
    before = cli.tables()
    run = cli.run("org", "update", ORGNR, "--name", "Nytt namn", "--actor", actor)
    assert run.code == REFUSED, str(run)
    assert why in run.err
    assert cli.tables() == before


def test_people_add_change_deactivate(cli: Cli) -> None:
    cli.ok(
        "people",
        "add",
        "Sara Ek",
        "--role",
        "manager",
        "--email",
        "sara.ek@kramfors.example",
        "--municipality",
        "kramfors",
        "--actor",
        LENA,
    )
    moved = cli.ok("people", "update", JOHAN, "--manager", "Sara Ek", "--actor", LENA)
    assert "manager 'Eva Sjölund' → 'Sara Ek'" in moved.out
    # The officer's step on record before he leaves keeps his name.
    cli.ok(
        "transition",
        REF,
        "assess_criterion",
        "--actor",
        JOHAN,
        "--set",
        "criterion=shared_need",
        "--set",
        "verdict=met",
        "--set",
        "motivation=Ja",
    )
    gone = cli.ok("people", "deactivate", JOHAN, "--actor", LENA, "--reason", "Slutat")
    assert f"still the officer of VFN 2025/0031, {REF}" in gone.out

    acting = cli.run(
        "transition",
        REF,
        "assess_criterion",
        "--actor",
        JOHAN,
        "--set",
        "criterion=no_market",
        "--set",
        "verdict=met",
        "--set",
        "motivation=Ja",
    )
    assert acting.code == REFUSED
    assert f"{JOHAN} was deactivated on {today()} and can no longer act" in acting.err
    assert cli.run("org", "update", ORGNR, "--name", "X", "--actor", JOHAN).code == REFUSED

    assert any(r["actor"] == JOHAN for r in cli.json("audit", REF))  # history kept
    person = cli.json("people", "show", JOHAN)
    assert (person["active"], person["deactivated_on"]) == (False, today().isoformat())
    assert [h["trigger"] for h in person["history"]] == ["update_person", "deactivate_person"]
    assert JOHAN not in {p["name"] for p in cli.json("people", "list")}
    assert JOHAN in {p["name"] for p in cli.json("people", "list", "--all")}
    again = cli.run("people", "deactivate", JOHAN, "--actor", LENA)
    assert again.code == REFUSED and "already deactivated" in again.err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["Ny Person", "--role", "officer"], "municipality"),
        (["Ny Person", "--role", "chef", "--municipality", "kramfors"], "role"),
        (["Ny Person", "--role", "officer", "--municipality", "nowhere"], "municipality"),
        (
            ["Ny Person", "--role", "secretary", "--municipality", "kramfors", "--manager", EVA],
            "manager",
        ),
        (["Ny Person", "--role", "officer", "--municipality", "kramfors", "--digest"], "digest"),
        (
            ["Ny Person", "--role", "organisation_representative", "--organisation", "802000-0003"],
            "organisation",
        ),
        ([LENA.upper(), "--role", "officer", "--municipality", "kramfors"], "name"),
        (["system", "--role", "officer", "--municipality", "kramfors"], "name"),
    ],
)
def test_bad_person_input_is_exit_2_naming_the_field(cli: Cli, args: list[str], field: str) -> None:
    before = cli.tables()
    run = cli.run("people", "add", *args, "--actor", LENA)
    assert run.code == USAGE, str(run)
    assert f"field '{field}'" in run.err, str(run)
    assert cli.tables() == before


def test_mjolby_staff_cannot_change_kramfors_people(cli: Cli) -> None:
    cli.ok("import", str(EXAMPLES / "mjolby.yaml"))
    before = cli.tables()
    run = cli.run(
        "people", "update", JOHAN, "--email", "j@kramfors.example", "--actor", "Anna Berg"
    )
    assert run.code == REFUSED and "works for mjolby, not for kramfors" in run.err, str(run)
    assert cli.tables() == before


def test_import_of_a_known_organisation_updates_it(cli: Cli, tmp_path: Path) -> None:
    again = tmp_path / "register.yaml"
    again.write_text(
        "organisations:\n"
        "  - name: Väntjänsten Ådalen ideell förening\n"
        f"    organisationsnummer: {ORGNR}\n"
        "    contact: {name: Ingrid Höglund, email: ingrid@vantjansten.example}\n"
        "    forening_register: {registered: true, ref: KFR-0512, registered_on: 2026-11-20}\n",
        encoding="utf-8",
    )
    done = cli.ok("import", str(again))
    assert "imported 0 organisations (updated 1 known)" in done.out
    view = cli.json("org", "show", ORGNR)
    assert view["name"] == "Väntjänsten Ådalen ideell förening"
    assert view["forening_register"]["registered_on"] == "2026-11-20"
    (record,) = view["history"]
    assert (record["actor"], record["trigger"]) == ("import", "import")
    assert record["data"]["changes"]["contact_email"] == {
        "from": "ingrid.hoglund@vantjansten.example",
        "to": "ingrid@vantjansten.example",
    }
    # Importing the same file again changes nothing and writes no record.
    cli.ok("import", str(again))
    assert len(cli.json("org", "show", ORGNR)["history"]) == 1

    # A file that would take it out of the register is refused, naming the field.
    out = tmp_path / "out.yaml"
    out.write_text(
        again.read_text(encoding="utf-8").replace(
            "{registered: true, ref: KFR-0512, registered_on: 2026-11-20}", "{registered: false}"
        ),
        encoding="utf-8",
    )
    before = cli.tables()
    refused = cli.run("import", str(out))
    assert refused.code == USAGE, str(refused)
    assert "field 'forening_register'" in refused.err and "--not-registered" in refused.err
    assert cli.tables() == before


# --- the service layer, both backends -------------------------------------------------


@pytest.fixture
def kramfors(db: Database) -> Database:
    import_file(db, str(EXAMPLES / "kramfors.yaml"), now=now())
    return db


def _register(db: Database, actor: str = JOHAN) -> reg.Changed:
    change = reg.OrganisationChange(registered=True, register_ref="KFR-0512")
    return reg.update_organisation(db, ORGNR, change, actor_name=actor, today=today(), now=now())


def test_service_registration_then_dialogue(kramfors: Database) -> None:
    for criterion in MISSING:
        data = {"criterion": criterion, "verdict": "met", "motivation": "Ja"}
        transition(
            kramfors, REF, "assess_criterion", actor_name=JOHAN, data=data, today=today(), now=now()
        )
    meeting = {"meeting_on": today().isoformat(), "minutes_ref": "SR 2026/7 § 2"}
    with pytest.raises(RuleViolation, match="föreningsregister"):
        transition(
            kramfors,
            REF,
            "start_dialogue",
            actor_name=JOHAN,
            data=meeting,
            today=today(),
            now=now(),
        )
    changed = _register(kramfors)
    # The day defaults to the day acted on.
    assert changed.changes["forening_registered_on"] == {"from": None, "to": today().isoformat()}
    result = transition(
        kramfors, REF, "start_dialogue", actor_name=JOHAN, data=meeting, today=today(), now=now()
    )
    assert result.state == "dialogue"
    with kramfors.read() as session:
        rows = session.execute(
            sa.select(t.audit_log.c.agreement_id, t.audit_log.c.entity_key).where(
                t.audit_log.c.entity == "organisation"
            )
        ).all()
    assert [tuple(r) for r in rows] == [(None, ORGNR)]


def test_service_refusals_write_nothing(kramfors: Database) -> None:
    with pytest.raises(RuleViolation, match="only municipal staff"):
        _register(kramfors, OLOF)
    with pytest.raises(NotFound):
        _register(kramfors, "Ingen Alls")
    with pytest.raises(InvalidInput, match="contact_email"):
        reg.update_organisation(
            kramfors,
            ORGNR,
            reg.OrganisationChange(name="Nytt", contact_email="x"),
            actor_name=JOHAN,
            today=today(),
            now=now(),
        )
    view = reg.show_organisation(kramfors, ORGNR)
    assert view["name"] == "Väntjänsten Ådalen" and view["history"] == []


def _escalation(db: Database) -> tuple[list[str], list[str]]:
    """Whom an escalation of VFN 2026/0088 (to officer and manager) reaches now."""
    with db.read() as session:
        agreement_id = session.scalars(
            sa.select(t.agreements.c.id).where(t.agreements.c.diarienummer == REF)
        ).one()
        row = Row(1, agreement_id, "escalation", today(), "1", ("officer", "manager"), {}, 0, now())
        (routed,) = route(session, [row])
    return [r.name for r in routed.recipients], routed.problems


def test_deactivated_people_get_no_notices(kramfors: Database) -> None:
    assert _escalation(kramfors) == ([JOHAN, EVA], [])
    people.add_person(
        kramfors,
        "Sara Ek",
        people.PersonChange(
            role="manager", email="sara.ek@kramfors.example", municipality="kramfors"
        ),
        actor_name=LENA,
        today=today(),
        now=now(),
    )
    people.deactivate_person(kramfors, EVA, actor_name=LENA, today=today(), now=now())
    # The escalation to a manager who left goes to the municipality's other managers.
    assert _escalation(kramfors) == ([JOHAN, "Sara Ek"], [])
    people.deactivate_person(kramfors, "Sara Ek", actor_name=LENA, today=today(), now=now())
    names, problems = _escalation(kramfors)
    assert names == [JOHAN]
    assert problems and "has no other manager" in problems[0]
    # A deactivated officer gets nothing: reported, never silently dropped.
    people.deactivate_person(kramfors, JOHAN, actor_name=LENA, today=today(), now=now())
    names, problems = _escalation(kramfors)
    assert names == []
    assert any(f"{JOHAN} (officer of {REF}) was deactivated" in p for p in problems)


def test_deactivated_person_cannot_act_or_edit(kramfors: Database) -> None:
    people.deactivate_person(kramfors, JOHAN, actor_name=LENA, today=today(), now=now())
    data = {"criterion": "shared_need", "verdict": "met", "motivation": "Ja"}
    with pytest.raises(RuleViolation, match=f"{JOHAN} was deactivated on {today()}"):
        transition(
            kramfors, REF, "assess_criterion", actor_name=JOHAN, data=data, today=today(), now=now()
        )
    with pytest.raises(RuleViolation, match="deactivated"):
        _register(kramfors)
    with pytest.raises(RuleViolation, match="cannot deactivate themselves"):
        people.deactivate_person(kramfors, LENA, actor_name=LENA, today=today(), now=now())


def test_service_import_of_known_organisation(kramfors: Database) -> None:
    from iop_workflow.importing import load_yaml

    text = (
        "organisations:\n"
        "  - name: Väntjänsten Ådalen\n"
        f"    organisationsnummer: {ORGNR}\n"
        "    contact: {name: Ingrid Höglund, email: ingrid.hoglund@vantjansten.example,"
        " phone: '0612-100 00'}\n"
    )
    result = import_bundle(kramfors, load_yaml(text, today=today()), now=now())
    assert (result.organisations, result.updated_organisations) == (0, 1)
    (record,) = reg.show_organisation(kramfors, ORGNR)["history"]
    assert record["data"]["changes"] == {"contact_phone": {"from": None, "to": "0612-100 00"}}


def test_import_naming_a_deactivated_manager_is_refused(cli: Cli, tmp_path: Path) -> None:
    cli.ok("people", "add", "Sara Ek", "--role", "manager", "--municipality", "kramfors",
           "--actor", LENA)  # fmt: skip
    cli.ok("people", "update", JOHAN, "--manager", "Sara Ek", "--actor", LENA)
    cli.ok("people", "deactivate", EVA, "--actor", LENA)
    file = tmp_path / "people.yaml"
    file.write_text(
        "people:\n"
        "  - {name: Ny Handläggare, role: officer, municipality: kramfors,"
        f" manager: {EVA}}}\n",
        encoding="utf-8",
    )
    before = cli.tables()
    run = cli.run("import", str(file))
    assert run.code == USAGE, str(run)
    assert f"field 'manager': {EVA} was deactivated on {today()}" in run.err
    assert cli.tables() == before


def test_person_history_names_the_organisation(kramfors: Database) -> None:
    other = "802529-4367"  # Seniorföreningen Gudmundrå
    people.update_person(kramfors, INGRID, people.PersonChange(organisation=other),
                      actor_name=JOHAN, today=today(), now=now())  # fmt: skip
    (record,) = people.show_person(kramfors, INGRID)["history"]
    assert record["data"]["changes"] == {"organisation": {"from": ORGNR, "to": other}}
