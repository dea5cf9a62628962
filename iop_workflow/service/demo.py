"""The demo behind `make demo`: the bundled examples on a fresh embedded database, and
one Mjölby agreement walked through its lifecycle with fixed dates.

It goes through the same service functions as the CLI, so what it prints is what
an officer would see doing the same steps by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ..adapters.db import Database
from ..domain.context import StateChange
from ..domain.errors import IopError
from ..domain.money import format_sek
from .importer import import_file
from .steps import transition
from .views import agreement_audit, agreement_timeline, show

REF = "OSN 2026/0142"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEMO_DB = Path("var") / "demo.db"

Echo = Callable[[str], None]
DOCS = ("income_statement", "balance_sheet", "activity_report", "statistics")
STATS = {
    "statistics.individkontakter": "412",
    "statistics.unika besökare": "97",
    "statistics.informationstillfällen": "12",
}

# (day, actor, step, input, what it shows). Steps the rules refuse are part of the story.
SCRIPT: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("2026-11-23", "Anna Berg", "propose_plan", {}, "the dialogue is done; the plan is drafted"),
    (
        "2026-11-23",
        "Anna Berg",
        "submit_for_decision",
        {"end": "2032-01-01"},
        "a period past five years is refused",
    ),
    ("2026-11-24", "Anna Berg", "submit_for_decision", {}, "the plan goes to the nämnd"),
    (
        "2026-12-15",
        "Per Sandberg",
        "approve_decision",
        {"meeting_date": "2026-12-10", "paragraph": "§ 201", "minutes_adjusted": "2026-12-14"},
        "omsorgs- och socialnämnden approves",
    ),
    ("2026-12-16", "Anna Berg", "activate", {}, "activation needs both signatures"),
    ("2026-12-16", "Anna Berg", "sign", {}, "signs for"),  # the party is named when run
    ("2026-12-17", "Sven Ek", "sign", {}, "signs for"),
    ("2026-12-18", "Anna Berg", "activate", {}, "active: payouts and follow-ups are planned"),
    ("2027-04-30", "Anna Berg", "release_payout", {"payout": 1}, "first-year payout: no gate"),
    ("2027-10-29", "Anna Berg", "release_payout", {"payout": 2}, "second instalment"),
    ("2027-11-01", "Anna Berg", "open_follow_up", {"year": 2027}, "follow-up 2027 opens"),
    ("2028-03-10", "Sven Ek", "receive_document", {"year": 2027, "kind": DOCS[0]}, ""),
    ("2028-03-10", "Sven Ek", "receive_document", {"year": 2027, "kind": DOCS[1]}, ""),
    ("2028-03-10", "Sven Ek", "receive_document", {"year": 2027, "kind": DOCS[2]}, ""),
    ("2028-03-12", "Sven Ek", "submit_report", {"year": 2027, **STATS}, "report submitted"),
    (
        "2028-03-20",
        "Anna Berg",
        "approve_follow_up",
        {"year": 2027},
        "approval needs every document",
    ),
    (
        "2028-03-20",
        "Anna Berg",
        "return_follow_up",
        {"year": 2027, "reason": "Statistikbilagan saknas"},
        "returned for komplettering",
    ),
    (
        "2028-04-28",
        "Anna Berg",
        "release_payout",
        {"payout": 3},
        "year-2028 payout blocked until follow-up 2027 is approved",
    ),
    ("2028-05-02", "Sven Ek", "receive_document", {"year": 2027, "kind": DOCS[3]}, ""),
    ("2028-05-02", "Sven Ek", "submit_report", {"year": 2027}, "completed report"),
    (
        "2028-05-03",
        "Anna Berg",
        "approve_follow_up",
        {"year": 2027},
        "follow-up 2027 approved: the payout it held back is released at once",
    ),
    (
        "2028-06-10",
        "Anna Berg",
        "terminate",
        {"date": "2028-05-31", "reason": "Föreningen avvecklar mötesplatsen"},
        "terminated: unreleased payouts are cancelled",  # with the date it uses, when run
    ),
    (
        "2028-06-11",
        "Anna Berg",
        "raise_claim",
        {},
        "pro-rata repayment claim (återkrav) for the days after the termination date",
    ),
    ("2028-07-01", "Anna Berg", "record_claim_paid", {"claim": 1}, "the claim is paid"),
    ("2028-09-01", "Anna Berg", "open_follow_up", {"year": 2028}, "final report for 2028"),
    *[
        ("2028-09-01", "Sven Ek", "receive_document", {"year": 2028, "kind": kind}, "")
        for kind in DOCS
    ],
    ("2028-09-01", "Sven Ek", "submit_report", {"year": 2028, **STATS}, ""),
    ("2028-09-02", "Karin Lund", "approve_follow_up", {"year": 2028}, "final report approved"),
    ("2028-09-03", "Anna Berg", "close", {}, "everything settled: closed"),
]


def fresh_database(path: Path = DEMO_DB) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(f"sqlite:///{path.resolve()}")
    db.upgrade()
    db.mark_sandbox("iop demo: one agreement walked through its life on fixed dates")
    return db


def run_demo(echo: Echo, path: Path = DEMO_DB) -> Database:
    db = fresh_database(path)
    now = datetime.now(tz=UTC)
    echo(f"Demo database: {path.resolve()}")
    for name in ("mjolby.yaml", "kramfors.yaml"):
        imported = import_file(db, str(EXAMPLES / name), now=now)
        echo(
            f"  imported {name}: {imported.agreements} agreements, "
            f"{imported.organisations} organisations, {imported.people} people"
        )
    view = show(db, REF)
    parties = ", ".join(_organisation(p) for p in view["parties"])
    echo(
        f"\n{REF} — {view['title']}\n  {parties}, "
        f"{view['period']['start']} – {view['period']['end']}, state {view['state']}\n"
    )
    for day, actor, trigger, data, note in SCRIPT:
        data = _numbered(db, data)
        label = f"{day}  {actor:<13} {trigger:<20}"
        try:
            result = transition(
                db,
                REF,
                trigger,
                actor_name=actor,
                data=data,
                today=date.fromisoformat(day),
                now=now,
            )
        except IopError as refused:
            echo(f"{label} REFUSED: {refused}")
            continue
        first, cascaded = result.changes[0], result.changes[1:]
        extra = f" (+{len(cascaded)} cascaded)" if cascaded else ""
        note = _explained(db, trigger, actor, note)
        echo(
            f"{label} {first.from_state} → {first.to_state}{extra}"
            + (f"  — {note}" if note else "")
        )
        if cascaded:
            _cascaded(db, echo, cascaded)
        if trigger == "activate":
            _timeline(db, echo, date.fromisoformat(day))
    _summary(db, echo, path)
    return db


def _organisation(party: dict[str, Any]) -> str:
    """An organisation by its name, with its organisationsnummer in brackets."""
    return f"{party['name']} ({party['organisationsnummer']})"


def _party(view: dict[str, Any], party: str) -> str:
    if party == "municipality":
        return "the municipality"
    named = [_organisation(p) for p in view["parties"] if p["organisationsnummer"] == party]
    return named[0] if named else party


def _explained(db: Database, trigger: str, actor: str, note: str) -> str:
    """The script's note, with what only the database knows once the step is taken."""
    if trigger == "sign":
        view = show(db, REF)
        signed = [s for s in view["signatures"] if s["signed_by"] == actor]
        return f"{note} {_party(view, signed[-1]['party'])}" if signed else note
    if trigger in {"terminate", "raise_claim"}:
        view = show(db, REF)
        when = view["terminated_on"]
        if trigger == "terminate":
            return f"{note}; termination date {when}, its last active day"
        claimed = sum(c["amount_ore"] for c in view["claims"])
        return f"{note} {when}: {format_sek(claimed)}"
    return note


