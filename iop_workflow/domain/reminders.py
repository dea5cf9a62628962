"""Which reminder is due on a day (iop-rules §3 "reminders"), as pure functions.

A reminder has stages (30 and 7 days before, the day after, 14 days after, ...).
On any day the one stage that applies is the latest whose date has come: a sweep
that missed days still sends the stage that matters now, and never an older one.
Each (agreement, kind, subject date, stage) is stored once, so re-runs add nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from .deadlines import (
    RENEWAL_DECISION_DEADLINE,
    RENEWAL_WINDOW_CLOSES,
    RENEWAL_WINDOW_OPENS,
    end_dates,
)
from .policy import Policy

REPORT_DUE_SOON = "report_due_soon"
REPORT_OVERDUE = "report_overdue"
ESCALATION = "escalation"
RENEWAL_WINDOW_OPEN = "renewal_window_open"
RENEWAL_DEADLINE = "renewal_deadline_approaching"
RENEWAL_DEADLINE_MISSED = "renewal_deadline_missed"
MISSED = "missed"  # its one stage: once per agreement and period (keyed by the deadline)
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
    """The renewal reminders of an agreement not yet renewed or declined.

    Ordinarily: the window opens, then 60, 30 and 14 days before the decision deadline,
    and the day after a deadline that passed without a decision, one notice to the
    officer and their manager (`renewal_deadline_missed`). An agreement whose deadline
    falls before its window opens (with both presets: it ends in January-March) gets only
    that notice, on the day the first reminder before the deadline would have come: the
    ordinary reminders would lead up to a deadline already gone when the window opens.
    """
    dates = end_dates(end, policy)
    opens, deadline = dates[RENEWAL_WINDOW_OPENS], dates[RENEWAL_DECISION_DEADLINE]
    missed = Stage(
        deadline + timedelta(days=1), RENEWAL_DEADLINE_MISSED, MISSED, (OFFICER, MANAGER)
    )
    if deadline < opens:
        first = deadline - timedelta(
            days=max(policy.renewal_reminder_days_before_deadline, default=0)
        )
        return [replace(missed, on=first)]
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
    return [*stages, missed]


def renewal_subject(end: date, policy: Policy) -> date:
    """Renewal reminders are keyed by the decision deadline they lead up to: one notice
    of each stage per agreement and period (a renewal moves the end, so the deadline)."""
    return end_dates(end, policy)[RENEWAL_DECISION_DEADLINE]


def renewal_reminder(
    end: date, as_of: date, policy: Policy
) -> tuple[date, Stage, dict[str, Any]] | None:
    """The renewal reminder due on `as_of` for an agreement ending `end` that is not yet
    renewed or declined: its subject date, stage and facts (the caller adds the
    diarienummer). None once the period is over."""
    if as_of > end:
        return None
    stage = current(renewal_stages(end, policy), as_of)
    if stage is None:
        return None
    dates = end_dates(end, policy)
    deadline = dates[RENEWAL_DECISION_DEADLINE]
    facts: dict[str, Any] = {"end": end, "deadline": deadline}
    if stage.kind == RENEWAL_DEADLINE_MISSED:
        facts["window_opens"] = dates[RENEWAL_WINDOW_OPENS]
        facts["window_closes"] = dates[RENEWAL_WINDOW_CLOSES]
        facts["timing"] = DEADLINE_MISSED if as_of > deadline else DEADLINE_BEFORE_WINDOW
    return deadline, stage, facts


# --- renewal timing: the status the timeline shows, the note a start records ----------

DEADLINE_BEFORE_WINDOW = "deadline_before_window"  # the deadline falls before the window
DEADLINE_MISSED = "deadline_missed"  # the deadline passed without a renewal decision


def renewal_timing(end: date, today: date, policy: Policy) -> str | None:
    """What is amiss with the renewal timing, on `today`, of an agreement ending `end`
    that is not yet renewed or declined: `DEADLINE_MISSED`, `DEADLINE_BEFORE_WINDOW`,
    or None when the ordinary reminders lead the way."""
    dates = end_dates(end, policy)
    deadline = dates[RENEWAL_DECISION_DEADLINE]
    if deadline < today <= end:
        return DEADLINE_MISSED
    if deadline < dates[RENEWAL_WINDOW_OPENS] and today <= deadline:
        return DEADLINE_BEFORE_WINDOW
    return None


def renewal_timing_text(timing: str, end: date, policy: Policy) -> str:
    """The status in Swedish, as officers read it in the timeline."""
    dates = end_dates(end, policy)
    deadline = dates[RENEWAL_DECISION_DEADLINE].isoformat()
    opens = dates[RENEWAL_WINDOW_OPENS].isoformat()
    closes = dates[RENEWAL_WINDOW_CLOSES].isoformat()
    if timing == DEADLINE_MISSED:
        return (
            f"Sista dag för beslut om förnyelse ({deadline}) har passerat utan beslut; "
            f"överenskommelsen löper ut {end.isoformat()}."
        )
    return (
        f"Sista dag för beslut om förnyelse ({deadline}) infaller före det rekommenderade "
        f"dialogfönstret ({opens} – {closes}): inled dialogen om förnyelse i god tid "
        f"före {deadline}."
    )


def renewal_start_note(end: date, today: date, policy: Policy) -> dict[str, str]:
    """What the audit record of a renewal dialogue started on `today` notes: starting
    before the recommended window, or after the decision deadline, is allowed."""
    dates = end_dates(end, policy)
    opens, deadline = dates[RENEWAL_WINDOW_OPENS], dates[RENEWAL_DECISION_DEADLINE]
    notes = []
    if today < opens:
        notes.append(f"started before the recommended window, which opens {opens.isoformat()}")
    if today > deadline:
        notes.append(f"the renewal decision deadline {deadline.isoformat()} has passed")
    if not notes:
        return {}
    return {
        "note": "; ".join(notes),
        "window_opens": opens.isoformat(),
        "deadline": deadline.isoformat(),
    }


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
