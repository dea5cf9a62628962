"""Properties of the service layer under random use, checked on real databases.

- Random sequences of steps (`service.steps.transition`) on the imported examples keep the
  audit trail exact, change nothing when refused, never pay past an unapproved follow-up,
  never hold a negative amount and never let a period grow past five years.
- Random damage to the example import files either imports everything or raises
  `InvalidInput` with the database exactly as it was: never another exception, never a
  partial write.

Each hypothesis example works on its own copy of a SQLite database prepared once per
module, so examples do not see each other's writes.
"""

from __future__ import annotations

import copy
import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database, Repository
from iop_workflow.domain.errors import InvalidInput, IopError
from iop_workflow.importing import load_yaml
from iop_workflow.importing.yamlio import read_yaml
from iop_workflow.policies import load_policy
from iop_workflow.service.importer import import_bundle, import_file
from iop_workflow.service.steps import transition
from iop_workflow.service.views import detail, steps_view

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {name: ROOT / "examples" / f"{name}.yaml" for name in ("mjolby", "kramfors")}
NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 11, 1)

REFS = ["OSN 2026/0142", "OSN 2024/0087", "VFN 2025/0031", "VFN 2026/0088"]

# (name, role, municipality for staff or the agreements a representative speaks for)
PEOPLE: list[tuple[str, str, str | tuple[str, ...]]] = [
    ("Anna Berg", "officer", "mjolby"),
    ("Karin Lund", "manager", "mjolby"),
    ("Per Sandberg", "secretary", "mjolby"),
    ("Maria Holm", "auditor", "mjolby"),
    ("Sven Ek", "organisation_representative", ("OSN 2026/0142",)),
    ("Leila Haddad", "organisation_representative", ("OSN 2024/0087",)),
    ("Johan Nordin", "officer", "kramfors"),
    ("Eva Sjölund", "manager", "kramfors"),
    ("Lena Westin", "secretary", "kramfors"),
    ("Olof Berglund", "auditor", "kramfors"),
    ("Gunnel Åström", "organisation_representative", ("VFN 2025/0031",)),
    ("Bertil Näslund", "organisation_representative", ("VFN 2025/0031",)),
    ("Ingrid Höglund", "organisation_representative", ("VFN 2026/0088",)),
]
ANYONE = [name for name, _, _ in PEOPLE] + ["system", "Nils Okänd"]

TRIGGERS = [
    "assess_criterion", "start_dialogue", "reject", "withdraw", "propose_plan",
    "back_to_dialogue", "submit_for_decision", "approve_decision", "reject_decision",
    "return_decision", "sign", "activate", "amend", "start_renewal", "renew",
    "decline_renewal", "end", "terminate", "raise_claim", "close", "open_follow_up",
    "receive_document", "submit_report", "approve_follow_up", "return_follow_up",
    "mark_report_overdue", "cancel_follow_up", "release_payout", "block_payout",
    "cancel_payout", "mark_claim_overdue", "record_claim_paid", "offset_claim",
    "write_off_claim", "no_such_step",
]  # fmt: skip
FOLLOW_UP_TRIGGERS = {t for t in TRIGGERS if "follow_up" in t or t in {
    "receive_document", "submit_report", "mark_report_overdue"}}  # fmt: skip
PAYOUT_TRIGGERS = {"release_payout", "block_payout", "cancel_payout"}
CLAIM_TRIGGERS = {"mark_claim_overdue", "record_claim_paid", "offset_claim", "write_off_claim"}
DOCUMENT_KINDS = ["income_statement", "balance_sheet", "activity_report", "statistics"]


# --- databases ------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_database(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def sqlite_dump(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return "\n".join(conn.iterdump())


def table_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: a dump that works on any backend."""
    with db.engine.connect() as conn:
        return {
            name: [
                tuple(row)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in sorted(t.TABLES.items())
        }


def look(db: Database, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What `iop show --json` and `iop triggers --json` give for `ref`, in one read."""
    with db.read() as session:
        agreement = Repository(session).agreement(ref)
        return detail(agreement), steps_view(agreement)


