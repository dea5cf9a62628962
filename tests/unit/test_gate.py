"""The payout gate as one structured value, decided once on plain facts."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import date

import pytest
from factories import agreement_in, first_payout, open_follow_up_of, payouts_covering_year

from iop_workflow.domain.gate import (
    GateBlock,
    GateFacts,
    GateKind,
    answer_key_of,
    decide,
    gate_block,
    gate_year,
    payout_block_reason,
    unblocks,
)
from iop_workflow.domain.states import AgreementState as A
from iop_workflow.domain.states import FollowUpState as F

PAYING = GateFacts(
    diarienummer="OSN 2026/17",
    agreement_state=A.ACTIVE,
    origin_year=2026,
    approved=True,
    unsigned=(),
    covers_from=date(2027, 1, 1),
    follow_up_state=F.OPEN,
    follow_up_due=date(2027, 3, 31),
)


def test_a_follow_up_not_approved_blocks_with_its_year_state_and_due_date() -> None:
    block = decide(PAYING)
    assert block is not None and block.kind is GateKind.FOLLOW_UP_NOT_APPROVED
    assert block.reason == (
        "follow-up 2026 is open (report due 2027-03-31); "
        "payouts in 2027 are released when it is approved"
    )
    assert block.condition == "follow-up 2026 is open (report due 2027-03-31)"
    assert (block.follow_up_year, block.follow_up_state, block.report_due) == (
        2026,
        F.OPEN,
        date(2027, 3, 31),
    )
    assert block.unblocks == "approval of follow-up 2026"


@pytest.mark.parametrize(
    ("change", "kind", "reason"),
    [
        (
            {"agreement_state": A.TERMINATED},
            GateKind.NOT_PAYING,
            "agreement OSN 2026/17 is terminated; nothing is paid",
        ),  # fmt: skip
        ({"approved": False}, GateKind.NO_DECISION, "no approving nämnd decision is recorded"),
        (
            {"unsigned": ("municipality", "Förening 1 (802000-0001)")},
            GateKind.NOT_SIGNED,
            "agreement not signed by municipality, Förening 1 (802000-0001)",
        ),  # fmt: skip
        (
            {"follow_up_state": None, "follow_up_due": None},
            GateKind.FOLLOW_UP_MISSING,
            "follow-up 2026 does not exist; it must be approved",
        ),  # fmt: skip
    ],
)
def test_each_kind_of_block_keeps_its_text(
    change: dict[str, object], kind: GateKind, reason: str
) -> None:
    block = decide(replace(PAYING, **change))  # type: ignore[arg-type]
    assert block is not None and (block.kind, block.reason) == (kind, reason)


def test_the_decision_and_signatures_are_checked_even_in_the_first_year() -> None:
    first_year = replace(PAYING, covers_from=date(2026, 7, 1))
    assert decide(first_year) is None
    block = decide(replace(first_year, approved=False))
    assert block is not None and block.kind is GateKind.NO_DECISION
    assert unblocks(block) == "no approving nämnd decision is recorded"
    assert unblocks(None) == "the gate holds now: released by the next payout run"


def test_an_approved_follow_up_opens_the_gate() -> None:
    assert decide(replace(PAYING, follow_up_state=F.APPROVED)) is None


def test_the_domain_objects_give_the_same_facts() -> None:
    a = agreement_in(A.ACTIVE)
    assert gate_block(a, first_payout(a)) is None
    open_follow_up_of(a, 2027)
    p = payouts_covering_year(a, 2028)[0]
    assert gate_year(p.covers_from) == 2027
    block = gate_block(a, p)
    assert block is not None and block.reason == payout_block_reason(a, p)
    assert block.kind is GateKind.FOLLOW_UP_NOT_APPROVED


# Every combination of a few values of each fact: any two payouts that share a key.
EVERY_FACTS = [
    GateFacts(*values)
    for values in itertools.product(
        ["OSN 2026/17", "OSN 2026/18"],
        list(A),
        [2026, 2027],
        [True, False],
        [(), ("kommunen",)],
        [date(2026, 7, 1), date(2027, 1, 1), date(2027, 7, 1)],
        [None, *F],
        [None, date(2027, 3, 31), date(2027, 4, 30)],
    )
]


def key_of(f: GateFacts) -> object:
    # An agreement is its own facts: one agreement never has two states at once.
    agreement = (f.diarienummer, f.agreement_state, f.approved, f.unsigned)
    return answer_key_of(agreement, f)


def test_payouts_with_one_answer_key_get_one_answer() -> None:
    answers: dict[object, set[GateBlock | None]] = defaultdict(set)
    for f in EVERY_FACTS:
        answers[key_of(f)].add(decide(f))
    assert len(EVERY_FACTS) > 10_000
    assert {key: found for key, found in answers.items() if len(found) > 1} == {}


def test_the_answer_key_tells_apart_what_decide_tells_apart() -> None:
    """Not one key for everything: follow-ups of other years, states or due days, and
    agreements blocked on their own, each get a key of their own."""
    keys = {
        key_of(PAYING),
        key_of(replace(PAYING, follow_up_due=date(2027, 4, 30))),
        key_of(replace(PAYING, follow_up_state=F.SUBMITTED)),
        key_of(replace(PAYING, covers_from=date(2028, 1, 1))),
        key_of(replace(PAYING, approved=False)),
        key_of(replace(PAYING, approved=False, diarienummer="OSN 2026/18")),
    }
    assert len(keys) == 6
