"""Which reminder is due on a day (iop-rules §3 "reminders"), as pure functions.

A reminder has stages (30 and 7 days before, the day after, 14 days after, ...).
On any day the one stage that applies is the latest whose date has come: a sweep
that missed days still sends the stage that matters now, and never an older one.
Each (agreement, kind, subject date, stage) is stored once, so re-runs add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .deadlines import RENEWAL_DECISION_DEADLINE, RENEWAL_WINDOW_OPENS, end_dates
from .policy import Policy

REPORT_DUE_SOON = "report_due_soon"
REPORT_OVERDUE = "report_overdue"
ESCALATION = "escalation"
RENEWAL_WINDOW_OPEN = "renewal_window_open"
RENEWAL_DEADLINE = "renewal_deadline_approaching"
PAYOUT_WARNING = "payout_warning"
PAYOUT_BLOCKED = "payout_blocked"
AGREEMENT_ENDING = "agreement_ending"
CLAIM_OVERDUE = "claim_overdue"

ORGANISATION, OFFICER, MANAGER, SECRETARY = "organisation", "officer", "manager", "secretary"


@dataclass(frozen=True)
class Stage:
    on: date  # the day this stage becomes due
    kind: str
    stage: str
    recipients: tuple[str, ...]


def current(stages: list[Stage], as_of: date) -> Stage | None:
    """The latest stage whose day has come, if any."""
    reached = [s for s in sorted(stages, key=lambda s: s.on) if s.on <= as_of]
    return reached[-1] if reached else None


def report_stages(due: date, policy: Policy) -> list[Stage]:
    """A report not yet submitted: before, overdue, then escalation to the manager."""
    stages = [
        Stage(due - timedelta(days=d), REPORT_DUE_SOON, f"before_{d}", (ORGANISATION,))
        for d in policy.reminder_days_before
    ]
    after = policy.overdue_notice_days_after
    stages.append(
        Stage(due + timedelta(days=after), REPORT_OVERDUE, "overdue", (ORGANISATION, OFFICER))
    )
    escalate = policy.escalation_days_after
    stages.append(Stage(due + timedelta(days=escalate), ESCALATION, "escalation", (MANAGER,)))
    return stages


def report_window(as_of: date, policy: Policy) -> tuple[date, date]:
    """Due dates for which some report stage can apply on `as_of` (for a set-wise query)."""
    earliest = as_of - timedelta(days=policy.escalation_days_after)
    latest = as_of + timedelta(days=max(policy.reminder_days_before, default=0))
    return earliest, latest


def renewal_stages(end: date, policy: Policy) -> list[Stage]:
    dates = end_dates(end, policy)
    opens, deadline = dates[RENEWAL_WINDOW_OPENS], dates[RENEWAL_DECISION_DEADLINE]
    stages = [Stage(opens, RENEWAL_WINDOW_OPEN, "window_open", (OFFICER, ORGANISATION))]
    stages += [
        Stage(
            deadline - timedelta(days=d),
            RENEWAL_DEADLINE,
            f"before_{d}",
            (OFFICER, ORGANISATION, SECRETARY),
        )
        for d in policy.renewal_reminder_days_before_deadline
    ]
    return stages


def renewal_subject(end: date, policy: Policy) -> date:
    """Renewal reminders are keyed by the decision deadline they lead up to."""
    return end_dates(end, policy)[RENEWAL_DECISION_DEADLINE]


def payout_warning(due: date, as_of: date, policy: Policy) -> Stage | None:
    """Warn officer and organisation ahead of a payout whose gate does not hold."""
    warn_on = due - timedelta(days=policy.payout_warning_days_before)
    if warn_on <= as_of < due:
        stage = f"before_{policy.payout_warning_days_before}"
        return Stage(warn_on, PAYOUT_WARNING, stage, (OFFICER, ORGANISATION))
    return None


ENDING_NOTICE_DAYS = 30


def agreement_ending(end: date, as_of: date) -> Stage | None:
    """An agreement that will not be renewed: tell both parties a month ahead."""
    notice = end - timedelta(days=ENDING_NOTICE_DAYS)
    if notice <= as_of <= end:
        return Stage(
            notice, AGREEMENT_ENDING, f"before_{ENDING_NOTICE_DAYS}", (OFFICER, ORGANISATION)
        )
    return None
