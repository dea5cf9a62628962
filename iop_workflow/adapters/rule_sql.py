"""The domain's declared rules (due_rules.py, gate.py) as SQLAlchemy conditions.

A rule is compiled into `column <= bound`, the bound computed once per run in Python
from the rule itself: the query stays set-wise and index-friendly and no SQL restates
the rule. A rule that depends on the policy becomes one such comparison per distinct
bound among the presets, each limited to the municipalities giving that bound.

The payout gate's answer key (`gate.answer_key`) is here as columns over the same facts,
so that a payout run groups its payouts by key in SQL and asks `gate.decide` once per
group; tests/integration/test_gate_sql.py proves the two keys alike on every combination
of facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..domain.due_rules import DueRule
from ..domain.gate import GATE_YEAR_OFFSET, PAYING_STATES
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


def answer_key(
    *,
    agreement_id: sa.ColumnElement[Any],
    agreement_state: sa.ColumnElement[Any],
    approved: sa.ColumnElement[bool],
    unsigned: sa.ColumnElement[bool],
    covers_from: sa.ColumnElement[Any],
    origin_year: sa.ColumnElement[Any],
    follow_up_state: sa.ColumnElement[Any],
    follow_up_due: sa.ColumnElement[Any],
) -> tuple[
    sa.ColumnElement[Any], sa.ColumnElement[Any], sa.ColumnElement[Any], sa.ColumnElement[Any]
]:
    """`gate.answer_key` on the same facts, as four columns: the agreement when the
    agreement alone closes the gate, else NULL; the gate year when it is not before the
    agreement's first, else NULL; and that year's follow-up state and due day.

    Finer than the domain's key (an agreement that closes the gate has a key per gate
    year here) and never coarser: payouts whose four columns are alike (NULL alike NULL,
    as `GROUP BY` has it) have one domain key, so one answer from `decide`. Finer, so
    that the agreement's facts are asked once per row, by the first column alone.
    tests/integration/test_gate_sql.py proves the domain's key a function of these
    columns (`domain_key`) on every combination of facts."""
    agreement_closed = sa.or_(
        agreement_state.not_in(sorted(PAYING_STATES)), sa.not_(approved), unsigned
    )
    year = gate_year(covers_from)
    return (
        sa.case((agreement_closed, agreement_id)),
        sa.case((year >= origin_year, year)),
        follow_up_state,
        follow_up_due,
    )


def domain_key(columns: Sequence[Any]) -> tuple[Any, ...]:
    """`gate.answer_key` of the payouts whose `answer_key` columns are `columns`."""
    agreement, year, follow_up_state, follow_up_due = columns
    if agreement is not None:
        return (agreement,)
    if year is None:
        return ()
    return (
        year,
        None if follow_up_state is None else FollowUpState(follow_up_state),
        follow_up_due,
    )
