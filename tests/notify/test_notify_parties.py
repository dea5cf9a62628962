"""An agreement with two party organisations (Kramfors, 60/40): each party has its own
instalment, so each is told about its own payout, with its own amount."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from notify_support import ROOT, Mailbox, at, email_config

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.domain.money import format_sek
from iop_workflow.notify import deliver_pending
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run

DNR = "VFN 2025/0031"
PAYOUT_DAY = date(2027, 4, 30)  # its 2026 report is due the same day: the payout is held
CONTACTS = {
    "802529-4367": "gunnel.astrom@gudmundra.example",
    "802480-5528": "bertil.naslund@nyland.example",
}


def blocked_amounts(db: Database) -> dict[str, int]:
    """Each party's blocked instalment, by its contact address."""
    p, a, o = t.payouts, t.agreements, t.organisations
    query = (
        sa.select(o.c.organisationsnummer, p.c.amount_ore)
        .join(a, a.c.id == p.c.agreement_id)
        .join(o, o.c.id == p.c.organisation_id)
        .where(a.c.diarienummer == DNR, p.c.state == "blocked")
    )
    with db.read() as session:
        return {CONTACTS[nr]: amount for nr, amount in session.execute(query)}


def test_each_party_is_told_of_its_own_blocked_payout_and_amount(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    import_file(db, str(ROOT / "examples" / "kramfors.yaml"), now=at(date(2026, 11, 23)))
    payout_run(db, as_of=PAYOUT_DAY, now=at(PAYOUT_DAY))

    report = deliver_pending(db, now=at(PAYOUT_DAY, 8), settings=settings)

    amounts = blocked_amounts(db)
    assert len(amounts) == 2 and len(set(amounts.values())) == 2  # 60/40: two amounts
    blocked = [m for m in mailbox.received if m.subject.startswith("Utbetalning spärrad")]
    to_parties = {m.rcpt_tos[0]: m for m in blocked if m.rcpt_tos[0] in amounts}
    assert sorted(to_parties) == sorted(amounts)
    assert len([m for m in blocked if m.rcpt_tos[0] in amounts]) == 2  # one each
    for address, mail in to_parties.items():
        assert format_sek(amounts[address]) in mail.subject
        other = next(v for k, v in amounts.items() if k != address)
        assert format_sek(other) not in mail.body
    # The officer hears of both instalments, one message each.
    officer = [m for m in blocked if m.rcpt_tos == ["johan.nordin@kramfors.example"]]
    assert sorted(m.subject for m in officer) == sorted(
        f"Utbetalning spärrad: {format_sek(v)} den 30 april 2027 ({DNR})" for v in amounts.values()
    )
    assert report.messages_failed == 0
