"""Hostile input gets a clean refusal (issue 9, item 2).

Every case runs the real `iop` console script against a database holding
examples/mjolby.yaml, and checks: exit 2, a message that names the record and the field
(or the option, or the file), and every table exactly as it was. Where the backend
matters (text longer than a column, NUL characters) the case runs on SQLite and on
PostgreSQL (`backend_url`, tests/conftest.py).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_runner import Run, run_iop

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.importer import import_file
from iop_workflow.service.steps import transition

ROOT = Path(__file__).resolve().parents[2]
MJOLBY = ROOT / "examples" / "mjolby.yaml"
REF = "OSN 2026/0142"  # examples/mjolby.yaml, in dialogue
ANNA, PER = "Anna Berg", "Per Sandberg"
PLAN_DAY = "2026-11-23"  # the day the acceptance walk proposes the plan
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
QUICK = 15.0  # seconds: a refusal that takes longer than this is a hang


# --- the database and the runner ----------------------------------------------------


class Iop:
    """`iop` on one prepared database (any backend)."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder

    def run(self, *args: str, timeout: float = 180) -> Run:
        return run_iop(self.folder / "iop.db", *args, url=self.url, timeout=timeout)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (and the schema revision), in key order."""
        db = Database(self.url)
        try:
            with db.engine.connect() as conn:
                rows = {
                    name: [
                        tuple(row)
                        for row in conn.execute(
                            sa.select(table).order_by(*table.primary_key.columns)
                        )
                    ]
                    for name, table in sorted(t.TABLES.items())
                }
                rows["alembic_version"] = [
                    tuple(r) for r in conn.execute(sa.text("SELECT * FROM alembic_version"))
                ]
                return rows
        finally:
            db.dispose()

    def refused(self, *args: str, timeout: float = QUICK) -> Run:
        """Run `iop ARGS`; it must exit 2 within `timeout` and change nothing."""
        before = self.dump()
        started = time.monotonic()
        run = self.run(*args, timeout=timeout)
        took = time.monotonic() - started
        assert run.code == 2, str(run)
        assert took < timeout, f"took {took:.1f}s: {run}"
        assert "unexpected" not in run.err, str(run)
        assert self.dump() == before, f"a refused command changed the database: {run}"
        return run

    def file(self, name: str, content: str | bytes) -> str:
        path = self.folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    def step(self, trigger: str, actor: str, day: str, **data: Any) -> None:
        """A step fired in-process (the set-up of a case, not what it tests)."""
        db = Database(self.url)
        try:
            transition(
                db, REF, trigger, actor_name=actor, data=data, today=date.fromisoformat(day),
                now=NOW,
            )  # fmt: skip
        finally:
            db.dispose()


def _prepared(url: str, folder: Path) -> Iop:
    db = Database(url)
    try:
        db.upgrade()
        import_file(db, str(MJOLBY), now=NOW)
    finally:
        db.dispose()
    return Iop(url, folder)


@pytest.fixture
def iop(backend_url: str, tmp_path: Path) -> Iop:
    """The examples of Mjölby imported, once per backend."""
    return _prepared(backend_url, tmp_path)


@pytest.fixture
def iop_sqlite(tmp_path: Path) -> Iop:
    """The same, on SQLite only: for what no backend takes part in."""
    return _prepared(f"sqlite:///{tmp_path / 'iop.db'}", tmp_path)


def propose_plan(*more: str) -> list[str]:
    return ["transition", REF, "propose_plan", "--actor", ANNA, "--as-of", PLAN_DAY, *more]


def initiative(**changes: Any) -> dict[str, Any]:
    """An import document: one new Mjölby initiative with its organisation and
    representative; `changes` replace keys of the agreement ("org.name" of the
    organisation, "person.name" of the representative)."""
    person = {
        "name": "Elsa Lind",
        "role": "organisation_representative",
        "email": "elsa.lind@lyktan.example",
        "organisation": "802002-4280",
    }
    organisation = {
        "name": "Kvartersföreningen Lyktan",
        "organisationsnummer": "802002-4280",
        "contact": {"name": "Elsa Lind", "email": "elsa.lind@lyktan.example", "phone": "0142-1"},
    }
    agreement: dict[str, Any] = {
        "diarienummer": "OSN 2026/0301",
        "municipality": "mjolby",
        "title": "Läxhjälp på Lyktan",
        "officer": ANNA,
        "period": {"start": "2027-01-01", "end": "2028-12-31"},
        "parties": [{"organisation": "802002-4280", "share": 100}],
        "economic_plan": {"support": {"2027": "120 000", "2028": "120 000"}},
    }
    for key, value in changes.items():
        if key.startswith("org."):
            organisation[key[4:]] = value
        elif key.startswith("contact."):
            organisation["contact"][key[8:]] = value  # type: ignore[index]
        elif key.startswith("person."):
            person[key[7:]] = value
        else:
            agreement[key] = value
    return {"people": [person], "organisations": [organisation], "agreements": [agreement]}


def as_yaml(document: object) -> str:
    """JSON is YAML: every character outside ASCII becomes a \\uXXXX escape, which YAML
    reads back as that character (a NUL, a lone surrogate, ...)."""
    return json.dumps(document, ensure_ascii=True, indent=1)


# --- YAML that explodes ----------------------------------------------------------


def merge_bomb(levels: int = 40) -> str:
    """About 1 KB; every level merges the one before it twice: 2**40 keys to expand."""
    lines = ["a0: &a0 {k: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def laughs() -> str:
    """A sequence nine times nine ... times (9**9 values) under `agreements`."""
    lines = ['x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\nagreements: *x8\n"


@pytest.mark.parametrize("bomb", [merge_bomb, laughs], ids=["merge-keys", "aliases"])
def test_an_alias_bomb_is_refused_at_once_by_import_and_by_a_step_file(
    iop_sqlite: Iop, bomb: Any
) -> None:
    text = bomb()
    assert len(text.encode()) < 1200
    source = iop_sqlite.file("bomb.yaml", text)

    imported = iop_sqlite.refused("import", source)
    assert "document:" in imported.err and "aliases" in imported.err, str(imported)

    stepped = iop_sqlite.refused(*propose_plan("--file", source))
    assert f"--file: {source}:" in stepped.err and "aliases" in stepped.err, str(stepped)


def test_nesting_too_deep_is_refused_with_its_line(iop_sqlite: Iop) -> None:
    source = iop_sqlite.file("deep.yaml", "agreements:\n  - " + "[" * 5000 + "]" * 5000 + "\n")
    run = iop_sqlite.refused("import", source)
    assert "document: line 2, column" in run.err and "levels deep" in run.err, str(run)
    run = iop_sqlite.refused(*propose_plan("--file", source))
    assert f"--file: {source}: line 2, column" in run.err, str(run)


def test_a_file_larger_than_any_import_is_refused_without_reading_it_all(iop_sqlite: Iop) -> None:
    source = iop_sqlite.file("big.yaml", "# padding\n" * 600_000)  # 6 MB of comments
    run = iop_sqlite.refused("import", source)
    assert f"field 'FILE': {source} is larger than" in run.err, str(run)
    run = iop_sqlite.refused(*propose_plan("--file", source))
    assert f"--file: {source} is larger than" in run.err, str(run)


# --- duplicate keys ---------------------------------------------------------------


def test_a_support_year_written_as_number_and_as_text_is_refused(iop_sqlite: Iop) -> None:
    text = as_yaml(initiative()).replace('"2027": "120 000"', '"2027": "120 000", 2027: "1"')
    assert '2027: "1"' in text
    run = iop_sqlite.refused("import", iop_sqlite.file("twice.yaml", text))
    assert "document: line" in run.err and "found the key '2027' twice" in run.err, str(run)


def test_a_step_file_with_a_key_twice_is_refused(iop_sqlite: Iop) -> None:
    same = iop_sqlite.file("same.yaml", "goals: Fler barn\ngoals: Färre barn\n")
    run = iop_sqlite.refused(*propose_plan("--file", same))
    assert f"--file: {same}: line 2, column 1: found the key 'goals' twice" in run.err, str(run)
    mixed = iop_sqlite.file("mixed.yaml", "support:\n  2027: 1\n  '2027': 2\n")
    run = iop_sqlite.refused(*propose_plan("--file", mixed))
    assert "found the key '2027' twice" in run.err, str(run)


# --- text that is not text ------------------------------------------------------------


def test_a_lone_surrogate_or_nul_in_an_import_is_refused_naming_the_field(iop: Iop) -> None:
    run = iop.refused("import", iop.file("s.yaml", as_yaml(initiative(title="Läxhjälp \ud800"))))
    assert "agreements[0] (OSN 2026/0301) field 'title': " in run.err, str(run)
    assert "U+D800" in run.err, str(run)

    run = iop.refused("import", iop.file("n.yaml", as_yaml(initiative(**{"org.name": "Ly\0"}))))
    assert "organisations[0] (802002-4280) field 'name': " in run.err, str(run)
    assert "NUL" in run.err, str(run)


def test_a_lone_surrogate_or_nul_in_step_input_is_refused_naming_the_field(iop: Iop) -> None:
    # A byte that is not UTF-8 on the command line arrives as a lone surrogate.
    run = iop.refused(*propose_plan("--set", "goals=Fler \udcff barn"))
    assert "step 'propose_plan' field 'goals': " in run.err and "U+DCFF" in run.err, str(run)

    source = iop.file("nul.yaml", 'goals: "Fler\\0barn"\n')
    run = iop.refused(*propose_plan("--file", source))
    assert "step 'propose_plan' field 'goals': " in run.err and "NUL" in run.err, str(run)

    source = iop.file("surrogate.yaml", 'values: "\\ud800"\n')
    run = iop.refused(*propose_plan("--file", source))
    assert "step 'propose_plan' field 'values': " in run.err, str(run)


def test_a_ref_or_actor_that_is_not_text_is_refused(iop_sqlite: Iop) -> None:
    run = iop_sqlite.refused("show", "OSN \udcff")
    assert "REF" in run.err and "U+DCFF" in run.err, str(run)
    run = iop_sqlite.refused(*propose_plan()[:3], "--actor", "Anna \udcff", "--as-of", PLAN_DAY)
    assert "person field 'name': " in run.err and "U+DCFF" in run.err, str(run)


def test_bytes_that_are_not_utf8_are_refused_naming_the_file(iop_sqlite: Iop) -> None:
    source = iop_sqlite.file("latin1.yaml", "goals: Fler barn\nvalues: Öppet\n".encode("latin-1"))
    run = iop_sqlite.refused(*propose_plan("--file", source))
    assert f"--file: {source} is not UTF-8 text" in run.err and "line 2" in run.err, str(run)
    run = iop_sqlite.refused("import", source)
    assert f"field 'FILE': {source} is not UTF-8 text" in run.err, str(run)


ESC, CSI = "\x1b", "\x9b"  # the 7-bit and the 8-bit start of a terminal command


@pytest.fixture
def painted(iop_sqlite: Iop) -> Iop:
    """An organisation and an agreement title that carry terminal commands."""
    doc = initiative(
        title=f"Läxhjälp {ESC}]0;owned{ESC}\\ {CSI}2J",
        **{"org.name": f"Lyktan {ESC}[31mröd{ESC}[0m\rX"},
    )
    assert iop_sqlite.run("import", iop_sqlite.file("painted.yaml", as_yaml(doc))).code == 0
    return iop_sqlite


def test_terminal_control_characters_are_never_printed_raw(painted: Iop) -> None:
    for args in (["agreements"], ["show", "OSN 2026/0301"], ["show", f"OSN {ESC}[2J"]):
        run = painted.run(*args)
        printed = run.out + run.err
        assert ESC not in printed and CSI not in printed and "\r" not in printed, str(run)
    listed = painted.run("agreements").out
    assert "Lyktan \\u001b[31mröd\\u001b[0m\\u000dX" in listed
    assert "\\u009b2J" in painted.run("show", "OSN 2026/0301").out


def test_json_output_escapes_control_characters_and_keeps_the_text(painted: Iop) -> None:
    run = painted.run("agreements", "--json")
    assert ESC not in run.out and CSI not in run.out and "\r" not in run.out
    (new,) = [a for a in run.json() if a["diarienummer"] == "OSN 2026/0301"]
    assert new["organisation"]["name"] == f"Lyktan {ESC}[31mröd{ESC}[0m\rX"
    shown = painted.run("show", "OSN 2026/0301", "--json").json()
    assert shown["title"] == f"Läxhjälp {ESC}]0;owned{ESC}\\ {CSI}2J"


# --- text longer than its column --------------------------------------------------------

TOO_LONG = {
    # case: (changes to the import document, the record and field named, the limit)
    "title": ({"title": "T" * 301}, "agreements[0] (OSN 2026/0301) field 'title'", 300),
    "diarienummer": (
        {"diarienummer": "OSN 2026/" + "9" * 56},
        f"agreements[0] (OSN 2026/{'9' * 51}…) field 'diarienummer'",
        64,
    ),
    "person name": ({"person.name": "E" * 201}, "people[0] (EEEE", 200),
    "organisation name": ({"org.name": "L" * 201}, "organisations[0] (802002-4280)", 200),
    "phone": ({"contact.phone": "0" * 41}, "field 'contact.phone'", 40),
}


@pytest.mark.parametrize("case", list(TOO_LONG))
def test_text_longer_than_its_column_is_refused_alike_on_both_backends(iop: Iop, case: str) -> None:
    changes, where, limit = TOO_LONG[case]
    run = iop.refused("import", iop.file("long.yaml", as_yaml(initiative(**changes))))
    assert where in run.err, str(run)
    assert f"characters long; at most {limit}" in run.err, str(run)


def test_text_exactly_as_long_as_its_column_is_stored(iop: Iop) -> None:
    doc = initiative(title="T" * 300, **{"contact.phone": "0" * 40, "person.name": "E" * 200})
    run = iop.run("import", iop.file("full.yaml", as_yaml(doc)))
    assert run.code == 0, str(run)
    assert iop.run("show", "OSN 2026/0301", "--json").json()["title"] == "T" * 300


def test_step_text_longer_than_its_column_is_refused_alike_on_both_backends(iop: Iop) -> None:
    iop.step("propose_plan", ANNA, PLAN_DAY)
    iop.step("submit_for_decision", ANNA, "2026-11-24")
    decide = ["transition", REF, "approve_decision", "--actor", PER, "--as-of", "2026-12-15"]
    decide += ["--set", "meeting_date=2026-12-10", "--set", "minutes_adjusted=2026-12-14"]

    run = iop.refused(*decide, "--set", "paragraph=§ " + "2" * 31)
    assert "step 'approve_decision' field 'paragraph': is 33 characters long; at most 32" in (
        run.err
    ), str(run)
    run = iop.refused(*decide, "--set", "paragraph=§ 201", "--set", "body=" + "N" * 201)
    assert "field 'body': is 201 characters long; at most 200" in run.err, str(run)
    run = iop.refused(*decide, "--set", "paragraph=§ 201", "--set", "reason=" + "r" * 10_001)
    assert "field 'reason': is 10001 characters long; at most 10000" in run.err, str(run)


# --- dates the product cannot compute with ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["timeline", REF, "--as-of", "9999-12-31"], "--as-of"),
        (["timeline", REF, "--as-of", "0001-01-01"], "--as-of"),
        (["simulate", "--from", "9999-12-30", "--to", "9999-12-31"], "--from"),
        (["simulate", "--from", "2199-12-01", "--to", "2200-01-01"], "--to"),
        (propose_plan("--set", "end=9999-12-31"), "field 'end'"),
        (propose_plan("--set", "start=0001-01-01"), "field 'start'"),
    ],
)
def test_a_day_outside_the_supported_range_is_refused_naming_the_option(
    iop_sqlite: Iop, args: list[str], option: str
) -> None:
    run = iop_sqlite.refused(*args)
    assert option in run.err and "outside the supported range 1900-01-01 – 2199-12-31" in (
        run.err
    ), str(run)


def test_a_support_year_outside_the_range_is_refused(iop_sqlite: Iop) -> None:
    iop_sqlite.step("propose_plan", ANNA, PLAN_DAY)
    submit = ["transition", REF, "submit_for_decision", "--actor", ANNA, "--as-of", "2026-11-24"]
    run = iop_sqlite.refused(*submit, "--set", "support.99999=1000")
    assert "step 'submit_for_decision' field 'support.99999': " in run.err, str(run)
    run = iop_sqlite.refused(*submit, "--set", "support.２０２７=1000")
    assert "field 'support.２０２７': '２０２７' is not a year" in run.err, str(run)


# --- names that belong to the product ------------------------------------------------------


@pytest.mark.parametrize("name", ["system", "System", " IMPORT ", "ｓｙｓｔｅｍ"])
def test_a_person_may_not_take_a_name_of_the_product(iop_sqlite: Iop, name: str) -> None:
    doc = initiative(**{"person.name": name})
    run = iop_sqlite.refused("import", iop_sqlite.file("people.yaml", as_yaml(doc)))
    assert "people[0] (" in run.err and "field 'name': " in run.err, str(run)
    assert "is reserved" in run.err, str(run)


# --- a diarienummer that looks like an id ---------------------------------------------------


@pytest.mark.parametrize("diarienummer", ["12", "0042", "#12"])
def test_a_diarienummer_that_reads_as_an_id_is_refused(iop_sqlite: Iop, diarienummer: str) -> None:
    doc = initiative(diarienummer=diarienummer)
    run = iop_sqlite.refused("import", iop_sqlite.file("digits.yaml", as_yaml(doc)))
    assert f"agreements[0] ({diarienummer}) field 'diarienummer': " in run.err, str(run)
    assert "agreement id" in run.err, str(run)


def test_an_agreement_id_may_be_written_with_a_hash(iop_sqlite: Iop) -> None:
    by_number = iop_sqlite.run("show", REF, "--json").json()
    ident = by_number["id"]
    assert iop_sqlite.run("show", f"#{ident}", "--json").json() == by_number
    assert iop_sqlite.run("show", str(ident), "--json").json() == by_number  # as before
    assert iop_sqlite.run("timeline", f"#{ident}").code == 0
    missing = iop_sqlite.run("show", "#999")
    assert missing.code == 4 and "no agreement '#999'" in missing.err, str(missing)
    huge = iop_sqlite.run("show", "9" * 30)
    assert huge.code == 4 and "no agreement" in huge.err, str(huge)
