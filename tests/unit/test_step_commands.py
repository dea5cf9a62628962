"""The typed commands of the steps (domain/commands.py): one per trigger of every machine,
each field declared with its type, limits and Swedish label, parsed with the product's
own messages."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel

from iop_workflow.domain import commands as c
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.machines import DEFINITIONS
from iop_workflow.domain.states import AgreementState, DocumentKind, Verdict
from iop_workflow.domain.steps import STEPS

TRIGGERS = sorted({str(row["trigger"]) for _, _, table in DEFINITIONS.values() for row in table})
MODELS: list[type[BaseModel]] = [*dict.fromkeys(c.COMMANDS.values()), *c.TARGETS.values()]
SWEDISH = set("åäöÅÄÖ")


def fields(model: type[BaseModel]) -> list[tuple[type[BaseModel], str]]:
    return [(model, name) for name in model.model_fields]


ALL_FIELDS = [pair for model in MODELS for pair in fields(model)]


def sample(model: type[BaseModel], name: str) -> Any:
    """A valid value of a field, as `--set` gives it."""
    kind = c.kind_of(model, name)
    if kind == c.CHOICE:
        return c.field_schema(model, name)["choices"][0]
    return {c.DATE: "2027-03-01", c.MONEY: "1 000,50", c.INTEGER: "7"}.get(kind, "x")


def required_input(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: sample(model, name) for name, info in model.model_fields.items() if info.is_required()
    }


def refused(trigger: str, raw: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        c.parse_command(trigger, raw)
    return caught.value


# --- every step has its command ---------------------------------------------------------


def test_every_trigger_of_every_machine_has_a_command_and_a_label() -> None:
    assert sorted(c.COMMANDS) == TRIGGERS
    assert sorted(c.LABELS) == TRIGGERS
    assert set(STEPS) <= set(c.COMMANDS)
    for trigger in TRIGGERS:
        assert issubclass(c.COMMANDS[trigger], c.Command), trigger
        assert "reason" in c.COMMANDS[trigger].model_fields, trigger


def test_every_entity_but_the_agreement_is_named_by_one_required_field() -> None:
    assert sorted(c.TARGETS) == sorted(set(DEFINITIONS) - {"agreement"})
    for entity, model in c.TARGETS.items():
        ((name, info),) = model.model_fields.items()
        assert info.is_required() and c.kind_of(model, name) == c.INTEGER, entity


@pytest.mark.parametrize(("model", "name"), ALL_FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_every_field_has_a_kind_and_a_swedish_label_and_help(
    model: type[BaseModel], name: str
) -> None:
    info = model.model_fields[name]
    assert c.kind_of(model, name) in {
        c.TEXT, c.DATE, c.INTEGER, c.MONEY, c.CHOICE, c.TEXT_LIST, c.MONEY_BY_YEAR,
        c.COUNT_BY_NAME, c.PAYOUT_PLAN,
    }  # fmt: skip
    assert isinstance(info.title, str) and info.title.strip(), name
    assert isinstance(info.description, str) and info.description.endswith("."), name
    assert info.title != name and "_" not in info.title, name


def test_the_labels_and_help_are_in_swedish() -> None:
    texts = [model.model_fields[name].title or "" for model, name in ALL_FIELDS]
    texts += [model.model_fields[name].description or "" for model, name in ALL_FIELDS]
    assert SWEDISH & set("".join(texts))
    assert SWEDISH & set("".join(c.LABELS.values()))
    assert c.command_schema("approve_decision")["fields"][2]["label"] == "Mötesdatum"


def test_the_schema_of_every_step_is_json_with_limits_and_choices() -> None:
    for trigger in TRIGGERS:
        schema = c.command_schema(trigger)
        assert json.loads(json.dumps(schema, ensure_ascii=False)) == schema
        assert schema["trigger"] == trigger
        for field in schema["fields"]:
            assert {"name", "type", "required", "label", "help"} <= set(field)
    assess = {f["name"]: f for f in c.command_schema("assess_criterion")["fields"]}
    assert assess["verdict"]["choices"] == [v.value for v in Verdict]
    assert assess["criterion"] == {
        "name": "criterion",
        "type": "text",
        "required": True,
        "label": "Kriterium",
        "help": assess["criterion"]["help"],
        "limits": {"max_length": 100},
    }
    renew = {f["name"]: f for f in c.command_schema("renew")["fields"]}
    assert renew["paragraph"]["limits"] == {"max_length": 32}
    assert renew["meeting_date"]["limits"] == {"min": "1900-01-01", "max": "2199-12-31"}
    assert renew["support"]["keys"] == "support.YYYY" and not renew["support"]["required"]
    document = {f["name"]: f for f in c.command_schema("receive_document")["fields"]}
    assert document["kind"]["choices"] == [k.value for k in DocumentKind]


def test_an_unknown_trigger_is_bad_input_naming_the_steps() -> None:
    error = refused("approve", {})
    assert str(error).startswith("TRIGGER: 'approve' is not a step; the steps are: ")
    assert "approve_decision" in str(error) and "write_off_claim" in str(error)
    with pytest.raises(InvalidInput):
        c.command_schema("approve")


# --- parsing: today's messages, typed values --------------------------------------------


REQUIRED = [
    (trigger, name)
    for trigger in TRIGGERS
    for name, info in c.COMMANDS[trigger].model_fields.items()
    if info.is_required()
]


def test_the_required_fields_are_the_ones_the_steps_always_required() -> None:
    assert {t: [n for tt, n in REQUIRED if tt == t] for t, _ in REQUIRED} == {
        "assess_criterion": ["criterion", "verdict", "motivation"],
        "approve_decision": ["meeting_date", "paragraph"],
        "reject_decision": ["meeting_date", "paragraph"],
        "return_decision": ["meeting_date", "paragraph"],
        "amend": ["decided_on", "paragraph", "description"],
        "renew": ["end", "meeting_date", "paragraph"],
        "terminate": ["date"],
        "raise_claim": ["amount", "basis"],
        "receive_document": ["kind"],
    }


@pytest.mark.parametrize(("trigger", "name"), REQUIRED)
def test_a_required_field_missing_or_empty_is_refused(trigger: str, name: str) -> None:
    given = required_input(c.COMMANDS[trigger])
    for raw in ({k: v for k, v in given.items() if k != name}, {**given, name: ""}):
        error = refused(trigger, raw)
        assert str(error) == f"step '{trigger}' field '{name}': is required"
        assert (error.record, error.field) == (f"step '{trigger}'", name)


def test_values_are_typed() -> None:
    decision = c.parse_command(
        "approve_decision",
        {"meeting_date": "2027-03-01", "paragraph": " § 12 ", "minutes_adjusted": date(2027, 3, 4)},
    )
    assert isinstance(decision, c.DecisionCommand)
    assert (decision.meeting_date, decision.paragraph) == (date(2027, 3, 1), "§ 12")
    assert decision.minutes_adjusted == date(2027, 3, 4) and decision.body is None
    assess = c.parse_command(
        "assess_criterion", {"criterion": "k", "verdict": " met ", "motivation": "ok"}
    )
    assert isinstance(assess, c.AssessCommand) and assess.verdict is Verdict.MET
    claim = c.parse_command("raise_claim", {"amount": "12 500,50", "basis": "b"})
    assert isinstance(claim, c.RaiseClaimCommand) and claim.amount == 1_250_050
    plan = c.parse_command("propose_plan", {"indicators": "deltagare, träffar,", "goals": ""})
    assert isinstance(plan, c.PlanCommand)
    assert plan.given() == {"indicators": ["deltagare", "träffar"]}
    renew = c.parse_command(
        "renew",
        {"end": "2031-12-31", "meeting_date": "2027-03-01", "paragraph": "§ 1",
         "support.2030": "300 000", "support": {"2031": 250000}},
    )  # fmt: skip
    assert isinstance(renew, c.RenewCommand)
    assert renew.support == {2031: 25_000_000, 2030: 30_000_000}
    report = c.parse_command("submit_report", {"statistics.deltagare": "40"})
    assert isinstance(report, c.ReportCommand) and report.statistics == {"deltagare": 40}
    assert c.parse_command("reject", {"reason": " nej "}).reason == "nej"
    assert c.parse_command("reject", {}).reason is None


@pytest.mark.parametrize(
    ("trigger", "raw", "message"),
    [
        ("terminate", {"date": "soon"}, "field 'date': 'soon' is not a date (YYYY-MM-DD)"),
        ("terminate", {"date": "2200-01-01"}, "outside the supported range 1900-01-01"),
        ("receive_document", {"kind": "letter"}, "field 'kind': 'letter' is not one of: "
         "income_statement, balance_sheet, activity_report, statistics"),
        ("assess_criterion", {"criterion": "k" * 101, "verdict": "met", "motivation": "m"},
         "field 'criterion': is 101 characters long; at most 100 are allowed"),
        ("approve_decision", {"meeting_date": "2027-01-01", "paragraph": "§" * 33},
         "field 'paragraph': is 33 characters long; at most 32 are allowed"),
        ("reject", {"reason": "r" * 10_001}, "field 'reason': is 10001 characters long"),
        ("raise_claim", {"amount": "12,345", "basis": "b"},
         "field 'amount': '12,345' has more than 2 decimals (öre)"),
        ("raise_claim", {"amount": "-5", "basis": "b"}, "field 'amount': must not be negative"),
        ("submit_for_decision", {"support.20x7": "1"},
         "field 'support.20x7': '20x7' is not a year"),
        ("submit_for_decision", {"support.2300": "1"},
         "field 'support.2300': 2300 is outside the supported years 1900–2198"),
        ("submit_for_decision", {"support": "300000"}, "field 'support': must be a mapping"),
        ("submit_for_decision", {"support.2027": "lots"}, "field 'support.2027': 'lots' is not"),
        ("submit_report", {"statistics.deltagare": "-1"},
         "field 'statistics.deltagare': '-1' is not a count (a whole number, 0 or more)"),
        ("submit_report", {"statistics.deltagare": "1000000001"},
         "field 'statistics.deltagare': 1000000001 is more than 1000000000"),
        ("propose_plan", {"indicators": ["ok", "a\0b"]}, "field 'indicators': contains a NUL"),
        ("reject", {"reason": "r", "reasno": "x"}, "field 'reasno': is not an input of this step"),
        ("raise_claim", {"amount": "1", "basis": "b", "year": "2027"},
         "field 'year': is not an input of this step"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_the_steps_own_message(
    trigger: str, raw: dict[str, Any], message: str
) -> None:
    error = refused(trigger, raw)
    assert str(error).startswith(f"step '{trigger}' field '")
    assert message in str(error), str(error)


def test_the_first_bad_field_in_the_order_the_step_reads_is_the_one_reported() -> None:
    error = refused("renew", {"end": "x", "meeting_date": "y", "paragraph": "§ 1"})
    assert error.field == "end"
    error = refused("approve_decision", {"meeting_date": "y"})
    assert error.field == "meeting_date"


def test_a_target_is_read_with_the_same_messages() -> None:
    data = c.StepData({"year": "twenty"}, "open_follow_up")
    with pytest.raises(InvalidInput, match=r"field 'year': 'twenty' is not a whole number"):
        c.read_command(c.FollowUpTarget, data)
    with pytest.raises(InvalidInput, match=r"field 'payout': is required"):
        c.read_command(c.PayoutTarget, c.StepData({}, "release_payout"))
    found = c.read_command(c.ClaimTarget, c.StepData({"claim": " 3 "}, "offset_claim"))
    assert found.claim == 3


def test_a_claim_after_termination_takes_no_amount_of_its_own() -> None:
    class _Agreement:
        state = AgreementState.TERMINATED

    terminated: Any = _Agreement()
    assert c.command_for("raise_claim", terminated) is c.ComputedClaimCommand
    assert c.command_for("close", terminated) is c.Command
    assert set(c.ComputedClaimCommand.model_fields) == {"reason"}


def test_a_command_is_immutable_and_refuses_fields_it_does_not_declare() -> None:
    command = c.parse_command("reject", {"reason": "r"})
    with pytest.raises(ValueError):
        command.reason = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        c.Command.model_validate({"reason": "r", "other": 1})
