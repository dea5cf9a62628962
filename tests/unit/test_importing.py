"""The YAML import format (`iop import FILE`): examples, refusals, fuzzing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.machines import destination, sources
from iop_workflow.domain.model import Organisation, Person
from iop_workflow.domain.states import AgreementState, ContributionKind, FollowUpState, Role
from iop_workflow.importing import ImportBundle, is_placeholder, load_yaml, parse_document, phases

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MJOLBY = (EXAMPLES / "mjolby.yaml").read_text(encoding="utf-8")
KRAMFORS = (EXAMPLES / "kramfors.yaml").read_text(encoding="utf-8")

Doc = dict[str, Any]


def mjolby() -> Doc:
    data: Doc = yaml.safe_load(MJOLBY)
    return data


def kramfors() -> Doc:
    data: Doc = yaml.safe_load(KRAMFORS)
    return data


def refused(data: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_document(data)
    return str(caught.value)


def changed(base: Callable[[], Doc], change: Callable[[Doc], object]) -> Doc:
    data = base()
    change(data)
    return data


def demo(data: Doc) -> Doc:
    agreement: Doc = data["agreements"][0]
    return agreement


def running(data: Doc) -> Doc:
    agreement: Doc = data["agreements"][1]
    return agreement


# --- the examples -----------------------------------------------------------


def test_the_mjolby_example_imports_a_dialogue_and_an_active_agreement() -> None:
    bundle = load_yaml(MJOLBY)
    found = {a.diarienummer: a for a in bundle.agreements}
    assert found["OSN 2026/0142"].state is AgreementState.DIALOGUE
    assert found["OSN 2024/0087"].state is AgreementState.ACTIVE
    assert (found["OSN 2026/0142"].start, found["OSN 2026/0142"].end) == (
        date(2027, 1, 1),
        date(2031, 12, 31),
    )
    assert len(bundle.organisations) == 2
    # A party is the very Organisation object of the file, so storing it once links both.
    assert found["OSN 2026/0142"].parties[0].organisation is bundle.organisations[0]
    assert {p.role for p, _ in bundle.people} == set(Role) - {Role.SYSTEM}
    assert bundle.unresolved_orgnrs == {}
    assert bundle.referenced_people == []


def test_the_demo_agreement_has_300_000_kr_a_year_and_money_and_volunteer_contributions() -> None:
    agreement = next(a for a in load_yaml(MJOLBY).agreements if a.diarienummer == "OSN 2026/0142")
    assert {s.year: s.amount_ore for s in agreement.support} == dict.fromkeys(
        range(2027, 2032), 30000000
    )
    kinds = {c.kind for c in agreement.contributions}
    assert kinds == {ContributionKind.MONEY, ContributionKind.VOLUNTEER_HOURS}
    assert agreement.first_start == agreement.start
    assert agreement.committee == "Omsorgs- och socialnämnden"
    assert agreement.parties[0].organisation.name == "Föreningen Öppna Dörren i Mjölby"
    assert agreement.parties[0].share_bp == 10_000


def test_an_imported_follow_up_gets_its_dates_from_the_policy() -> None:
    agreement = load_yaml(MJOLBY).agreements[1]
    (follow_up,) = agreement.follow_ups
    assert (follow_up.opens_on, follow_up.due_on) == (date(2025, 11, 1), date(2026, 3, 31))
    assert follow_up.statistics["individkontakter"] == 412


def test_the_kramfors_example_has_an_initiative_and_an_active_shared_agreement() -> None:
    bundle = load_yaml(KRAMFORS)
    states = {a.diarienummer: a.state for a in bundle.agreements}
    assert states == {
        "VFN 2025/0031": AgreementState.ACTIVE,
        "VFN 2026/0088": AgreementState.INITIATIVE,
    }
    shared = bundle.agreements[0]
    assert [p.share_bp for p in shared.parties] == [6_000, 4_000]
    assert shared.report_due == "04-30"
    assert shared.follow_ups[0].due_on == date(2026, 4, 30)
    initiative = bundle.agreements[1]
    assert not initiative.parties[0].organisation.forening_registered


def test_an_empty_document_imports_nothing() -> None:
    assert parse_document(None).is_empty
    assert parse_document({}).is_empty
    assert load_yaml("").is_empty
    assert load_yaml("# only a comment\n").is_empty


def test_money_may_be_written_with_spaces_and_decimals() -> None:
    data = changed(
        mjolby, lambda d: demo(d)["economic_plan"]["support"].update({2027: "300 000,50"})
    )
    agreement = parse_document(data).agreements[0]
    assert agreement.support_for(2027) == 300_000_50


# --- refusals: each names the record and the field ---------------------------

DEMO = "agreements[0] (OSN 2026/0142)"
RUNNING = "agreements[1] (OSN 2024/0087)"


def _set(path: list[Any], value: object) -> Callable[[Doc], None]:
    def change(data: Doc) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


REFUSALS: list[tuple[str, Callable[[Doc], object], str]] = [
    (
        "an impossible date",
        _set(["agreements", 0, "period", "end"], "2027-02-30"),
        f"{DEMO} field 'period.end': 2027-02-30 is not a calendar date",
    ),
    (
        "a date that is a word",
        _set(["agreements", 0, "period", "start"], "soon"),
        f"{DEMO} field 'period.start': 'soon' is not a date",
    ),
    (
        "a date with a time",
        _set(["agreements", 0, "period", "start"], datetime(2027, 1, 1, 12, 0)),
        f"{DEMO} field 'period.start':",
    ),
    (
        "a negative support amount",
        _set(["agreements", 0, "economic_plan", "support", 2027], -300_000),
        f"{DEMO} field 'economic_plan.support.2027': -300000 must not be negative",
    ),
    (
        "a negative contribution",
        _set(["agreements", 0, "economic_plan", "contributions", 0, "value"], "-25 000"),
        f"{DEMO} field 'economic_plan.contributions[0].value': '-25 000' must not be negative",
    ),
    (
        "an amount with more than two decimals",
        _set(["agreements", 0, "economic_plan", "other_income", 0, "amount"], "20 000,005"),
        f"{DEMO} field 'economic_plan.other_income[0].amount': '20 000,005' has more than 2",
    ),
    (
        "a period over the policy's maximum",
        _set(["agreements", 0, "period", "end"], "2032-01-01"),
        f"{DEMO} field 'period.end': 2032-01-01 is past the maximum of 5 years for mjolby "
        "(last allowed end 2031-12-31)",
    ),
    (
        "a period ending before it starts",
        _set(["agreements", 0, "period", "end"], "2026-12-31"),
        f"{DEMO} field 'period.end': 2026-12-31 is before the start 2027-01-01",
    ),
    (
        "an unknown preset",
        _set(["agreements", 0, "municipality"], "stockholm"),
        f"{DEMO} field 'municipality': unknown preset 'stockholm'; known presets: kramfors, mjolby",
    ),
    (
        "a diarienummer used twice",
        _set(["agreements", 1, "diarienummer"], "OSN  2026/0142"),
        "agreements[1] (OSN 2026/0142) field 'diarienummer': 'OSN  2026/0142' appears twice "
        f"in the file (also {DEMO})",
    ),
    (
        "an organisationsnummer used twice",
        _set(["organisations", 1, "organisationsnummer"], "8024713052"),
        "organisations[1] (802471-3052) field 'organisationsnummer': 802471-3052 appears twice "
        "in the file (also organisations[0])",
    ),
    (
        "an organisationsnummer with a wrong check digit",
        _set(["organisations", 1, "organisationsnummer"], "802503-9177"),
        "organisations[1] (802503-9177) field 'organisationsnummer': '802503-9177' has a wrong "
        "check digit",
    ),
    (
        "a personnummer instead of an organisationsnummer",
        _set(["organisations", 0, "organisationsnummer"], "801231-1234"),
        "organisations[0] (801231-1234) field 'organisationsnummer': '801231-1234' has third "
        "digit 1",
    ),
    (
        "a criterion the municipality does not have",
        _set(["agreements", 0, "criteria", 0, "criterion"], "not_purchase"),
        f"{DEMO} field 'criteria[0].criterion': 'not_purchase' is not a criterion of mjolby",
    ),
    (
        "shares that do not sum to 100",
        _set(["agreements", 0, "parties", 0, "share"], 90),
        f"{DEMO} field 'parties': the shares sum to 90 %, must be 100 %",
    ),
    (
        "an unknown state",
        _set(["agreements", 0, "state"], "draft"),
        f"{DEMO} field 'state': 'draft' is not allowed; expected 'initiative'",
    ),
    (
        "an unknown role",
        _set(["people", 0, "role"], "boss"),
        "people[0] (Anna Berg) field 'role': 'boss' is not allowed; expected 'officer'",
    ),
    (
        "the system role, which no person has",
        _set(["people", 0, "role"], "system"),
        "people[0] (Anna Berg) field 'role': 'system' is not allowed",
    ),
    (
        "an unknown verdict",
        _set(["agreements", 0, "criteria", 0, "verdict"], "ok"),
        f"{DEMO} field 'criteria[0].verdict': 'ok' is not allowed; expected 'met'",
    ),
    (
        "an unknown contribution kind",
        _set(["agreements", 0, "economic_plan", "contributions", 0, "kind"], "cash"),
        f"{DEMO} field 'economic_plan.contributions[0].kind': 'cash' is not allowed",
    ),
    (
        "an unknown document kind",
        _set(["agreements", 1, "follow_ups", 0, "documents", 0, "kind"], "receipt"),
        f"{RUNNING} field 'follow_ups[0].documents[0].kind': 'receipt' is not allowed",
    ),
    (
        "an unknown decision outcome",
        _set(["agreements", 1, "decisions", 0, "outcome"], "maybe"),
        f"{RUNNING} field 'decisions[0].outcome': 'maybe' is not allowed",
    ),
    (
        "a representative of an organisation not in the file",
        _set(["people", 4, "organisation"], "802002-4280"),
        "people[4] (Sven Ek) field 'organisation': no organisation 802002-4280 among this "
        "file's organisations",
    ),
    (
        "an officer who is listed with another role",
        _set(["agreements", 0, "officer"], "Karin Lund"),
        f"{DEMO} field 'officer': Karin Lund is manager, must be officer",
    ),
    (
        "an unknown key",
        _set(["agreements", 0, "titel"], "Mötesplats"),
        f"{DEMO} field 'titel': unknown key; allowed keys: diarienummer,",
    ),
    (
        "a missing required field",
        lambda d: demo(d).pop("title"),
        f"{DEMO} field 'title': is required",
    ),
    (
        "a phone number YAML read as a number",
        _set(["organisations", 0, "contact", "phone"], 142_12345),
        "organisations[0] (802471-3052) field 'contact.phone': 14212345 must be text",
    ),
    (
        "a support year outside the period",
        _set(["agreements", 0, "economic_plan", "support", 2032], 300_000),
        f"{DEMO} field 'economic_plan.support.2032': 2032 is outside the period",
    ),
    (
        "a dialogue whose required criterion is not met",
        _set(["agreements", 0, "criteria", 1, "verdict"], "not_met"),
        f"{DEMO} field 'criteria': step 'start_dialogue' refused: required criterion "
        "'political_programme' is not_met; required in state 'dialogue'",
    ),
    (
        "an active agreement missing a signature",
        lambda d: running(d)["signatures"].pop(),
        f"{RUNNING} field 'signatures': step 'activate' refused: not signed yet by: "
        "Samtalsjouren Svartån (802503-9176); required in state 'active'",
    ),
    (
        "an active agreement without an approving decision",
        _set(["agreements", 1, "decisions", 0, "outcome"], "returned"),
        f"{RUNNING} field 'signatures[0].signed_on': no approved entry decision to sign",
    ),
    (
        "an approved follow-up lacking a document",
        lambda d: running(d)["follow_ups"][0]["documents"].pop(),
        f"{RUNNING} field 'follow_ups[0].documents': step 'approve_follow_up' refused: "
        "follow-up 2025 lacks documents: statistics; required for a follow-up that is approved",
    ),
    (
        # (Only names the database must know can be both: a submitter represents a party,
        # a reviewer works for the municipality.)
        "a follow-up reviewed by its submitter",
        lambda d: running(d)["follow_ups"][0].update(
            submitted_by="Nils Dahl", reviewed_by="Nils Dahl"
        ),
        f"{RUNNING} field 'follow_ups[0].reviewed_by': step 'approve_follow_up' refused: Nils "
        "Dahl submitted the report and may not approve it; required for a follow-up that is "
        "approved",
    ),
    (
        "a follow-up for an agreement that has not started",
        _set(["agreements", 0, "follow_ups"], [{"year": 2027}]),
        f"{DEMO} field 'follow_ups': an agreement in state 'dialogue' has no follow-ups yet",
    ),
    (
        "payout dates that do not match the policy's instalments",
        _set(["agreements", 0, "economic_plan", "payout_dates"], ["04-30"]),
        f"{DEMO} field 'economic_plan.payout_dates': needs exactly 2 dates",
    ),
    (
        "a payout plan that is not an interval",
        _set(["agreements", 0, "economic_plan", "payout_plan"], 3),
        f"{DEMO} field 'economic_plan.payout_plan': '3' is not a payout interval",
    ),
    (
        "payout plan dates outside the period",
        _set(["agreements", 0, "economic_plan", "payout_plan"], ["2027-03-01", "2033-03-01"]),
        f"{DEMO} field 'economic_plan.payout_plan': 2033-03-01 is outside the period",
    ),
    (
        "a payout plan together with payout dates",
        lambda data: data["agreements"][0]["economic_plan"].update(
            payout_plan=4, payout_dates=["04-30", "10-31"]
        ),
        f"{DEMO} field 'economic_plan.payout_plan': give either payout_plan or payout_dates",
    ),
    (
        "a top-level section that is not a list",
        _set(["agreements"], {"diarienummer": "OSN 2026/0142"}),
        "document field 'agreements': must be a list",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in REFUSALS],
)
def test_bad_input_is_refused_naming_the_record_and_the_field(
    change: Callable[[Doc], object], expected: str
) -> None:
    assert expected in refused(changed(mjolby, change))


def test_a_contribution_kind_the_policy_does_not_allow_is_refused() -> None:
    data = changed(
        kramfors,
        _set(["agreements", 0, "economic_plan", "contributions", 0, "kind"], "other_in_kind"),
    )
    data["agreements"][0]["economic_plan"]["contributions"][0].pop("hours")
    assert refused(data).startswith(
        "agreements[0] (VFN 2025/0031) field 'economic_plan.contributions[0].kind': "
        "other_in_kind is not a contribution kind kramfors allows (money, volunteer_hours, "
        "premises)"
    )


def test_an_organisation_outside_the_forening_register_cannot_be_imported_in_dialogue() -> None:
    data = kramfors()
    initiative = data["agreements"][1]
    initiative["state"] = "dialogue"
    initiative["criteria"] = [
        {"criterion": c, "verdict": "met", "motivation": "Bedömt i Seniorrådet."}
        for c in (
            "initiative_from_organisation",
            "shared_need",
            "not_other_grant",
            "no_market",
            "not_detail_regulated",
            "not_purchase",
        )
    ]
    assert refused(data) == (
        "agreements[1] (VFN 2026/0088) field 'parties[0].organisation': step 'start_dialogue' "
        "refused: Väntjänsten Ådalen (802461-2882) is not registered in Kramfors kommun's "
        "föreningsregister; required in state 'dialogue'"
    )


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert refused([1, 2]).startswith("document: the document must be a mapping")
    assert refused("agreements").startswith("document: the document must be a mapping")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("agreements: [\n", "document: line 2, column 1:"),
        ("people: []\npeople: []\n", "document: line 2, column 1: found the key 'people' twice"),
        (
            "agreements:\n  - period: {start: !!timestamp 2027-02-30}\n",
            "document: line 2, column 21: cannot read this value",
        ),
        ("x: !!python/object/apply:os.system [ls]\n", "document: line 1, column 4:"),
    ],
)
def test_broken_yaml_is_refused_with_line_and_column(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text)
    assert str(caught.value).startswith(expected)


# --- what only the database can settle ---------------------------------------


def test_a_party_not_in_the_file_is_handed_back_for_the_database_to_resolve() -> None:
    data = changed(mjolby, _set(["agreements", 0, "parties"], [{"organisation": "8020024280"}]))
    bundle = parse_document(data)
    party = bundle.agreements[0].parties[0]
    assert is_placeholder(party.organisation)
    assert str(bundle.unresolved_orgnrs["802002-4280"]) == f"{DEMO} field 'parties[0].organisation'"

    stored = Organisation("Föreningen Gemenskap", "802002-4280", "Sven Ek", "s@ex.example", id=7)
    bundle.resolve_organisations({"802002-4280": stored})
    assert party.organisation is stored and party.organisation_id == 7
    assert bundle.unresolved_orgnrs == {}


def test_a_party_missing_from_file_and_database_is_refused_at_resolution() -> None:
    data = changed(mjolby, _set(["agreements", 0, "parties"], [{"organisation": "8020024280"}]))
    bundle = parse_document(data)
    with pytest.raises(InvalidInput, match="no organisation 802002-4280 in the file or in the"):
        bundle.resolve_organisations({})


def test_a_stored_organisation_outside_the_register_is_refused_at_resolution() -> None:
    data = kramfors()
    data["agreements"][0]["parties"] = [{"organisation": "802002-4280"}]
    data["agreements"][0]["signatures"][1]["party"] = "802002-4280"
    data["agreements"][0]["signatures"].pop()
    data["agreements"][0]["signatures"][1]["signed_by"] = "Sven Ek"
    data["agreements"][0]["follow_ups"][0]["submitted_by"] = "Sven Ek"
    bundle = parse_document(data)
    assert [r.name for r in bundle.referenced_people] == ["Sven Ek", "Sven Ek"]
    stored = Organisation("Föreningen Gemenskap", "802002-4280", "Sven Ek", "s@ex.example", id=7)
    with pytest.raises(InvalidInput, match="is not registered in Kramfors kommun"):
        bundle.resolve_organisations({"802002-4280": stored})


def test_an_officer_not_in_the_file_is_handed_back_and_checked_against_the_database() -> None:
    data = changed(mjolby, _set(["agreements", 0, "officer"], "Nils Dahl"))
    bundle = parse_document(data)
    (reference,) = bundle.referenced_people
    assert (reference.name, reference.roles, reference.municipality) == (
        "Nils Dahl",
        (Role.OFFICER,),
        "mjolby",
    )
    officer = Person("Nils Dahl", Role.OFFICER, municipality="mjolby")
    bundle.check_people(lambda name: (officer, None) if name == "Nils Dahl" else None)
    with pytest.raises(InvalidInput) as caught:
        bundle.check_people(lambda name: None)
    assert str(caught.value) == (
        f"{DEMO} field 'officer': Nils Dahl is neither in this file's people nor in the database"
    )
    auditor = Person("Nils Dahl", Role.AUDITOR, municipality="mjolby")
    with pytest.raises(InvalidInput, match="Nils Dahl is auditor, must be officer"):
        bundle.check_people(lambda name: (auditor, None))


# --- fuzzing: InvalidInput or a bundle, never anything else ------------------

FIELD_NAMES = sorted(
    {
        "people", "organisations", "agreements", "name", "role", "email", "municipality",
        "organisation", "manager", "organisationsnummer", "contact", "forening_register",
        "registered", "diarienummer", "period", "start", "end", "state", "parties", "share",
        "criteria", "criterion", "verdict", "economic_plan", "support", "contributions",
        "year", "kind", "value", "hours", "decisions", "signatures", "follow_ups", "party",
    }
)  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.dates()
    | st.datetimes()
    | st.sampled_from(
        ["mjolby", "kramfors", "802471-3052", "2027-01-01", "2027-02-30", "met", "officer"]
    )
)
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=8) | st.integers(0, 3000)
yaml_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)


def _parses_or_refuses(data: object) -> None:
    try:
        result = parse_document(data)
    except InvalidInput:
        return
    assert isinstance(result, ImportBundle)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_like)
def test_arbitrary_data_is_refused_with_invalid_input_or_imported(data: object) -> None:
    _parses_or_refuses(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_like.map(lambda inner: {"agreements": [inner], "people": [inner]}))
def test_arbitrary_records_are_refused_with_invalid_input_or_imported(data: object) -> None:
    _parses_or_refuses(data)


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


BASES = [mjolby(), kramfors()]
PATHS = [_paths(base) for base in BASES]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_examples_are_refused_with_invalid_input_or_imported(data: st.DataObject) -> None:
    which = data.draw(st.sampled_from([0, 1]))
    document = copy.deepcopy(BASES[which])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(PATHS[which]))
        parent: Any = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            if data.draw(st.booleans()):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(yaml_like)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    _parses_or_refuses(document)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.sampled_from([MJOLBY[:n] for n in range(0, len(MJOLBY), 97)]))
def test_arbitrary_text_is_refused_with_invalid_input_or_imported(text: str) -> None:
    try:
        load_yaml(text)
    except InvalidInput:
        pass


# --- the steps up to the claimed state are replayed (importing/phases.py) ----

IMPORT_DAY = date(2026, 11, 20)


def refused_on(data: object, today: date = IMPORT_DAY) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_document(data, today=today)
    return str(caught.value)


def claimed(state: str, *drop: str, change: Callable[[Doc], object] = lambda a: None) -> Doc:
    """The mjolby example with its running agreement claimed to be in `state`."""
    data = mjolby()
    agreement = running(data)
    agreement["state"] = state
    for key in drop:
        agreement.pop(key)
    change(agreement)
    return data


BEFORE_SIGNING = ("signatures", "follow_ups", "payouts_released_through")


def test_the_path_to_each_state_follows_the_machine() -> None:
    for state in AgreementState:
        for by_decision in (False, True):
            at = AgreementState.INITIATIVE
            for source, trigger in phases.path(state, rejected_by_decision=by_decision):
                assert source is at and source in sources("agreement", trigger), trigger
                at = AgreementState(destination("agreement", trigger))
            assert at is state
    for follow_up_state in FollowUpState:
        at_f = FollowUpState.PLANNED
        for source_f, trigger in phases.follow_up_path(follow_up_state):
            assert source_f is at_f and source_f in sources("follow_up", trigger), trigger
            at_f = FollowUpState(destination("follow_up", trigger))
        assert at_f is follow_up_state
    by_decision = phases.path(AgreementState.REJECTED, rejected_by_decision=True)
    assert [t for _, t in by_decision][-2:] == ["submit_for_decision", "reject_decision"]
    assert phases.HAS_BEEN_ACTIVE == {
        AgreementState.ACTIVE,
        AgreementState.RENEWAL,
        AgreementState.NOT_RENEWED,
        AgreementState.ENDED,
        AgreementState.TERMINATED,
        AgreementState.REPAYMENT,
        AgreementState.CLOSED,
    }


def decided(**changes: str) -> Callable[[Doc], None]:
    """The running agreement's decision, changed: dated after the import day by default."""

    def change(agreement: Doc) -> None:
        later = {"meeting_date": "2026-11-25", "minutes_adjusted": "2026-11-30"}
        agreement["decisions"][0].update(later | changes)

    return change


