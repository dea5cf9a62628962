"""The time condition of every scheduled step, declared once as data.

A rule says which date of the target it reads (`field`), how that date is moved to
the first day the step may fire (`anchor`: the date itself, or the opening of the
renewal window it falls in) and whether that day itself counts (`comparison`).
The domain guard evaluates a rule in Python (`holds`); the set-wise flows compile the
same rule into SQL (adapters/rule_sql.py) through `latest_value`, the largest field
value for which the rule holds on a day. Both read this one declaration, so a guard
and the sweep cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from . import calendar as cal
from .policy import Policy


class Comparison(StrEnum):
    ON_OR_AFTER = "on_or_after"  # the anchored day itself counts
    AFTER = "after"  # from the day after the anchored day


class Anchor(StrEnum):
    SAME_DAY = "same_day"
    RENEWAL_WINDOW_OPENS = "renewal_window_opens"  # per policy (renewal_window_months)


@dataclass(frozen=True)
class DueRule:
    trigger: str
    entity: str
    field: str
    comparison: Comparison
    anchor: Anchor = Anchor.SAME_DAY

    @property
    def per_policy(self) -> bool:
        """Whether the day depends on the municipality's policy (SQL then needs one
        bound per preset)."""
        return self.anchor is not Anchor.SAME_DAY

    def anchored(self, value: date, policy: Policy | None) -> date:
        if self.anchor is Anchor.RENEWAL_WINDOW_OPENS:
            return cal.renewal_window(value, _needs(policy).renewal_window_months)[0]
        return value

    def first_day(self, value: date, policy: Policy | None = None) -> date:
        """The first day on which the step may fire for a target with this `value`."""
        day = self.anchored(value, policy)
        return day + timedelta(days=1) if self.comparison is Comparison.AFTER else day

    def holds(self, target: Any, today: date, policy: Policy | None = None) -> bool:
        return today >= self.first_day(getattr(target, self.field), policy)

    def latest_value(self, today: date, policy: Policy | None = None) -> date:
        """The largest field value for which the rule holds on `today`; every anchor is
        monotonic, so the rule holds exactly for values up to this one."""
        day = today - timedelta(days=1) if self.comparison is Comparison.AFTER else today
        if self.anchor is Anchor.RENEWAL_WINDOW_OPENS:
            return cal.last_end_with_window_open(day, _needs(policy).renewal_window_months)
        return day


def _needs(policy: Policy | None) -> Policy:
    if policy is None:
        raise ValueError("this rule depends on the municipality's policy")
    return policy


OPEN_FOLLOW_UP = DueRule("open_follow_up", "follow_up", "opens_on", Comparison.ON_OR_AFTER)
MARK_REPORT_OVERDUE = DueRule("mark_report_overdue", "follow_up", "due_on", Comparison.AFTER)
END = DueRule("end", "agreement", "end", Comparison.AFTER)
START_RENEWAL = DueRule(
    "start_renewal", "agreement", "end", Comparison.ON_OR_AFTER, Anchor.RENEWAL_WINDOW_OPENS
)
MARK_CLAIM_OVERDUE = DueRule("mark_claim_overdue", "claim", "due_on", Comparison.AFTER)
# Releasing and blocking alike wait for the payout's due day.
PAYOUT_DUE = DueRule("payout_due", "payout", "due_on", Comparison.ON_OR_AFTER)

RULES = (OPEN_FOLLOW_UP, MARK_REPORT_OVERDUE, END, START_RENEWAL, MARK_CLAIM_OVERDUE, PAYOUT_DUE)
