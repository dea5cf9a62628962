"""A municipality ready to pay: three Mjölby associations (tests/data/three_payees.yaml)
with their first instalments released on 2027-04-30, payment details on bankgiro,
plusgiro and bank account proposed by one person and confirmed by another, and attest
rights for two officers. Shared by the payment tests of the service, the CLI and the web."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.importer import import_file
from iop_workflow.service.payee_details import (
    decide_details,
    grant_attest_right,
    propose_details,
)
from iop_workflow.service.payouts import payout_run

DATA = Path(__file__).resolve().parent / "data" / "three_payees.yaml"
PAY_DAY = date(2027, 4, 30)
ANNA, BO, KARIN, MARIA = "Anna Berg", "Bo Nilsson", "Karin Lund", "Maria Holm"
LEILA = "Leila Haddad"
BANKGIRO_ORG, PLUSGIRO_ORG, ACCOUNT_ORG = "802471-3052", "802503-9176", "802400-5525"
DETAILS = {
    BANKGIRO_ORG: ("bankgiro", "5050-1055", None),
    PLUSGIRO_ORG: ("plusgiro", "90 20 03-3", None),
    ACCOUNT_ORG: ("bank_account", "801 230 659", "6001"),  # Handelsbanken
}
BO_LIMIT = 200_000_00  # below the batch of three (318 517,50 kr)
ANNA_LIMIT = 1_000_000_00


def now() -> datetime:
    return datetime.now(tz=UTC)


def released_payouts(db: Database) -> dict[int, int]:
    """Released payouts (id → öre)."""
    p = t.payouts
    with db.read() as session:
        rows = session.execute(
            sa.select(p.c.id, p.c.amount_ore).where(p.c.state == "released")
        ).all()
    return {r.id: r.amount_ore for r in rows}


def confirm_details(db: Database, orgnr: str, proposer: str = ANNA, confirmer: str = BO) -> None:
    kind, number, clearing = DETAILS[orgnr]
    propose_details(
        db,
        orgnr,
        kind=kind,
        number=number,
        clearing=clearing,
        actor_name=proposer,
        today=PAY_DAY,
        now=now(),
    )
    decide_details(db, orgnr, confirm=True, actor_name=confirmer, today=PAY_DAY, now=now())


def ready_to_pay(db: Database, *, details: bool = True) -> None:
    """Import, release the first instalments, confirm every payee's details (unless
    `details` is False) and grant Anna and Bo their attest limits."""
    import_file(db, str(DATA), now=now())
    payout_run(db, as_of=PAY_DAY, now=now())
    if details:
        for orgnr in DETAILS:
            confirm_details(db, orgnr)
    for person, limit in ((ANNA, ANNA_LIMIT), (BO, BO_LIMIT)):
        grant_attest_right(
            db,
            person,
            municipality="mjolby",
            limit_ore=limit,
            actor_name=KARIN,
            today=PAY_DAY,
            now=now(),
        )


def batch_state(db: Database, batch_id: int) -> str:
    b = t.payment_batches
    with db.read() as session:
        return str(session.execute(sa.select(b.c.state).where(b.c.id == batch_id)).scalar_one())


def audit_triggers(db: Database, entity: str, key: str) -> list[str]:
    a = t.audit_log
    with db.read() as session:
        return list(
            session.scalars(
                sa.select(a.c.trigger)
                .where(a.c.entity == entity, a.c.entity_key == key)
                .order_by(a.c.id)
            )
        )