@dataclass(frozen=True)
class Templates:
    folder: Path
    files: dict[str, Path]
    counter: Iterator[int]

    @contextmanager
    def copy_of(self, name: str) -> Iterator[tuple[Database, Path]]:
        """A Database on a private copy of template `name`, gone afterwards."""
        path = self.folder / f"example-{next(self.counter)}.db"
        copy_database(self.files[name], path)
        db = Database(sqlite_url(path))
        try:
            yield db, path
        finally:
            db.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


# OSN 2026/0142 walked (as `iop transition` would) to active, its 2027 payouts released and
# the follow-up of 2027 open with three of its four documents: random walks from here reach
# the payout gate, termination, repayment and closing within a few steps.
WALK_TO_FOLLOW_UP = [
    ("propose_plan", "Anna Berg", "2026-11-23", {}),
    ("submit_for_decision", "Anna Berg", "2026-11-24", {}),
    ("approve_decision", "Per Sandberg", "2026-12-15",
     {"meeting_date": "2026-12-10", "paragraph": "§ 201", "minutes_adjusted": "2026-12-14"}),
    ("sign", "Anna Berg", "2026-12-16", {}),
    ("sign", "Sven Ek", "2026-12-17", {}),
    ("activate", "Anna Berg", "2026-12-18", {}),
    ("release_payout", "Anna Berg", "2027-04-30", {"due": "2027-04-30"}),
    ("release_payout", "Anna Berg", "2027-10-29", {"due": "2027-10-29"}),
    ("open_follow_up", "Anna Berg", "2027-11-01", {"year": "2027"}),
    *[
        ("receive_document", "Sven Ek", "2027-11-02", {"year": "2027", "kind": kind})
        for kind in ("income_statement", "balance_sheet", "activity_report")
    ],
]  # fmt: skip
START_DAY = {"examples": FIRST_DAY, "walked": date(2027, 11, 2)}


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """SQLite files at head: empty, with one example imported, with both, and with both
    and OSN 2026/0142 walked into its first follow-up (`walked`)."""
    folder = tmp_path_factory.mktemp("templates")
    contents = {"empty": [], "mjolby": ["mjolby"], "kramfors": ["kramfors"]}
    contents["examples"] = contents["walked"] = ["mjolby", "kramfors"]
    files = {}
    for name, imports in contents.items():
        path = folder / f"{name}.db"
        db = Database(sqlite_url(path))
        db.upgrade()
        for example in imports:
            import_file(db, str(EXAMPLES[example]), now=NOW)
        if name == "walked":
            for trigger, actor, day, step_data in WALK_TO_FOLLOW_UP:
                if "due" in step_data:
                    view, _ = look(db, "OSN 2026/0142")
                    due = step_data["due"]
                    step_data = {
                        "payout": next(p["id"] for p in view["payouts"] if p["due"] == due)
                    }
                transition(
                    db, "OSN 2026/0142", trigger, actor_name=actor, data=step_data,
                    today=date.fromisoformat(day), now=NOW,
                )  # fmt: skip
        db.dispose()
        files[name] = path
    return Templates(folder, files, itertools.count())


