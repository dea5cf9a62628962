"""Persistence of the domain on SQLite and on a real PostgreSQL (fixtures in conftest.py)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from iop_workflow.adapters import orm
from iop_workflow.adapters.db import Database, Repository, default_database_url, migration_config
from iop_workflow.domain.errors import InvalidInput, IopError, NotFound, StaleUpdate
from iop_workflow.domain.model import (
    MUNICIPALITY_PARTY,
    Agreement,
    Amendment,
    AuditRecord,
    Contribution,
    CriterionAssessment,
    Decision,
    FollowUp,
    FollowUpDocument,
    Organisation,
    OtherIncome,
    Party,
    Payout,
    Person,
    RepaymentClaim,
    Signature,
    YearSupport,
)
from iop_workflow.domain.states import (
    AgreementState,
    ClaimKind,
    ContributionKind,
    DecisionKind,
    DecisionOutcome,
    DocumentKind,
    FollowUpState,
    PayoutState,
    Role,
    Verdict,
)

DNR = "SN 2026/118"
ORGNR = ["802000-1239", "802400-5673", "716400-8901"]


def _org(nr: str, name: str) -> Organisation:
    return Organisation(name, nr, "Kim Berg", "kim@example.com", forening_registered=True)


def _store_agreement(db: Database, dnr: str = DNR, *orgnrs: str) -> Agreement:
    """Store an active agreement with something in every list, and its audit record."""
    with db.write() as session:
        orgs = [_org(nr, f"Förening {i}") for i, nr in enumerate(orgnrs or ORGNR[:2])]
        session.add_all(orgs)
        session.flush()
        a = orgs[0]
        shares = [6_000, 4_000] if len(orgs) == 2 else [10_000 // len(orgs)] * len(orgs)
        agreement = Agreement(
            dnr, "mjolby", "Socialnämnden", "Läxhjälp", "Stöd i skolan", "Barn 7-15 år",
            date(2026, 1, 1), date(2027, 12, 31), "Eva Handläggare",
            state=AgreementState.ACTIVE, indicators=["deltagare", "träffar"],
            payout_dates=["01-31", "07-31"],
            parties=[Party(org, share) for org, share in zip(orgs, shares, strict=True)],
            assessments=[CriterionAssessment("ideell", Verdict.MET, "Ideell förening")],
            support=[YearSupport(2026, 15_000_000), YearSupport(2027, 15_500_000)],
            contributions=[Contribution(2026, ContributionKind.VOLUNTEER_HOURS, 3_000_000, 1200)],
            other_income=[OtherIncome(2026, "Allmänna arvsfonden", 500_000)],
            decisions=[Decision(DecisionKind.ENTRY, "Socialnämnden", date(2025, 11, 20),
                                "§ 151", DecisionOutcome.APPROVED)],
            signatures=[Signature(MUNICIPALITY_PARTY, date(2025, 12, 1), "Ordförande"),
                        Signature(a.organisationsnummer, date(2025, 12, 2), "Kim Berg")],
            follow_ups=[FollowUp(2026, date(2027, 1, 1), date(2027, 3, 31),
                                 FollowUpState.SUBMITTED, statistics={"deltagare": 41},
                                 documents=[FollowUpDocument(DocumentKind.ACTIVITY_REPORT,
                                                             date(2027, 3, 2))])],
            payouts=[Payout(org.id or 0, date(2026, 1, 1), date(2026, 6, 30), date(2026, 1, 30),
                            3_000_000 * (i + 1), PayoutState.BLOCKED if i == 0 else
                            PayoutState.PLANNED, "väntar på beslut" if i == 0 else None)
                     for i, org in enumerate(orgs)],
            claims=[RepaymentClaim(a.id or 0, ClaimKind.UNUSED, 120_000, "oförbrukat",
                                   date(2027, 4, 1), date(2027, 5, 1))],
            amendments=[Amendment(date(2026, 9, 1), "§ 77", "Fler platser",
                                  support_changes={"2027": 16_000_000})],
        )  # fmt: skip
        session.add(agreement)
        session.flush()
        assert agreement.id is not None
        session.add(_audit(agreement.id))
    return agreement


def _audit(agreement_id: int) -> AuditRecord:
    return AuditRecord(
        datetime(2026, 1, 2, 9, 30, tzinfo=UTC), "Eva Handläggare", "officer", agreement_id,
        "agreement", DNR, "activate", "signing", "active", data={"by": "test"},
    )  # fmt: skip


def _count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_migrating_an_empty_database_creates_exactly_the_declared_schema(
    empty_db: Database,
) -> None:
    empty_db.upgrade()
    empty_db.upgrade()  # a second start of the product must not fail

    with empty_db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        differences = compare_metadata(MigrationContext.configure(conn), orm.metadata)
    assert tables == set(orm.TABLES) | {"alembic_version"}
    assert differences == []

    with empty_db.engine.begin() as conn:
        config = migration_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    empty_db.upgrade()
    assert _count(empty_db, orm.agreements) == 0


def test_an_agreement_with_everything_recorded_reads_back_as_it_was_written(
    db: Database,
) -> None:
    written = _store_agreement(db)

    with db.read() as session:
        repo = Repository(session)
        loaded = repo.agreement(DNR)
        audit = repo.audit(loaded.id or 0)

    # Compared after the session closed: every list was loaded with the agreement.
    assert loaded is not written
    assert dataclasses.asdict(loaded) == dataclasses.asdict(written)
    assert [p.organisation.name for p in loaded.parties] == ["Förening 0", "Förening 1"]
    assert loaded.follow_ups[0].documents[0].kind is DocumentKind.ACTIVITY_REPORT
    assert loaded.support_for(2027) == 15_500_000
    assert loaded.payouts[0].state is PayoutState.BLOCKED
    assert loaded.version == 1
    assert [r.to_state for r in audit] == ["active"]
    assert audit[0].at == datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
    assert audit[0].at.tzinfo is not None


def test_states_and_kinds_are_stored_as_their_lowercase_values(db: Database) -> None:
    _store_agreement(db)
    with db.write() as session:
        session.add(Person("Kim Berg", Role.ORG_REP))

    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT a.state, p.state, c.kind, f.state FROM agreements a "
            "JOIN payouts p ON p.agreement_id = a.id JOIN repayment_claims c "
            "ON c.agreement_id = a.id JOIN follow_ups f ON f.agreement_id = a.id "
            "ORDER BY p.id"
        ).first()
        role = conn.exec_driver_sql("SELECT role FROM people").scalar_one()
    assert tuple(stored or ()) == ("active", "blocked", "unused", "submitted")
    assert role == "organisation_representative"


def test_a_change_made_from_an_outdated_copy_is_refused_and_the_first_change_survives(
    db: Database,
) -> None:
    _store_agreement(db)
    with db.read() as session:
        mine = Repository(session).agreement(DNR)
    with db.read() as session:
        theirs = Repository(session).agreement(DNR)

    with db.write() as session:
        session.add(theirs)
        theirs.title = "Läxhjälp och idrott"
    with pytest.raises(StaleUpdate, match=f"agreement {DNR} was changed by someone else"):
        with db.write() as session:
            session.add(mine)
            mine.title = "Läxhjälp för alla"

    with db.read() as session:
        assert Repository(session).agreement(DNR).title == "Läxhjälp och idrott"


def test_audit_records_cannot_be_changed_or_deleted_through_the_application(
    db: Database,
) -> None:
    agreement_id = _store_agreement(db).id or 0

    with pytest.raises(IopError, match="audit records are append-only"):
        with db.write() as session:
            Repository(session).audit(agreement_id)[0].reason = "tidied up"
    with pytest.raises(IopError, match="audit records are append-only"):
        with db.write() as session:
            session.delete(Repository(session).audit(agreement_id)[0])

    with db.read() as session:
        [record] = Repository(session).audit(agreement_id)
    assert record.reason == ""


def test_the_database_itself_refuses_to_change_or_delete_audit_records(db: Database) -> None:
    _store_agreement(db)
    log = orm.audit_log

    for statement in (sa.update(log).values(reason="edited"), sa.delete(log)):
        with pytest.raises(sa.exc.DBAPIError, match="audit records are append-only"):
            with db.engine.begin() as conn:
                conn.execute(statement)
        with pytest.raises(IopError, match="audit records are append-only"):
            with db.write() as session:
                session.execute(statement)

    with db.engine.connect() as conn:
        assert conn.execute(sa.select(log.c.reason)).scalars().all() == [""]


def test_a_second_agreement_with_the_same_diarienummer_is_refused_and_nothing_is_written(
    db: Database,
) -> None:
    _store_agreement(db)

    with pytest.raises(InvalidInput, match="diarienummer"):
        _store_agreement(db, DNR, ORGNR[2])

    assert _count(db, orm.agreements) == 1
    assert _count(db, orm.organisations) == 2  # the new organisation was not kept either


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("follow-up for the same year", "follow-up field 'year'"),
        ("payout for the same party and period", "payout field 'covers_from'"),
        ("organisation with the same organisationsnummer", "organisationsnummer"),
        ("person with the same name", "person field 'name'"),
    ],
)
def test_a_never_twice_record_added_twice_is_refused_in_plain_words(
    db: Database, what: str, words: str
) -> None:
    agreement_id = _store_agreement(db).id or 0
    before = {t: _count(db, orm.TABLES[t]) for t in ("follow_ups", "payouts", "organisations")}
    with db.write() as session:
        session.add(Person("Eva Handläggare", Role.OFFICER, municipality="mjolby"))

    with pytest.raises(InvalidInput, match=words):
        with db.write() as session:
            agreement = Repository(session).agreement(agreement_id)
            if what.startswith("follow-up"):
                agreement.follow_ups.append(FollowUp(2026, date(2027, 1, 1), date(2027, 4, 30)))
            elif what.startswith("payout"):
                first = agreement.payouts[0]
                agreement.payouts.append(
                    Payout(first.organisation_id, first.covers_from, date(2026, 3, 31),
                           first.due_on, 1)
                )  # fmt: skip
            elif what.startswith("organisation"):
                session.add(_org(ORGNR[0], "Samma nummer"))
            else:
                session.add(Person("Eva Handläggare", Role.MANAGER))

    after = {t: _count(db, orm.TABLES[t]) for t in before}
    assert after == before


def test_a_failed_unit_of_work_leaves_the_database_unchanged(db: Database) -> None:
    agreement_id = _store_agreement(db).id or 0

    with pytest.raises(RuntimeError, match="mail server down"):
        with db.write() as session:
            agreement = Repository(session).agreement(agreement_id)
            agreement.state = AgreementState.TERMINATED
            agreement.payouts[0].state = PayoutState.CANCELLED
            session.add(_org(ORGNR[2], "Ny förening"))
            session.flush()  # the changes reached the database inside the transaction
            raise RuntimeError("mail server down")

    with db.read() as session:
        agreement = Repository(session).agreement(agreement_id)
        assert agreement.state is AgreementState.ACTIVE
        assert agreement.payouts[0].state is PayoutState.BLOCKED
        assert Repository(session).organisation_by_orgnr(ORGNR[2]) is None


def test_statistics_changed_in_place_are_saved(db: Database) -> None:
    agreement_id = _store_agreement(db).id or 0
    with db.write() as session:
        agreement = Repository(session).agreement(agreement_id)
        agreement.follow_ups[0].statistics["träffar"] = 38
        agreement.indicators.append("nöjdhet")

    with db.read() as session:
        agreement = Repository(session).agreement(agreement_id)
    assert agreement.follow_ups[0].statistics == {"deltagare": 41, "träffar": 38}
    assert agreement.indicators == ["deltagare", "träffar", "nöjdhet"]
    assert agreement.follow_ups[0].version == 2


def test_an_open_read_does_not_keep_a_writer_waiting(db: Database) -> None:
    agreement_id = _store_agreement(db).id or 0
    with db.read() as reading:
        seen = Repository(reading).agreement(agreement_id)
        with db.write() as writing:  # would wait 30 s and fail if reads took the lock
            Repository(writing).agreement(agreement_id).title = "Nytt namn"
        assert seen.title == "Läxhjälp"
    with db.read() as session:
        assert Repository(session).agreement(agreement_id).title == "Nytt namn"


def test_many_units_of_work_at_once_all_succeed(db: Database) -> None:
    _store_agreement(db)

    def officer_work(worker: int) -> None:
        for step in range(10):
            with db.write() as session:
                repo = Repository(session)
                repo.agreement(DNR)  # read first, then write: what the service layer does
                session.add(Person(f"Handläggare {worker}-{step}", Role.OFFICER))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(officer_work, worker) for worker in range(4)]:
            future.result()  # re-raises "database is locked" if writers collided
    assert _count(db, orm.people) == 40


def test_agreements_are_found_by_id_or_diarienummer_and_listed_by_diarienummer(
    db: Database,
) -> None:
    later = _store_agreement(db, "SN 2026/200", ORGNR[0]).id or 0
    first = _store_agreement(db, "SN 2026/100", ORGNR[1]).id or 0
    with db.write() as session:
        Repository(session).agreement(later).state = AgreementState.ENDED
        session.add_all([Person("Örjan Chef", Role.MANAGER), Person("Anna Sekr", Role.SECRETARY)])

    with db.read() as session:
        repo = Repository(session)
        assert repo.agreement(str(first)).diarienummer == "SN 2026/100"
        assert repo.agreement("SN 2026/200").id == later
        assert repo.find_agreement("SN 1999/1") is None
        with pytest.raises(NotFound, match="no agreement 'SN 1999/1'"):
            repo.agreement("SN 1999/1")
        assert [a.id for a in repo.agreements()] == [first, later]
        assert [a.id for a in repo.agreements(state="ended", municipality="mjolby")] == [later]
        assert repo.agreements(municipality="kramfors") == []
        with pytest.raises(InvalidInput, match="unknown state 'paused'"):
            repo.agreements(state="paused")
        assert [p.name for p in repo.people()] == ["Anna Sekr", "Örjan Chef"]
        assert (repo.person("Anna Sekr") or Person("", Role.AUDITOR)).role is Role.SECRETARY
        org = repo.organisation_by_orgnr(ORGNR[1])
        assert org is not None and org.name == "Förening 0"


@pytest.mark.postgres
def test_on_postgresql_two_open_units_of_work_changing_one_agreement_cannot_both_win(
    pg_database: Database,
) -> None:
    # SQLite cannot get here: its second writer waits for the first to finish.
    db = pg_database
    _store_agreement(db)
    with pytest.raises(StaleUpdate, match=f"agreement {DNR}"):
        with db.write() as slow:
            mine = Repository(slow).agreement(DNR)
            with db.write() as fast:
                Repository(fast).agreement(DNR).state = AgreementState.TERMINATED
            mine.state = AgreementState.RENEWAL
    with db.read() as session:
        assert Repository(session).agreement(DNR).state is AgreementState.TERMINATED


def test_the_default_database_is_iop_db_in_the_data_folder_whatever_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("IOP_DATABASE_URL", raising=False)
    expected = f"sqlite:///{tmp_path.resolve() / 'data' / 'iop.db'}"
    for folder in (tmp_path, tmp_path / "elsewhere"):
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        assert default_database_url() == expected
    assert (tmp_path / "data").is_dir()
    assert not (tmp_path / "var").exists()

    monkeypatch.setenv("IOP_DATABASE_URL", "postgresql+psycopg://iop@db.example/iop")
    assert default_database_url() == "postgresql+psycopg://iop@db.example/iop"
