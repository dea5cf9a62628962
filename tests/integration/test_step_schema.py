"""`iop steps [TRIGGER]`: the input of every step, for clients that build forms, by the
real console script (it needs no database)."""

from __future__ import annotations

from pathlib import Path

from cli_runner import run_iop

from iop_workflow.domain.machines import DEFINITIONS

EXIT_USAGE = 2
TRIGGERS = list(
    dict.fromkeys(str(row["trigger"]) for _, _, table in DEFINITIONS.values() for row in table)
)


def test_steps_json_lists_every_step_of_every_machine_with_its_fields(tmp_path: Path) -> None:
    run = run_iop(tmp_path / "iop.db", "steps", "--json")

    assert run.code == 0, str(run)
    steps = run.json()
    assert [s["trigger"] for s in steps] == TRIGGERS
    entities = {s["trigger"]: s["entity"] for s in steps}
    assert entities["approve_decision"] == "agreement"
    assert entities["submit_report"] == "follow_up"
    assert entities["release_payout"] == "payout"
    assert entities["write_off_claim"] == "claim"
    for step in steps:
        assert step["label"], step["trigger"]
        names = [f["name"] for f in step["fields"]]
        assert names[0] == "reason", step["trigger"]
        for field in step["target_fields"] + step["fields"]:
            assert field["label"] and field["help"], (step["trigger"], field["name"])
    by_trigger = {s["trigger"]: s for s in steps}
    assert [f["name"] for f in by_trigger["submit_report"]["target_fields"]] == ["year"]
    assert by_trigger["reinstate_payout"]["sync_only"] is True
    assert by_trigger["reinstate_payout"]["roles"] == []
    assert by_trigger["reject"]["reason_required"] is True
    assert by_trigger["approve_decision"]["reason_required"] is False
    # Nothing was created: the command reads no database.
    assert not (tmp_path / "iop.db").exists()


def test_steps_of_one_trigger_gives_its_fields_with_swedish_labels(tmp_path: Path) -> None:
    run = run_iop(tmp_path / "iop.db", "steps", "approve_decision", "--json")

    assert run.code == 0, str(run)
    (step,) = run.json()
    assert (step["trigger"], step["entity"], step["target_fields"]) == (
        "approve_decision",
        "agreement",
        [],
    )
    assert step["roles"] == ["secretary"]
    fields = {f["name"]: f for f in step["fields"]}
    assert list(fields) == ["reason", "body", "meeting_date", "paragraph", "minutes_adjusted"]
    assert fields["meeting_date"] == {
        "name": "meeting_date",
        "type": "date",
        "required": True,
        "label": "Mötesdatum",
        "help": "Dagen då nämnden fattade beslutet.",
        "limits": {"min": "1900-01-01", "max": "2199-12-31"},
    }
    assert fields["paragraph"]["required"] and fields["paragraph"]["limits"] == {"max_length": 32}
    assert fields["reason"]["label"] == "Motivering" and not fields["reason"]["required"]

    table = run_iop(tmp_path / "iop.db", "steps", "approve_decision")
    assert table.code == 0, str(table)
    lines = table.out.splitlines()
    assert lines[0] == "approve_decision (agreement): Nämnden godkänner"
    assert lines[1].split()[:4] == ["FIELD", "TYPE", "REQUIRED", "LABEL"]
    assert ["meeting_date", "date", "yes", "Mötesdatum"] == lines[4].split()[:4]


def test_the_table_of_every_step_marks_what_is_required(tmp_path: Path) -> None:
    run = run_iop(tmp_path / "iop.db", "steps")

    assert run.code == 0, str(run)
    rows = {line.split()[0]: line for line in run.out.splitlines()[1:]}
    assert list(rows) == TRIGGERS
    assert rows["terminate"].split()[1:] == ["agreement", "reason*,", "date*"]
    assert rows["open_follow_up"].split()[1:] == ["follow_up", "year*,", "reason"]


def test_an_unknown_trigger_is_bad_input_naming_the_steps(tmp_path: Path) -> None:
    for args in (["steps", "approve"], ["steps", "approve", "--json"]):
        run = run_iop(tmp_path / "iop.db", *args)
        assert run.code == EXIT_USAGE, str(run)
        assert run.out == ""
        assert run.err.startswith("error: TRIGGER: 'approve' is not a step; the steps are: ")
        assert all(trigger in run.err for trigger in TRIGGERS)


def test_triggers_json_gives_each_step_its_typed_fields(tmp_path: Path) -> None:
    db_file = tmp_path / "iop.db"
    mjolby = Path(__file__).resolve().parents[2] / "examples" / "mjolby.yaml"
    for args in (["db", "upgrade"], ["import", str(mjolby)]):
        assert run_iop(db_file, *args).code == 0
    run = run_iop(db_file, "triggers", "OSN 2024/0087", "--as-of", "2027-05-03", "--json")

    assert run.code == 0, str(run)
    steps = run.json()["steps"]
    schemas = {s["trigger"]: s for s in run_iop(db_file, "steps", "--json").json()}
    for step in steps:
        assert {"trigger", "entity", "target", "roles", "status", "needs", "checked_with"} < set(
            step
        )
        assert step["fields"] == schemas[step["trigger"]]["fields"], step["trigger"]
        required = {f["name"] for f in step["fields"] if f["required"]}
        assert required <= set(step["needs"]), step["trigger"]
    terminate = next(s for s in steps if s["trigger"] == "terminate")
    assert [f["name"] for f in terminate["fields"]] == ["reason", "date"]