PROPERTY_SETTINGS = settings(
    deadline=None,
    # `clean_environ` (tests/conftest.py) only clears IOP_* variables: harmless to share.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- a. random steps --------------------------------------------------------------------


def _iso(day: date) -> str:
    return day.isoformat()


def _shift(day: date, days: int) -> str:
    return _iso(day + timedelta(days=days))


def _years_later(day: date, years: int) -> str:
    try:
        return _iso(day.replace(year=day.year + years))
    except ValueError:  # 29 February
        return _iso(date(day.year + years, 3, 1))


def step_input(
    draw: st.DrawFn, view: dict[str, Any], trigger: str, target: str, today: date
) -> dict[str, Any]:
    """Input for `trigger` as `--set` would give it: mostly sensible, about one step in six
    with a mistake (a bad date, a missing text, an impossible amount, a stranger's party)."""
    sloppy = not draw(st.integers(0, 5))

    def pick(good: list[Any], bad: list[Any]) -> Any:
        return draw(st.sampled_from(bad if sloppy and bad else good))

    def sometimes() -> bool:
        return sloppy or not draw(st.integers(0, 3))

    start = date.fromisoformat(view["period"]["start"])
    end = date.fromisoformat(view["period"]["end"])
    data: dict[str, Any] = {}
    if target:
        key, _, value = target.partition("=")
        data[key] = value
    elif trigger in FOLLOW_UP_TRIGGERS:
        data["year"] = pick([f["year"] for f in view["follow_ups"]] or [start.year], [1999, "i år"])
    elif trigger in PAYOUT_TRIGGERS:
        data["payout"] = pick([p["id"] for p in view["payouts"]] or [999_999], [999_999, "x"])
    elif trigger in CLAIM_TRIGGERS:
        data["claim"] = pick([c["id"] for c in view["claims"]] or [999_999], [999_999])
    if draw(st.booleans()) or trigger in ("reject", "terminate", "return_follow_up"):
        data["reason"] = pick(["Enligt beslut"], [""])

    if trigger == "assess_criterion":
        data["criterion"] = pick([c.key for c in load_policy(view["municipality"]).criteria], ["x"])
        data["verdict"] = draw(st.sampled_from(["met"] * 4 + ["partly_met", "not_met"]))
        data["motivation"] = pick(["Bedömt vid dialogmöte."], [""])
    elif trigger in ("propose_plan", "submit_for_decision", "amend"):
        if sometimes():
            good_ends = [_iso(end), _iso(end + timedelta(days=1)), _shift(start, 400)]
            data["end"] = pick(good_ends, [_years_later(start, 5), "2031-02-30"])
        if trigger == "propose_plan" and sometimes():
            data["start"] = pick([_iso(start), "2027-01-01"], ["2026-13-01"])
        if trigger != "propose_plan" and sometimes():
            year = draw(st.integers(start.year - 1, end.year + 1))
            data[f"support.{year}"] = pick(["300 000", "250 000,50"], ["0", "-5", "tusen"])
        if trigger == "amend":
            data["decided_on"] = _shift(today, -pick([0, 5], [-2]))
            data["paragraph"] = "§ 42"
            data["description"] = pick(["Tilläggsavtal om ändrad plan"], [""])
    elif trigger in ("approve_decision", "reject_decision", "return_decision", "renew"):
        meeting = today - timedelta(days=pick([0, 3, 10], [-3]))
        data["meeting_date"] = _iso(meeting)
        data["paragraph"] = pick(["§ 201"], [""])
        if draw(st.booleans()):
            data["minutes_adjusted"] = _shift(meeting, pick([0, 4], [-1]))
        if trigger == "renew":
            new_end = date.fromisoformat(_years_later(end, pick([1, 3, 4], [6])))
            data["end"] = _iso(new_end)
            for year in range(end.year + 1, new_end.year + 1):
                data[f"support.{year}"] = pick(["250 000"], ["0", "250 000"])
    elif trigger == "sign" and sloppy:
        data["party"] = draw(st.sampled_from(["802000-1239", "municipality", "ingen"]))
    elif trigger == "terminate":
        day = today if start <= today <= end else start
        data["date"] = pick([_iso(day)], [_shift(end, 10), "igår"])
    elif trigger == "raise_claim" and (view["state"] == "ended" or sloppy):
        data["amount"] = pick(["1 000", "12 500,50"], ["-3", "mycket"])
        data["basis"] = pick(["Outnyttjade medel enligt slutredovisningen"], [""])
    elif trigger == "receive_document":
        follow_up = next(
            (f for f in view["follow_ups"] if str(f["year"]) == str(data["year"])), None
        )
        have = {d["kind"] for d in follow_up["documents"]} if follow_up else set()
        data["kind"] = pick(
            [k for k in DOCUMENT_KINDS if k not in have] or DOCUMENT_KINDS, ["kvitto"]
        )
        if draw(st.booleans()):
            data["arrived"] = _shift(today, -pick([0, 5], [-3]))
    elif trigger == "submit_report":
        for indicator in view["indicators"]:
            if not sloppy or draw(st.booleans()):
                data[f"statistics.{indicator}"] = pick(["12", "0", "412"], ["-1", "x"])
    return data


# Steps that end an agreement's story early or throw work away: chosen less often, so
# that random walks get deep into the lifecycle.
RARE = {
    "withdraw", "reject", "reject_decision", "return_decision", "back_to_dialogue",
    "decline_renewal", "cancel_follow_up", "cancel_payout", "write_off_claim", "block_payout",
    "return_follow_up", "amend", "mark_report_overdue", "terminate",
}  # fmt: skip
REF_WEIGHTS = ["OSN 2026/0142"] * 4 + REFS  # the example in dialogue has the longest way


def choose_step(draw: st.DrawFn, available: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    """(trigger, target, roles): mostly a step allowed now, sometimes any trigger at all.

    A trigger is chosen first, then its target, mostly the earliest (the next payout, the
    oldest follow-up), so that ten planned payouts do not crowd out everything else."""
    roll = draw(st.integers(0, 9))
    onward = [s for s in available if s["trigger"] not in RARE]
    pool = onward if roll < 8 and onward else available
    if roll == 9 or not pool:
        return draw(st.sampled_from(TRIGGERS)), "", []
    # Steps on follow-ups, payouts and claims weigh three times as much as agreement steps.
    weighted = sorted({(s["trigger"], 1 if s["entity"] == "agreement" else 3) for s in pool})
    trigger = draw(st.sampled_from([name for name, weight in weighted for _ in range(weight)]))
    entries = [s for s in pool if s["trigger"] == trigger]
    chosen = entries[0] if draw(st.integers(0, 3)) else draw(st.sampled_from(entries))
    return chosen["trigger"], chosen["target"], list(chosen["roles"])


def due_day(view: dict[str, Any], target: str) -> date:
    """The day a payout is due or a follow-up opens (FIRST_DAY for anything else)."""
    key, _, value = target.partition("=")
    days = [p["due"] for p in view["payouts"] if key == "payout" and str(p["id"]) == value]
    days += [f["opens"] for f in view["follow_ups"] if key == "year" and str(f["year"]) == value]
    return date.fromisoformat(days[0]) if days else FIRST_DAY


def choose_actor(draw: st.DrawFn, ref: str, municipality: str, roles: list[str]) -> str:
    fitting = [
        name
        for name, role, scope in PEOPLE
        if role in roles and (scope == municipality or ref in scope)
    ]
    if fitting and draw(st.integers(0, 9)):
        return draw(st.sampled_from(fitting))
    return draw(st.sampled_from(ANYONE))


@dataclass(frozen=True)
class Snapshot:
    audit_rows: int
    version: int
    state: str


def snapshot(db: Database, ref: str) -> Snapshot:
    with db.engine.connect() as conn:
        audit_rows = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar_one()
        version, state = conn.execute(
            sa.select(t.agreements.c.version, t.agreements.c.state).where(
                t.agreements.c.diarienummer == ref
            )
        ).one()
    return Snapshot(audit_rows, version, str(state))


def new_audit_rows(db: Database, after_count: int) -> list[tuple[str, str, str]]:
    a = t.audit_log
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(a.c.trigger, a.c.from_state, a.c.to_state)
            .order_by(a.c.id)
            .offset(after_count)
        )
        return [(row.trigger, row.from_state, row.to_state) for row in rows]


def fifth_anniversary(start: date) -> date:
    try:
        return start.replace(year=start.year + 5)
    except ValueError:  # 29 February: the anniversary falls on 1 March
        return date(start.year + 5, 3, 1)


def assert_rules_hold(db: Database) -> None:
    """The rules that must hold in every table after every step."""
    with db.engine.connect() as conn:
        agreements = {
            row.id: row
            for row in conn.execute(
                sa.select(
                    t.agreements.c.id,
                    t.agreements.c.diarienummer,
                    t.agreements.c.start,
                    t.agreements.c.end,
                    t.agreements.c.first_start,
                )
            )
        }
        follow_ups = {
            (row.agreement_id, row.year): str(row.state)
            for row in conn.execute(
                sa.select(t.follow_ups.c.agreement_id, t.follow_ups.c.year, t.follow_ups.c.state)
            )
        }
        released = conn.execute(
            sa.select(t.payouts.c.agreement_id, t.payouts.c.covers_from, t.payouts.c.id).where(
                t.payouts.c.state == "released"
            )
        ).all()
        for table in (
            t.payouts,
            t.repayment_claims,
            t.year_support,
            t.contributions,
            t.other_income,
        ):
            negative = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.amount_ore < 0)
            ).scalar_one()
            assert negative == 0, f"{table.name} holds a negative amount"

    for agreement in agreements.values():
        assert agreement.end < fifth_anniversary(agreement.start), (
            f"{agreement.diarienummer}: period {agreement.start} – {agreement.end} "
            "is longer than five years"
        )
    for agreement_id, covers_from, payout_id in released:
        agreement = agreements[agreement_id]
        first_year = (agreement.first_start or agreement.start).year
        if covers_from.year > first_year:
            gate = follow_ups.get((agreement_id, covers_from.year - 1))
            assert gate == "approved", (
                f"{agreement.diarienummer}: payout {payout_id} for {covers_from} is released "
                f"while the follow-up of {covers_from.year - 1} is {gate}"
            )