# Printed under each step that moved more than its own record.
CASCADED = "cascaded = moved by this same step at once, without a step of their own:"


def _cascaded(db: Database, echo: Echo, changes: list[StateChange]) -> None:
    """The records a step moved besides its own, grouped: e.g. the payout an approved
    follow-up was holding back, or everything a termination cancelled."""
    due = {str(p["id"]): p["due"] for p in show(db, REF)["payouts"]}
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for change in changes:
        what = due.get(change.entity_key, change.entity_key)
        key = (change.entity, change.from_state, change.to_state, change.reason)
        groups.setdefault(key, []).append(what if change.entity == "payout" else change.entity_key)
    indent = " " * 12
    echo(f"{indent}{CASCADED}")
    for (entity, source, dest, reason), keys in groups.items():
        name = entity.replace("_", "-")
        which = f"{len(keys)} {name}s" if len(keys) > 1 else name
        because = f" ({reason})" if reason else ""
        echo(f"{indent}  {which} {', '.join(keys)}: {source} → {dest}{because}")


def _numbered(db: Database, data: dict[str, Any]) -> dict[str, Any]:
    """The script counts payouts and claims from 1; the database has its own ids."""
    data = dict(data)
    for key, listing in (("payout", "payouts"), ("claim", "claims")):
        if key in data:
            data[key] = show(db, REF)[listing][int(data[key]) - 1]["id"]
    return data


def _timeline(db: Database, echo: Echo, today: date) -> None:
    echo("\n  Timeline (every dated obligation):")
    for row in agreement_timeline(db, REF, today):
        blocks = f"  blocks: {', '.join(row['blocks'])}" if row["blocks"] else ""
        echo(
            f"    {row['due']}  {row['kind']:<26} {row['responsible']:<25} {row['status']}{blocks}"
        )
    echo("")


def _summary(db: Database, echo: Echo, path: Path) -> None:
    view = show(db, REF)
    ended = ""
    if view["terminated_on"]:
        ended = f" (terminated as of {view['terminated_on']}: {view['termination_reason']})"
    echo(f"\nFinal state: {view['state']}{ended}")
    for payout in view["payouts"]:
        echo(f"  payout {payout['due']} {format_sek(payout['amount_ore']):>15}  {payout['state']}")
    for claim in view["claims"]:
        echo(f"  claim {format_sek(claim['amount_ore'])} ({claim['basis']}): {claim['state']}")
    echo(f"\n{len(agreement_audit(db, REF))} audit records; see them with:")
    echo(f"  IOP_DATABASE_URL=sqlite:///{path.resolve()} .venv/bin/iop audit '{REF}'")
