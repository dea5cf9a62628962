"""The domain's declared rules (due_rules.py, gate.py) as SQLAlchemy conditions.

A rule is compiled into `column <= bound`, the bound computed once per run in Python
from the rule itself: the query stays set-wise and index-friendly and no SQL restates
the rule. A rule that depends on the policy becomes one such comparison per distinct
bound among the presets, each limited to the municipalities giving that bound.

Where the payout gate (`gate.decide`) holds is here as one condition over the same
facts, so that a payout run releases what may be paid in one UPDATE;
tests/integration/test_gate_sql.py proves that the two answer alike on every combination
of facts.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def gate_holds(
    *,
    agreement_state: sa.ColumnElement[Any],
    approved: sa.ColumnElement[bool],
    unsigned: sa.ColumnElement[bool],
    covers_from: sa.ColumnElement[Any],
    origin_year: sa.ColumnElement[Any],
    follow_up_state: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    """Where `gate.decide` names no block, on the same facts. `unsigned`: some party has
    not signed the gate's period; `follow_up_state`: NULL when the gate year's follow-up
    does not exist. A conjunction whose first term is the follow-up: on a day when
    payouts stay closed most fail there, and the database asks nothing else of them
    (only `decide`, which names the block, must ask in its order)."""
    first_year_or_approved = sa.or_(
        gate_year(covers_from) < origin_year,
        follow_up_state == FollowUpState.APPROVED.value,
    )
    return sa.and_(
        first_year_or_approved,
        agreement_state.in_(sorted(PAYING_STATES)),
        approved,
        sa.not_(unsigned),
    )