@settings(PROPERTY_SETTINGS, max_examples=20)
@given(data=st.data())
def test_random_steps_keep_the_audit_trail_exact_and_refused_steps_change_nothing(
    templates: Templates, data: st.DataObject
) -> None:
    start = data.draw(st.sampled_from(["examples", "walked", "walked"]), label="database")
    with templates.copy_of(start) as (db, path):
        today, ref = START_DAY[start], None
        for _ in range(data.draw(st.integers(1, 50), label="steps")):
            today += timedelta(days=data.draw(st.sampled_from([0, 0, 0, 1, 3, 14, 45, 120])))
            if ref is None or not data.draw(st.integers(0, 4)):  # stay a while with one
                ref = data.draw(st.sampled_from(REF_WEIGHTS), label="ref")
            view, available = look(db, ref)
            trigger, target, roles = choose_step(data.draw, available)
            if target and data.draw(st.booleans()):  # wait for the day it is due or opens
                today = max(today, due_day(view, target))
            actor = choose_actor(data.draw, ref, view["municipality"], roles)
            step_data = step_input(data.draw, view, trigger, target, today)
            before, tables_before = snapshot(db, ref), sqlite_dump(path)

            try:
                result = transition(
                    db, ref, trigger, actor_name=actor, data=step_data, today=today, now=NOW
                )
            except IopError as error:
                event(f"refused: {type(error).__name__}")
                after = snapshot(db, ref)
                assert after.audit_rows == before.audit_rows, "a refused step was audited"
                assert (after.version, after.state) == (before.version, before.state)
                assert sqlite_dump(path) == tables_before, "a refused step changed the database"
                continue

            event(f"step done: {trigger}")
            event(f"agreement reached: {result.state}")
            after = snapshot(db, ref)
            assert after.audit_rows - before.audit_rows == len(result.changes)
            assert new_audit_rows(db, before.audit_rows) == [
                (c.trigger, c.from_state, c.to_state) for c in result.changes
            ]
            assert result.changes and result.changes[0].trigger == trigger
            assert after.state == result.state
            assert after.version > before.version, "every step bumps the agreement's version"
            assert_rules_hold(db)


