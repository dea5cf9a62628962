"""A preset's rules as rows, each with where it comes from (seed or default)."""

from __future__ import annotations

from typing import Any

from ..policies import load_policy

RULES = (
    "requires_forening_registration",
    "contribution_kinds",
    "max_period_years",
    "renewal_decision_months_before_end",
    "renewal_window_months",
    "payout_parts",
    "payout_dates",
    "follow_up_opens",
    "report_due",
    "required_documents",
    "repayment_method",
    "claim_due_days",
    "reminder_days_before",
    "overdue_notice_days_after",
    "escalation_days_after",
    "renewal_reminder_days_before_deadline",
    "payout_warning_days_before",
    "dialogue_forum",
)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value"):
        return value.value
    if hasattr(value, "month"):
        return str(value)
    return value


def policy_view(name: str) -> dict[str, Any]:
    p = load_policy(name)
    return {
        "key": p.key,
        "municipality": p.municipality,
        "committee": p.committee,
        "guideline": p.guideline,
        "overridable": sorted(p.overridable),
        "rules": [
            {
                "rule": r,
                "value": _plain(getattr(p, r)),
                "source": p.source_of(r),
                "note": p.notes.get(r, ""),
            }
            for r in RULES
        ],
        "criteria": [{"key": c.key, "required": c.required, "text": c.text} for c in p.criteria],
    }
