"""Each scheduled rule is declared once: the guard's Python and the sweep's SQL agree."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from iop_workflow.adapters.rule_sql import due_condition
from iop_workflow.domain import due_rules as due
from iop_workflow.policies import load_policy, preset_names

POLICIES = {key: load_policy(key) for key in preset_names()}
DAYS = [date(2026, 12, 25) + timedelta(days=n) for n in range(0, 400, 3)]


@pytest.mark.parametrize("rule", due.RULES, ids=lambda r: r.trigger)
@pytest.mark.parametrize("key", sorted(POLICIES))
def test_a_rule_holds_exactly_up_to_its_latest_value(rule: due.DueRule, key: str) -> None:
    policy = POLICIES[key]
    today = date(2027, 6, 15)
    for value in DAYS:
        target = SimpleNamespace(**{rule.field: value})
        assert rule.holds(target, today, policy) == (value <= rule.latest_value(today, policy))


def test_the_days_the_guards_name() -> None:
    policy = POLICIES["mjolby"]
    assert due.OPEN_FOLLOW_UP.first_day(date(2027, 11, 1)) == date(2027, 11, 1)
    assert due.MARK_REPORT_OVERDUE.first_day(date(2028, 3, 31)) == date(2028, 4, 1)
    assert due.END.first_day(date(2031, 12, 31)) == date(2032, 1, 1)
    assert due.START_RENEWAL.first_day(date(2031, 12, 31), policy) == date(2031, 1, 1)
    assert due.PAYOUT_DUE.first_day(date(2027, 4, 30)) == date(2027, 4, 30)


def test_a_policy_rule_needs_the_policy() -> None:
    assert due.START_RENEWAL.per_policy and not due.END.per_policy
    with pytest.raises(ValueError):
        due.START_RENEWAL.first_day(date(2031, 12, 31))


@pytest.mark.parametrize("rule", due.RULES, ids=lambda r: r.trigger)
def test_the_compiled_sql_picks_the_rows_the_guard_allows(rule: due.DueRule) -> None:
    meta = sa.MetaData()
    table = sa.Table(
        "rows",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(rule.field, sa.Date),
        sa.Column("municipality", sa.String),
    )
    engine = sa.create_engine("sqlite://")
    meta.create_all(engine)
    rows = [
        {"id": i, rule.field: value, "municipality": key}
        for i, (value, key) in enumerate((v, k) for v in DAYS for k in sorted(POLICIES))
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
        for today in (date(2026, 12, 31), date(2027, 1, 1), date(2027, 6, 15)):
            condition = due_condition(
                rule,
                table.c[rule.field],
                today,
                policies=POLICIES,
                municipality=table.c.municipality,
            )
            found = set(conn.execute(sa.select(table.c.id).where(condition)).scalars())
            expected = {
                r["id"]
                for r in rows
                if rule.holds(
                    SimpleNamespace(**{rule.field: r[rule.field]}),
                    today,
                    POLICIES[r["municipality"]],
                )
            }
            assert found == expected
