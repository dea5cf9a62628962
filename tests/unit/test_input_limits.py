"""Hostile input, in-process (issue 9, item 2): the bounded YAML reader, the limits of
domain/limits.py, step inputs, and what the CLI prints. The command-line behaviour, on
both backends, is in tests/integration/test_hostile_input.py."""

from __future__ import annotations

import json
from datetime import date

import pytest

from iop_workflow.domain import limits
from iop_workflow.domain.context import StepData
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.importing.yamlio import MAX_DEPTH, read_yaml


def refused(text: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_yaml(text)
    return str(caught.value)


# --- the YAML reader ------------------------------------------------------------------


def merge_bomb(levels: int) -> str:
    lines = ["a0: &a0 {k: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        merge_bomb(60),
        "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n"
        + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 10)),
        "a: &a {<<: *a}\n",  # a merge cycle
    ],
    ids=["merge-keys", "aliases", "merge-cycle"],
)
def test_an_alias_bomb_is_refused_at_the_value_limit_not_expanded(text: str) -> None:
    # The message names the bound the reader stopped at: it counted the expansion and gave
    # up, rather than building a billion values (how long that takes is bench material).
    message = refused(text)
    assert message.startswith("document: more than 1,000,000 values once its aliases")


def test_an_alias_cycle_or_deep_nesting_is_refused_with_a_position() -> None:
    assert refused("a: &a [*a]\n").startswith("document: line 1, column 4: nested more than")
    deep = "a:\n  - " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert (
        refused(deep)
        == f"document: line 2, column {MAX_DEPTH + 3}: nested more than 20 levels deep"
    )
    assert read_yaml("a:\n  - " + "[" * 10 + "]" * 10 + "\n") == {"a": [[[[[[[[[[[]]]]]]]]]]]}


def test_merge_keys_still_merge_with_own_keys_winning() -> None:
    text = "b: &b {k: 0, j: 0}\nd: &d {k: 1, <<: *b}\nx: {<<: [*d, *b]}\n"
    assert read_yaml(text) == {"b": {"k": 0, "j": 0}, "d": {"k": 1, "j": 0}, "x": {"k": 1, "j": 0}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("support:\n  2027: 1\n  '2027': 2\n", "line 3, column 3: found the key '2027' twice"),
        ("a: 1\n? !!int '0x1'\n: 2\n1: x\n", "line 4, column 1: found the key '1' twice"),
        ("1: x\ntrue: y\n", "line 2, column 1: found the key 'True' twice (written 1 and true)"),
        ("' a': 1\na: 2\n", "line 2, column 1: found the key 'a' twice"),
    ],
)
def test_keys_equal_as_text_are_refused(text: str, expected: str) -> None:
    assert refused(text).startswith(f"document: {expected}")


def test_a_document_over_the_size_limit_is_refused_unread() -> None:
    assert "is larger than 5,000,000 bytes" in refused("#" * 5_000_001)


# --- limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "problem"),
    [
        ("ok", 2, None),
        ("too", 2, "is 3 characters long; at most 2 are allowed"),
        ("a\0b", None, "contains a NUL character (U+0000)"),
        ("a\udcffb", None, "contains U+DCFF, which is not a character"),
        ("Öppna dörren \u2028 ✓ 🙂", 100, None),
    ],
)
def test_text_problem(text: str, limit: int | None, problem: str | None) -> None:
    found = limits.text_problem(text, limit)
    assert found == problem if problem is None else (found or "").startswith(problem)


@pytest.mark.parametrize(
    ("name", "reserved"),
    [("system", True), ("SYSTEM", True), (" Import ", True), ("ｓｙｓｔｅｍ", True)]
    + [("Systemet", False), ("Anna Import", False), ("Sys tem", False)],
)
def test_reserved_names(name: str, reserved: bool) -> None:
    assert limits.is_reserved_name(name) is reserved


@pytest.mark.parametrize(
    ("ref", "agreement_id"),
    [("12", 12), ("#12", 12), (" #0012 ", 12), ("#", None), ("#x1", None), ("OSN 2026/1", None)]
    + [("١٢", None), ("9" * 30, -1), ("#2147483648", -1), ("2147483647", 2147483647)],
)
def test_an_id_in_a_ref(ref: str, agreement_id: int | None) -> None:
    assert limits.id_in_ref(ref) == agreement_id


@pytest.mark.parametrize(
    ("diarienummer", "refused_"),
    [("12", True), ("٠٤٢", True), ("#12", True), ("OSN 2026/0142", False), ("2026/12", False)],
)
def test_a_diarienummer_that_reads_as_an_id(diarienummer: str, refused_: bool) -> None:
    assert (limits.diarienummer_problem(diarienummer) is not None) is refused_


# --- step inputs ------------------------------------------------------------------------------


def test_step_input_that_no_database_stores_is_refused_anywhere_in_it() -> None:
    with pytest.raises(InvalidInput, match=r"^step 'sign' field 'support.2027': contains a NUL"):
        StepData({"support": {"2027": "1\0"}}, "sign")
    with pytest.raises(InvalidInput, match=r"^step 'sign' field 'indicators': contains U\+D800"):
        StepData({"indicators": ["ok", "\ud800"]}, "sign")
    with pytest.raises(InvalidInput, match=r"contains U\+DCFF") as caught:
        StepData({"x\udcff": "1"}, "sign")
    assert caught.value.field == "x\udcff"  # the CLI prints it escaped (support.printable)


def test_step_text_and_days_are_bounded() -> None:
    data = StepData({"paragraph": " " + "§" * 32 + " ", "reason": "r" * 10_001}, "amend")
    assert data.text("paragraph", limit=limits.PARAGRAPH) == "§" * 32
    with pytest.raises(InvalidInput, match="field 'reason': is 10001 characters long"):
        data.text("reason")
    days = StepData({"a": "2199-12-31", "b": "2200-01-01", "c": date(1899, 12, 31)}, "amend")
    assert days.date("a") == date(2199, 12, 31)
    for key in ("b", "c"):
        with pytest.raises(InvalidInput, match=f"field '{key}': .* outside the supported range"):
            days.date(key)


# --- what the CLI prints -------------------------------------------------------------------------


def test_printable_escapes_what_a_terminal_would_act_on() -> None:
    from iop_workflow.entrypoints.cli.support import printable

    assert printable("röd \x1b[31m\r\x9b2J \u202eabc\u202c \udcff\nnext\t!") == (
        "röd \\u001b[31m\\u000d\\u009b2J \\u202eabc\\u202c \\udcff\nnext\\u0009!"
    )
    assert printable("a\nb", in_cell=True) == "a\\u000ab"
    assert printable("Öppna dörren – 300 000 kr ✓") == "Öppna dörren – 300 000 kr ✓"


def test_printable_json_is_still_the_same_json() -> None:
    from iop_workflow.entrypoints.cli.support import printable

    value = {"name": "x\x7f\x9b\u202e\ud800y", "n": 1}
    text = printable(json.dumps(value, ensure_ascii=False, indent=2))
    assert json.loads(text) == value
    assert all(c == "\n" or c >= " " for c in text) and "\x9b" not in text
