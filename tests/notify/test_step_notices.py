"""Notices that officers' steps cause: a returned report, an approved follow-up, a raised
repayment claim. Each is stored with the step (or not at all) and arrives by e-mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from notify_support import DNR, ORGANISATION, ROOT, Mailbox, at, email_config

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.domain.errors import IopError
from iop_workflow.domain.money import format_sek
from iop_workflow.notify import deliver_pending, list_notifications
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.steps import transition

ANNA, KARIN, LEILA = "Anna Berg", "Karin Lund", "Leila Haddad"
DOCUMENTS = ("income_statement", "balance_sheet", "activity_report", "statistics")
COUNTS = {
    "statistics.individkontakter": 40,
    "statistics.unika besökare": 120,
    "statistics.informationstillfällen": 6,
}
REVIEW_DAY = date(2027, 4, 12)
PAYOUT_DAY = date(2027, 4, 30)  # the first 2027 instalment of DNR


def step(db: Database, trigger: str, actor: str, day: date, **data: Any) -> Any:
    return transition(db, DNR, trigger, actor_name=actor, data=data, today=day, now=at(day))


def submit_2026(db: Database, day: date) -> None:
    for kind in DOCUMENTS:
        step(db, "receive_document", ANNA, day, year=2026, kind=kind)
    step(db, "submit_report", LEILA, day, year=2026, **COUNTS)


def kinds(db: Database) -> list[tuple[str, str, str]]:
    return sorted((n["kind"], n["stage"], n["subject_date"]) for n in list_notifications(db))


def test_a_returned_report_tells_the_organisation_what_to_complete(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    submit_2026(db, REVIEW_DAY)
    before = kinds(db)

    step(db, "return_follow_up", ANNA, REVIEW_DAY, year=2026, reason="Balansräkningen saknas.")
    report = deliver_pending(db, now=at(REVIEW_DAY, 12), settings=settings)

    new = sorted(set(kinds(db)) - set(before))
    assert [(kind, day) for kind, _, day in new] == [("report_returned", "2027-04-12")]
    [mail] = [m for m in mailbox.received if "kompletteras" in m.subject]
    assert mail.rcpt_tos == [ORGANISATION]
    assert mail.subject == f"Verksamhetsrapporten för 2026 behöver kompletteras ({DNR})"
    assert "Motivering: Balansräkningen saknas." in mail.body
    assert "Återsänd: 12 april 2027" in mail.body
    assert report.messages_failed == 0


def test_an_approved_follow_up_names_the_payout_it_released(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    # The report is late: the payout run of 30 April holds the instalment back.
    payout_run(db, as_of=PAYOUT_DAY, now=at(PAYOUT_DAY))
    approval_day = date(2027, 5, 4)
    submit_2026(db, approval_day)
    step(db, "approve_follow_up", KARIN, approval_day, year=2026)
    deliver_pending(db, now=at(approval_day, 12), settings=settings)

    approved = [n for n in list_notifications(db) if n["kind"] == "follow_up_approved"]
    assert [(n["stage"], n["state"]) for n in approved] == [("approved_2026", "sent")]
    [mail] = [m for m in mailbox.received if "godkänd" in m.subject]
    assert mail.rcpt_tos == [ORGANISATION]
    assert mail.subject == f"Uppföljningen för 2026 är godkänd och utbetalningen släpps ({DNR})"
    # The held April instalment is released by the approval itself, and the message
    # names its amount.
    with db.read() as session:
        p = t.payouts
        released = session.execute(
            sa.select(sa.func.sum(p.c.amount_ore)).where(
                p.c.state == "released", p.c.released_on == approval_day
            )
        ).scalar_one()
    assert released and released > 0
    assert f"Utbetalningen på {format_sek(released)} släpps." in mail.body


def test_a_raised_claim_reaches_the_organisation_with_amount_and_due_date(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    day = date(2026, 11, 30)
    step(db, "terminate", ANNA, day, date="2026-11-30", reason="Verksamheten har upphört.")
    step(db, "raise_claim", ANNA, day, reason="Pro rata för december.")
    deliver_pending(db, now=at(day, 12), settings=settings)

    [claim] = [n for n in list_notifications(db) if n["kind"] == "claim_raised"]
    assert claim["state"] == "sent"
    [mail] = [m for m in mailbox.received if "Återbetalningskrav" in m.subject]
    assert mail.rcpt_tos == [ORGANISATION]
    assert "Ska vara betalt senast:" in mail.body
    assert "Grund:" in mail.body and "kr" in mail.subject


def test_a_refused_step_queues_no_notice(db: Database) -> None:
    before = kinds(db)
    # Returning a report that was never submitted is refused: nothing may be queued.
    with pytest.raises(IopError):
        step(db, "return_follow_up", ANNA, REVIEW_DAY, year=2026, reason="Saknas.")
    assert kinds(db) == before


def test_a_report_returned_twice_in_one_day_gives_two_notices(db: Database) -> None:
    submit_2026(db, REVIEW_DAY)
    step(db, "return_follow_up", ANNA, REVIEW_DAY, year=2026, reason="Saknas.")
    step(db, "submit_report", LEILA, REVIEW_DAY, year=2026)
    step(db, "return_follow_up", ANNA, REVIEW_DAY, year=2026, reason="Saknas fortfarande.")

    returned = [n for n in list_notifications(db) if n["kind"] == "report_returned"]
    assert len(returned) == 2
    assert len({n["stage"] for n in returned}) == 2


def test_with_two_parties_each_organisation_gets_only_its_own_claim(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    import_file(db, str(ROOT / "examples" / "kramfors.yaml"), now=at(date(2026, 11, 23)))
    day, dnr, officer = date(2026, 11, 30), "VFN 2025/0031", "Johan Nordin"
    for trigger, data in (
        ("terminate", {"date": "2026-11-30", "reason": "Träffpunkten stänger."}),
        ("raise_claim", {"reason": "Pro rata."}),
    ):
        transition(db, dnr, trigger, actor_name=officer, data=data, today=day, now=at(day))
    deliver_pending(db, now=at(day, 12), settings=settings)

    claims = [m for m in mailbox.received if m.subject.startswith("Återbetalningskrav")]
    by_recipient = {m.rcpt_tos[0]: m for m in claims}
    assert len(claims) == 2
    assert sorted(by_recipient) == [
        "bertil.naslund@nyland.example",
        "gunnel.astrom@gudmundra.example",
    ]
    gudmundra = by_recipient["gunnel.astrom@gudmundra.example"].body
    nyland = by_recipient["bertil.naslund@nyland.example"].body
    assert "Organisation: Seniorföreningen Gudmundrå" in gudmundra
    assert "Nyland" not in gudmundra
    assert "Organisation: Pensionärsklubben Nyland-Ytterlännäs" in nyland
    assert "Gudmundrå" not in nyland
