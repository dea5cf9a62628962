"""The domain's declared rules (due_rules.py, gate.py) as SQLAlchemy conditions.

A rule is compiled into `column <= bound`, the bound computed once per run in Python
from the rule itself: the query stays set-wise and index-friendly and no SQL restates
the rule. A rule that depends on the policy becomes one such comparison per distinct
bound among the presets, each limited to the municipalities giving that bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..domain.due_rules import DueRule
from ..domain.gate import GATE_YEAR_OFFSET
from ..domain.policy import Policy


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
