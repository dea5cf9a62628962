"""A prepared product for the web tests: both examples imported, a second Mjölby officer,
passwords for everyone, and agreement OSN 2024/0087 brought to the point where its
2027-04-30 payout is held by the 2026 follow-up (documents in, report not approved).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from iop_workflow.adapters.db import Database
from iop_workflow.bootstrap import App, build
from iop_workflow.clock import Clock
from iop_workflow.config import Settings
from iop_workflow.service.identity import set_password
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.people_register import PersonChange, add_person
from iop_workflow.service.steps import transition
from iop_workflow.service.views import show

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DAY = date(2027, 4, 30)
REF = "OSN 2024/0087"
KRAMFORS_REF = "VFN 2025/0031"
PASSWORD = "ett långt lösenord 2027"
ANNA, BO, KARIN, PER, MARIA = "Anna Berg", "Bo Lind", "Karin Lund", "Per Sandberg", "Maria Holm"
LEILA, JOHAN = "Leila Haddad", "Johan Nordin"
DOCUMENTS = ("income_statement", "balance_sheet", "activity_report", "statistics")
EVERYONE = (ANNA, BO, KARIN, PER, MARIA, LEILA, JOHAN, "Sven Ek")


def now() -> datetime:
    return datetime(2027, 4, 30, 8, 0, tzinfo=UTC)


def prepared_app(folder: Path, *, documents_in: bool = True, **settings: Any) -> App:
    """The product on a SQLite file in `folder`, its system's day `DAY`. Without
    `documents_in`, follow-up 2026 is open with nothing received: the association
    has its report to hand in."""
    url = f"sqlite:///{folder / 'iop.db'}"
    settings.setdefault("document_dir", str(folder / "documents"))
    app = build(Settings(database_url=url, **settings), clock=Clock(fixed_day=DAY))
    db = app.database
    db.upgrade()
    for name in ("mjolby.yaml", "kramfors.yaml"):
        import_file(db, str(EXAMPLES / name), now=now())
    add_person(
        db,
        BO,
        PersonChange(
            role="officer", email="bo.lind@mjolby.example", municipality="mjolby", manager=KARIN
        ),
        actor_name=KARIN,
        today=DAY,
        now=now(),
        clock=app.clock,
    )
    for name in EVERYONE:
        set_password(db, name, PASSWORD, now=now())
    hold_payout(db, app.clock, documents_in=documents_in)
    return app


def hold_payout(db: Database, clock: Clock, *, documents_in: bool = True) -> None:
    """Follow-up 2026 opened (and its documents in); the payout run of `DAY` holds the
    payout that needs it approved."""
    step = {"today": DAY, "now": now(), "clock": clock}
    transition(db, REF, "open_follow_up", actor_name=ANNA, data={"year": "2026"}, **step)
    for kind in DOCUMENTS if documents_in else ():
        transition(
            db,
            REF,
            "receive_document",
            actor_name=ANNA,
            data={"year": "2026", "kind": kind},
            **step,
        )
    payout_run(db, as_of=DAY, now=now(), clock=clock)


def payout_states(db: Database, ref: str = REF) -> dict[str, str]:
    return {p["due"]: p["state"] for p in show(db, ref)["payouts"]}


def agreement_id(db: Database, ref: str = REF) -> int:
    return int(show(db, ref)["id"])