# --- b. damaged import files ------------------------------------------------------------

EXAMPLE_DOCUMENTS = {
    name: read_yaml(path.read_text(encoding="utf-8")) for name, path in EXAMPLES.items()
}

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2027-02-30", "2032-01-01", "2027-01-01", "-5", "300 000,505", "802002-4281",
            "802002-4280", "mjolby", "gotham", "met", "officer", "", "   ", "§ 1", "9" * 40,
            "Anna Berg", "Nils Okänd", "active", "closed", "approved", "money",
        ]
    ),
)  # fmt: skip
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=6), SCALARS, max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    node = document
    for step in path[:-1]:
        node = node[step]
    return node


@st.composite
def damaged_documents(draw: st.DrawFn) -> str:
    """YAML text: an example file with keys dropped, values replaced, records duplicated;
    sometimes with random characters spliced in, sometimes random text altogether."""
    if not draw(st.integers(0, 7)):
        return draw(st.text(max_size=200))
    document = copy.deepcopy(EXAMPLE_DOCUMENTS[draw(st.sampled_from(sorted(EXAMPLE_DOCUMENTS)))])
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3, 4]))):
        paths = list(_paths(document))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        action = draw(st.sampled_from(["drop", "replace", "replace", "duplicate"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
        else:
            lists = [p for p in paths if isinstance(_parent(document, p), list)]
            if lists:
                where = draw(st.sampled_from(lists))
                records = _parent(document, where)
                records.append(copy.deepcopy(records[where[-1]]))
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    if not draw(st.integers(0, 5)):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(min_size=1, max_size=5)) + text[at:]
    return text


def _count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _section(document: Any, key: str) -> list[Any]:
    found = document.get(key) if isinstance(document, dict) else None
    return found if isinstance(found, list) else []


@settings(PROPERTY_SETTINGS, max_examples=80)
@given(text=damaged_documents(), base=st.sampled_from(["empty", "mjolby", "kramfors"]))
def test_a_damaged_import_file_imports_everything_or_nothing_with_invalid_input(
    templates: Templates, text: str, base: str
) -> None:
    with templates.copy_of(base) as (db, path):
        before = sqlite_dump(path)
        counts = {
            table.name: _count(db, table) for table in (t.agreements, t.organisations, t.people)
        }

        try:
            bundle = load_yaml(text)
            result = import_bundle(db, bundle, now=NOW)
        except InvalidInput as error:
            event("refused with InvalidInput")
            assert str(error), "the refusal says what is wrong"
            assert sqlite_dump(path) == before, "a refused import changed the database"
            return

        event("imported")
        document = read_yaml(text)
        sections = {
            "agreements": t.agreements,
            "organisations": t.organisations,
            "people": t.people,
        }
        for key, table in sections.items():
            added = _count(db, table) - counts[table.name]
            assert added == len(_section(document, key)), f"{key}: partly imported"
        assert (result.agreements, result.organisations, result.people) == tuple(
            len(_section(document, key)) for key in sections
        )
        with db.engine.connect() as conn:
            stored_dnr = set(conn.execute(sa.select(t.agreements.c.diarienummer)).scalars())
            stored_orgnr = set(
                conn.execute(sa.select(t.organisations.c.organisationsnummer)).scalars()
            )
        assert {a.diarienummer for a in bundle.agreements} <= stored_dnr
        assert {o.organisationsnummer for o in bundle.organisations} <= stored_orgnr


# An organisation and its representative are new; the officer is nobody the database
# knows. The import fails only after the organisation and the person were flushed.
LATE_FAILURE = """\
people:
  - {name: Elsa Lind, role: organisation_representative, email: elsa@lyktan.example,
     organisation: 802002-4280}
organisations:
  - name: Kvartersföreningen Lyktan
    organisationsnummer: 802002-4280
    contact: {name: Elsa Lind, email: elsa@lyktan.example}
agreements:
  - diarienummer: OSN 2026/0301
    municipality: mjolby
    title: Läxhjälp på Lyktan
    officer: Nils Okänd
    period: {start: 2027-01-01, end: 2028-12-31}
    parties: [{organisation: 802002-4280}]
"""


def test_an_import_refused_after_its_first_rows_were_written_leaves_no_trace(
    db: Database,
) -> None:
    import_file(db, str(EXAMPLES["mjolby"]), now=NOW)
    before = table_rows(db)

    with pytest.raises(InvalidInput) as refused:
        import_bundle(db, load_yaml(LATE_FAILURE), now=NOW)

    assert "Nils Okänd" in str(refused.value)
    assert "officer" in str(refused.value)
    assert table_rows(db) == before
