"""The domain's declared rules (due_rules.py, gate.py) as SQLAlchemy conditions.

A rule is compiled into `column <= bound`, the bound computed once per run in Python
from the rule itself: the query stays set-wise and index-friendly and no SQL restates
the rule. A rule that depends on the policy becomes one such comparison per distinct
bound among the presets, each limited to the municipalities giving that bound.

The payout gate (`gate.decide`) is here as one CASE over the same facts, so that a
payout run releases what may be paid in one UPDATE; tests/integration/test_gate_sql.py proves
that the two answer alike on every combination of facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..domain.due_rules import DueRule
from ..domain.gate import GATE_YEAR_OFFSET, PAYING_STATES, GateKind
from ..domain.policy import Policy
from ..domain.states import FollowUpState


def due_condition(
    rule: DueRule,
    column: sa.ColumnElement[Any],
    as_of: date,
    *,
    policies: Mapping[str, Policy] | None = None,
    municipality: sa.ColumnElement[Any] | None = None,
) -> sa.ColumnElement[bool]:
    """Where `rule` holds on `as_of` for the row whose rule field is `column`."""
    if not rule.per_policy:
        return column <= rule.latest_value(as_of)
    if policies is None or municipality is None:
        raise ValueError(f"rule {rule.trigger} needs the policies and the municipality column")
    keys_by_bound: dict[date, list[str]] = {}
    for key, policy in sorted(policies.items()):
        keys_by_bound.setdefault(rule.latest_value(as_of, policy), []).append(key)
    return sa.or_(
        *(
            sa.and_(municipality.in_(keys), column <= bound)
            for bound, keys in sorted(keys_by_bound.items())
        )
    )


def gate_year(covers_from: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The follow-up year a payout covering from `covers_from` depends on (gate.py)."""
    year: sa.ColumnElement[Any] = sa.extract("year", covers_from) + GATE_YEAR_OFFSET
    return year


def gate_kind(
    *,
    agreement_state: sa.ColumnElement[Any],
    approved: sa.ColumnElement[bool],
    unsigned: sa.ColumnElement[bool],
    covers_from: sa.ColumnElement[Any],
    origin_year: sa.ColumnElement[Any],
    follow_up_state: sa.ColumnElement[Any],
) -> sa.ColumnElement[Any]:
    """`gate.decide`'s kind of block (a GateKind value), NULL where the gate holds: the
    same questions in the same order. `unsigned`: some party has not signed the gate's
    period; `follow_up_state`: NULL when the gate year's follow-up does not exist."""
    year = gate_year(covers_from)
    # The follow-up's state is asked once: a CASE on its value, '' where it is missing.
    of_follow_up = sa.case(
        {"": GateKind.FOLLOW_UP_MISSING.value, FollowUpState.APPROVED.value: sa.null()},
        value=sa.func.coalesce(follow_up_state, ""),
        else_=GateKind.FOLLOW_UP_NOT_APPROVED.value,
    )
    kind: sa.ColumnElement[Any] = sa.case(
        (agreement_state.not_in(sorted(PAYING_STATES)), GateKind.NOT_PAYING.value),
        (sa.not_(approved), GateKind.NO_DECISION.value),
        (unsigned, GateKind.NOT_SIGNED.value),
        (year < origin_year, sa.null()),
        else_=of_follow_up,
    )
    return kind
