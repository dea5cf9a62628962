"""The work list ("Mina ärenden") as the people of the two example municipalities see it.

Both examples are imported, then the daily sweep and the payout run move time on to
20 May 2027: the 2026 reports of the two running agreements are overdue (Mjölby's
since 31 March, Kramfors' since 30 April, both longer than the 14 escalation days)
and their April instalments are blocked by the payout gate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from iop_workflow.adapters.db import Database, Repository
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.states import Role
from iop_workflow.service.access import Viewer, viewer_of
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.steps import transition
from iop_workflow.service.sweep import daily_sweep
from iop_workflow.service.worklist import work_list

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2027, 5, 20)
RUNNING_MJOLBY, DIALOGUE_MJOLBY = "OSN 2024/0087", "OSN 2026/0142"
RUNNING_KRAMFORS = "VFN 2025/0031"


@pytest.fixture
def world(db: Database) -> Database:
    now = datetime.now(tz=UTC)
    for name in ("mjolby", "kramfors"):
        import_file(db, str(ROOT / "examples" / f"{name}.yaml"), now=now)
    for day in (date(2026, 11, 2), date(2027, 4, 1), date(2027, 4, 30), date(2027, 5, 2)):
        daily_sweep(db, as_of=day, now=now)
        payout_run(db, as_of=day, now=now)
    return db


def viewer(db: Database, name: str) -> Viewer:
    with db.read() as session:
        repo = Repository(session)
        person = repo.person(name)
        assert person is not None
        return viewer_of(repo, person)


def sections(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in result["sections"]}


def refs(result: dict[str, Any]) -> set[str]:
    return {i["diarienummer"] for s in result["sections"] for i in s["items"]}


def test_the_officer_sees_the_overdue_report_and_the_blocked_payout_with_its_reason(
    world: Database,
) -> None:
    result = work_list(world, viewer(world, "Anna Berg"), TODAY)

    assert result["viewer"] == "Anna Berg" and result["as_of"] == "2027-05-20"
    got = sections(result)
    assert [s["title"] for s in result["sections"]] == [
        "Att göra i dag och försenat",
        "Den här veckan",
        "Väntar på organisationen",
        "Nya dokument",
        "Spärrade utbetalningar",
        "Beslut att förbereda",
    ]
    (report,) = got["due"]["items"]
    assert report["diarienummer"] == RUNNING_MJOLBY
    assert report["kind"] == "report_overdue"
    assert report["what"] == "Årsrapport 2026 försenad sedan 2027-03-31"
    assert report["due"] == "2027-03-31"
    assert report["organisation"] == "Samtalsjouren Svartån"
    assert report["link"] == f"/agreements/{report['agreement_id']}"
    (blocked,) = got["blocked"]["items"]
    assert blocked["kind"] == "payout_blocked" and blocked["due"] == "2027-04-30"
    assert blocked["what"].startswith("Utbetalning 2027-04-30 på 230 000,00 kr spärrad: ")
    assert "uppföljningen för 2026 är försenad" in blocked["what"]
    assert "när uppföljningen för 2026 har godkänts" in blocked["unblocks"]
    (decision,) = got["decisions"]["items"]
    assert decision["diarienummer"] == DIALOGUE_MJOLBY and decision["kind"] == "dialogue"
    assert got["week"]["count"] == got["waiting"]["count"] == got["documents"]["count"] == 0


def test_another_municipalitys_officer_sees_none_of_them(world: Database) -> None:
    johan = work_list(world, viewer(world, "Johan Nordin"), TODAY)
    anna = work_list(world, viewer(world, "Anna Berg"), TODAY)

    assert refs(johan) == {RUNNING_KRAMFORS}
    assert not refs(johan) & refs(anna)
    # Kramfors' instalment goes to its two parties: one blocked payout each.
    assert sections(johan)["blocked"]["count"] == 2


def test_a_manager_sees_the_items_of_their_officers_and_the_escalation(
    world: Database,
) -> None:
    karin = sections(work_list(world, viewer(world, "Karin Lund"), TODAY))
    (report,) = karin["due"]["items"]
    assert report["kind"] == "report_escalated"
    assert report["officer"] == "Anna Berg"
    assert report["what"].startswith("Eskalerad: årsrapport 2026 försenad sedan 2027-03-31")
    assert [i["diarienummer"] for i in karin["blocked"]["items"]] == [RUNNING_MJOLBY]

    eva = work_list(world, viewer(world, "Eva Sjölund"), TODAY)
    assert refs(eva) == {RUNNING_KRAMFORS}


def test_before_the_escalation_days_the_manager_sees_a_plain_overdue_report(
    world: Database,
) -> None:
    # Kramfors' report was due 30 April: on 5 May it is late, not yet escalated.
    eva = sections(work_list(world, viewer(world, "Eva Sjölund"), date(2027, 5, 5)))
    assert [i["kind"] for i in eva["due"]["items"]] == ["report_overdue"]


def test_an_auditor_has_nothing_to_do(world: Database) -> None:
    result = work_list(world, viewer(world, "Maria Holm"), TODAY)
    assert [(s["count"], s["items"]) for s in result["sections"]] == [(0, [])] * 6


def test_a_secretary_sees_the_decisions_to_prepare_only(world: Database) -> None:
    got = sections(work_list(world, viewer(world, "Per Sandberg"), TODAY))
    (renewal,) = got["decisions"]["items"]
    assert renewal["diarienummer"] == RUNNING_MJOLBY and renewal["kind"] == "renewal_decision"
    assert renewal["what"] == "Förnyelse väntar på nämndens beslut, senast 2027-09-30"
    assert all(got[k]["count"] == 0 for k in ("due", "week", "waiting", "documents", "blocked"))


def test_an_organisation_sees_its_own_report_to_hand_in(world: Database) -> None:
    leila = sections(work_list(world, viewer(world, "Leila Haddad"), TODAY))
    assert [(i["diarienummer"], i["kind"]) for i in leila["due"]["items"]] == [
        (RUNNING_MJOLBY, "report_overdue")
    ]
    assert leila["blocked"]["count"] == 0  # the payouts are the officer's work
    sven = work_list(world, viewer(world, "Sven Ek"), TODAY)
    assert refs(sven) == set()


def test_documents_and_a_submitted_report_move_the_item(world: Database) -> None:
    now = datetime.now(tz=UTC)

    def step(trigger: str, day: date, **data: Any) -> None:
        transition(
            world, RUNNING_MJOLBY, trigger, actor_name="Leila Haddad", data=data, today=day, now=now
        )

    step("receive_document", date(2027, 5, 10), year=2026, kind="income_statement")
    got = sections(work_list(world, viewer(world, "Anna Berg"), TODAY))
    (document,) = got["documents"]["items"]
    assert document["kind"] == "document_arrived"
    assert document["what"] == "Ny handling till årsrapport 2026: resultaträkning (2027-05-10)"
    # Fourteen days on it is no longer new.
    later = sections(work_list(world, viewer(world, "Anna Berg"), date(2027, 5, 24)))
    assert later["documents"]["count"] == 0

    for kind in ("balance_sheet", "activity_report", "statistics"):
        step("receive_document", date(2027, 5, 18), year=2026, kind=kind)
    stats = {"individkontakter": "1", "unika besökare": "1", "informationstillfällen": "1"}
    step(
        "submit_report",
        date(2027, 5, 18),
        year=2026,
        **{f"statistics.{k}": v for k, v in stats.items()},
    )
    got = sections(work_list(world, viewer(world, "Anna Berg"), TODAY))
    assert got["due"]["count"] == 0
    assert [i["kind"] for i in got["documents"]["items"]] == ["report_submitted"]
    assert got["documents"]["items"][0]["what"].startswith("Årsrapport 2026 inlämnad 2027-05-18")


def test_pagination_counts_every_item_and_pages_one_section(world: Database) -> None:
    johan = viewer(world, "Johan Nordin")
    pages = [
        work_list(world, johan, TODAY, section="blocked", per_page=1, page=n) for n in (1, 2, 3)
    ]

    assert [p["pages"] for p in pages] == [2, 2, 2]
    blocked = [sections(p)["blocked"] for p in pages]
    assert [s["count"] for s in blocked] == [2, 2, 2]
    assert [len(s["items"]) for s in blocked] == [1, 1, 0]
    assert blocked[0]["items"][0]["what"] != blocked[1]["items"][0]["what"]  # two amounts
    # The other sections give their count only.
    due = sections(pages[0])["due"]
    assert due["count"] == 1 and due["items"] == []


def test_sort_and_filters(world: Database) -> None:
    with world.read() as session:
        person = Repository(session).person("Karin Lund")
        assert person is not None and person.id is not None
    # A manager of both officers, of no one municipality: sees both agreements.
    both = Viewer(person.id, "Karin Lund", Role.MANAGER, manages=("Anna Berg", "Johan Nordin"))

    def due_refs(**options: Any) -> list[str]:
        result = work_list(world, both, TODAY, section="due", **options)
        return [i["diarienummer"] for i in sections(result)["due"]["items"]]

    assert due_refs() == [RUNNING_MJOLBY, RUNNING_KRAMFORS]  # report due 31 March first
    assert due_refs(descending=True) == [RUNNING_KRAMFORS, RUNNING_MJOLBY]
    assert due_refs(sort="diarienummer", descending=True) == [RUNNING_KRAMFORS, RUNNING_MJOLBY]
    # Pensionärsklubben ... (Kramfors' second party) is not its first: Seniorföreningen.
    assert due_refs(sort="organisation") == [RUNNING_MJOLBY, RUNNING_KRAMFORS]
    assert due_refs(sort="state") == [RUNNING_KRAMFORS, RUNNING_MJOLBY]  # active < renewal
    assert due_refs(municipality="kramfors") == [RUNNING_KRAMFORS]
    assert due_refs(state="renewal") == [RUNNING_MJOLBY]
    result = work_list(world, both, TODAY, state="dialogue")
    assert refs(result) == {DIALOGUE_MJOLBY}
    assert result["filters"]["state"] == "dialogue"


@pytest.mark.parametrize(
    ("options", "field", "named"),
    [
        ({"state": "aktiv"}, "state", "active"),
        ({"sort": "datum"}, "sort", "diarienummer"),
        ({"page": 0}, "page", "page 0"),
        ({"section": "inkorg"}, "section", "blocked"),
        ({"municipality": "uppsala"}, "municipality", "kramfors"),
        ({"per_page": 0}, "per_page", "per_page"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    world: Database, options: dict[str, Any], field: str, named: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        work_list(world, viewer(world, "Anna Berg"), TODAY, **options)
    assert refused.value.field == field
    assert named in str(refused.value)


def test_the_week_warns_of_a_payout_the_gate_will_block_and_waiting_lists_open_reports(
    world: Database,
) -> None:
    anna = viewer(world, "Anna Berg")
    week = sections(work_list(world, anna, date(2027, 10, 25)))["week"]
    (payout,) = week["items"]
    assert payout["kind"] == "payout_due" and payout["due"] == "2027-10-29"
    assert payout["what"].startswith("Utbetalning 2027-10-29 på 230 000,00 kr planerad; spärras: ")
    assert "uppföljningen för 2026 har godkänts" in payout["unblocks"]

    now = datetime.now(tz=UTC)
    daily_sweep(world, as_of=date(2027, 11, 2), now=now)
    waiting = sections(work_list(world, anna, date(2027, 11, 2)))["waiting"]
    assert [(i["kind"], i["what"]) for i in waiting["items"]] == [
        ("report_due", "Årsrapport 2027 ska lämnas senast 2028-03-31")
    ]


def test_a_viewer_with_many_agreements_gets_the_same_list(
    world: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Beyond SCOPE_LIST_LIMIT agreements the queries take the viewer's as a subquery.
    from iop_workflow.service import worklist

    for name in ("Anna Berg", "Karin Lund", "Leila Haddad"):
        few = work_list(world, viewer(world, name), TODAY)
        monkeypatch.setattr(worklist, "SCOPE_LIST_LIMIT", 0)
        many = work_list(world, viewer(world, name), TODAY)
        monkeypatch.undo()
        assert many == few