PHASE_REFUSALS: list[tuple[str, Doc, str]] = [
    (
        "a plan without the dialogue's goals",
        claimed("economic_plan", *BEFORE_SIGNING, "decisions", "goals"),
        f"{RUNNING} field 'goals': step 'propose_plan' refused: the dialogue's goals is not "
        "recorded; required in state 'economic_plan'",
    ),
    (
        "a plan without indicators",
        claimed("economic_plan", *BEFORE_SIGNING, "decisions", "indicators"),
        f"{RUNNING} field 'indicators': step 'propose_plan' refused: no indicators",
    ),
    (
        "a decision without support for a year of the period",
        claimed(
            "decision",
            *BEFORE_SIGNING,
            "decisions",
            change=lambda a: a["economic_plan"]["support"].pop(2026),
        ),
        f"{RUNNING} field 'economic_plan.support': step 'submit_for_decision' refused: the "
        "economic plan has no municipal support for 2026; required in state 'decision'",
    ),
    (
        "a decision without the organisation's own contribution",
        claimed(
            "decision",
            *BEFORE_SIGNING,
            "decisions",
            change=lambda a: a["economic_plan"].pop("contributions"),
        ),
        f"{RUNNING} field 'economic_plan.contributions': step 'submit_for_decision' refused: "
        "the organisation's own contribution (egna insatser) is missing",
    ),
    (
        "signing without an approving decision",
        claimed("signing", *BEFORE_SIGNING, "decisions"),
        f"{RUNNING} field 'decisions': no approved entry decision is recorded; required in "
        "state 'signing'",
    ),
    (
        "a decision dated after the day of the import",
        claimed("signing", *BEFORE_SIGNING, change=decided()),
        f"{RUNNING} field 'decisions[0].meeting_date': step 'approve_decision' refused: the "
        "meeting date 2026-11-25 is in the future; required in state 'signing'",
    ),
    (
        "a returned decision dated after the day of the import",
        claimed("economic_plan", *BEFORE_SIGNING, change=decided(outcome="returned")),
        f"{RUNNING} field 'decisions[0].meeting_date': step 'return_decision' refused: the "
        "meeting date 2026-11-25 is in the future",
    ),
    (
        "an agreement ended before its period is over",
        claimed("ended"),
        f"{RUNNING} field 'state': step 'end' refused: the period runs until 2027-12-31; "
        "required in state 'ended'",
    ),
    (
        "a terminated agreement",
        claimed("terminated"),
        f"{RUNNING} field 'state': an agreement reaches 'terminated' through the step "
        "'terminate', which needs the termination date and reason",
    ),
    (
        "an agreement with a repayment claim",
        claimed("repayment"),
        f"{RUNNING} field 'state': an agreement reaches 'repayment' through the step 'terminate'",
    ),
    (
        "a rejection without a rejecting decision",
        claimed("rejected", *BEFORE_SIGNING, "decisions"),
        f"{RUNNING} field 'state': an agreement reaches 'rejected' through the step 'reject', "
        "which needs the reason for the rejection",
    ),
    (
        "a rejection by the nämnd of a plan without support for a year",
        claimed(
            "rejected",
            *BEFORE_SIGNING,
            change=lambda a: (
                decided(outcome="rejected", meeting_date="2024-11-27")(a),
                a["economic_plan"]["support"].pop(2026),
            ),
        ),
        f"{RUNNING} field 'economic_plan.support': step 'submit_for_decision' refused: the "
        "economic plan has no municipal support for 2026; required in state 'rejected'",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [pytest.param(data, expected, id=name) for name, data, expected in PHASE_REFUSALS],
)
def test_the_import_refuses_what_the_steps_to_its_state_refuse(data: Doc, expected: str) -> None:
    assert refused_on(data).startswith(expected)


def test_a_signature_after_the_day_of_the_import_is_refused_by_the_sign_step() -> None:
    assert refused_on(mjolby(), today=date(2024, 12, 11)) == (
        f"{RUNNING} field 'signatures[1].signed_on': step 'sign': 2024-12-12 is in the "
        "future; required in state 'active'"
    )


@pytest.mark.parametrize(
    ("data", "today"),
    [
        pytest.param(claimed("renewal"), date(2027, 1, 1), id="renewal in the final year"),
        # Started before the recommended window: the guideline allows it (a person may).
        pytest.param(claimed("renewal"), IMPORT_DAY, id="renewal started early"),
        pytest.param(claimed("ended"), date(2028, 1, 1), id="ended after the period"),
        pytest.param(claimed("not_renewed"), IMPORT_DAY, id="renewal declined"),
        pytest.param(
            claimed("withdrawn", *BEFORE_SIGNING, "decisions"), IMPORT_DAY, id="withdrawn"
        ),
        pytest.param(
            claimed(
                "rejected",
                *BEFORE_SIGNING,
                change=lambda a: a["decisions"][0].update(outcome="rejected"),
            ),
            IMPORT_DAY,
            id="rejected by the nämnd",
        ),
        pytest.param(
            # The steps never ask for the agreement's own terms (they cannot set them).
            claimed(
                "decision",
                *BEFORE_SIGNING,
                "decisions",
                change=lambda a: a["economic_plan"].pop("repayment_terms"),
            ),
            IMPORT_DAY,
            id="decision without repayment terms",
        ),
    ],
)
def test_a_state_its_steps_lead_to_is_imported(data: Doc, today: date) -> None:
    bundle = parse_document(data, today=today)
    assert bundle.agreements[1].state is AgreementState(running(data)["state"])


def test_a_closed_agreement_must_have_every_follow_up_done() -> None:
    data = claimed("closed")
    running(data)["follow_ups"][0]["state"] = "submitted"
    assert refused_on(data, today=date(2028, 1, 1)) == (
        f"{RUNNING} field 'follow_ups': step 'close' refused: follow-up 2025 is submitted, "
        "not approved; required in state 'closed'"
    )


def test_the_replay_leaves_the_agreement_as_the_file_has_it() -> None:
    agreement = load_yaml(MJOLBY).agreements[1]
    assert agreement.state is AgreementState.ACTIVE
    assert [s.party for s in agreement.signatures] == ["municipality", "802503-9176"]


def test_an_agreement_with_a_stored_party_is_replayed_when_the_party_is_known() -> None:
    data = kramfors()
    shared = data["agreements"][0]
    shared["parties"] = [{"organisation": "802002-4280"}]
    shared["signatures"] = shared["signatures"][:1]  # the stored party has not signed
    shared["follow_ups"][0]["submitted_by"] = "Sven Ek"
    bundle = parse_document(data)  # nothing to replay yet: the party is a placeholder
    assert len(bundle.deferred) == 1
    stored = Organisation("Föreningen Gemenskap", "802002-4280", "Sven Ek", "s@ex.example", id=7)
    stored.forening_registered = True
    with pytest.raises(InvalidInput) as caught:
        bundle.resolve_organisations({"802002-4280": stored})
    assert str(caught.value) == (
        "agreements[0] (VFN 2025/0031) field 'signatures': step 'activate' refused: not "
        "signed yet by: Föreningen Gemenskap (802002-4280); required in state 'active'"
    )
    party = bundle.agreements[0].parties[0]
    assert is_placeholder(party.organisation) and party.organisation_id is None
    assert bundle.unresolved_orgnrs


def with_follow_up(**follow_up: object) -> Doc:
    data = mjolby()
    running(data)["follow_ups"].append(follow_up)
    return data


FOLLOW_UP_REFUSALS: list[tuple[str, Doc, date, str]] = [
    (
        "a follow-up open before its opening day",
        with_follow_up(year=2026, state="open"),
        date(2026, 10, 1),
        f"{RUNNING} field 'follow_ups[1].state': step 'open_follow_up' refused: follow-up "
        "2026 opens 2026-11-01; required for a follow-up that is open",
    ),
    (
        "a follow-up overdue before its report is due",
        with_follow_up(year=2026, state="overdue"),
        date(2027, 1, 5),
        f"{RUNNING} field 'follow_ups[1].state': step 'mark_report_overdue' refused: the "
        "report for 2026 is due 2027-03-31; required for a follow-up that is overdue",
    ),
    (
        "a document that arrives after the day of the import",
        changed(
            mjolby,
            lambda d: running(d)["follow_ups"][0]["documents"][0].update(arrived="2026-12-01"),
        ),
        IMPORT_DAY,
        f"{RUNNING} field 'follow_ups[0].documents[0].arrived': step 'receive_document' "
        "refused: arrival date 2026-12-01 is in the future",
    ),
    (
        "a report submitted after the day of the import",
        changed(
            mjolby,
            lambda d: running(d)["follow_ups"][0].update(
                submitted_on="2026-12-01", reviewed_on="2026-12-02"
            ),
        ),
        IMPORT_DAY,
        f"{RUNNING} field 'follow_ups[0].submitted_on': step 'approve_follow_up' refused: the "
        "report was submitted 2026-12-01, after 2026-11-20",
    ),
    (
        "an approved report without a count the agreement names",
        changed(mjolby, lambda d: running(d)["follow_ups"][0]["statistics"].pop("unika besökare")),
        IMPORT_DAY,
        f"{RUNNING} field 'follow_ups[0].statistics': step 'approve_follow_up' refused: the "
        "report lacks the statistics the agreement names: unika besökare",
    ),
]


@pytest.mark.parametrize(
    ("data", "today", "expected"),
    [pytest.param(d, t, e, id=name) for name, d, t, e in FOLLOW_UP_REFUSALS],
)
def test_a_follow_up_is_refused_as_the_steps_to_its_state_refuse(
    data: Doc, today: date, expected: str
) -> None:
    assert refused_on(data, today).startswith(expected)


def test_an_open_follow_up_is_imported_from_its_opening_day() -> None:
    bundle = parse_document(with_follow_up(year=2026, state="open"), today=date(2026, 11, 1))
    assert [f.state.value for f in bundle.agreements[1].follow_ups] == ["approved", "open"]
