"""What a flow run did, in plain English: one log line and one short markdown artifact.

Operators read the Prefect dashboard: the last log line of `daily-sweep` and
`payout-run`, and the artifacts `daily-sweep-summary` and `payout-run-summary` (stable
keys, so the dashboard shows their history), say what the run changed, what it queued,
published and delivered, and (for the payout run) which payouts remain blocked and why,
even on a day nothing changed. Everything here is a pure function of the summaries the
flows return and of rows from the service layer, so it is tested without Prefect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.gate import GateBlock
from ..domain.money import format_sek
from ..service.report import HORIZON_DAYS, Portfolio

SWEEP_KEY = "daily-sweep-summary"
PAYOUT_KEY = "payout-run-summary"
DELIVERY_KEY = "notification-delivery"  # orchestration/delivery_report.py publishes it
LISTED = 50  # reason groups in an artifact; `iop payouts --state blocked` has every row
LOGGED = 2  # reason groups in a log line; the artifact has the rest

# The sweep's triggers in the order it applies them: (singular, plural).
SWEEP_CHANGES: dict[str, tuple[str, str]] = {
    "open_follow_up": ("follow-up opened", "follow-ups opened"),
    "mark_report_overdue": ("report marked overdue", "reports marked overdue"),
    "end": ("agreement ended (period over)", "agreements ended (period over)"),
    "start_renewal": ("renewal window opened", "renewal windows opened"),
    "mark_claim_overdue": ("repayment claim marked overdue", "repayment claims marked overdue"),
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _sweep_kinds(changes: Mapping[str, int], *, counted: bool = True) -> list[tuple[str, int]]:
    """(label, count) per kind of change, in the sweep's order; unknown triggers last.

    `counted`: the label agrees with its count ("1 report marked overdue"); otherwise it
    is a table heading ("reports marked overdue | 1")."""
    ordered = [t for t in SWEEP_CHANGES if changes.get(t)]
    ordered += sorted(t for t in changes if t not in SWEEP_CHANGES and changes[t])
    labels = []
    for trigger in ordered:
        singular, plural = SWEEP_CHANGES.get(trigger, (trigger, trigger))
        count = int(changes[trigger])
        labels.append((singular if counted and count == 1 else plural, count))
    return labels


def delivery_text(notifications: Mapping[str, Any] | None) -> str:
    """What the deliver task did, from `DeliveryReport.as_dict()`."""
    if not notifications:
        return "notifications: no delivery was attempted"
    if not notifications.get("configured"):
        return "notifications not sent: IOP_APPRISE_CONFIG is not set, they wait in the outbox"
    if not notifications.get("claimed"):
        return "notifications: none due for delivery"
    text = (
        f"notifications: {notifications.get('sent', 0)} delivered, "
        f"{notifications.get('failed', 0)} failed, "
        f"{notifications.get('retrying', 0)} to be retried, "
        f"{notifications.get('deferred', 0)} deferred to tomorrow's digest"
    )
    trouble = notifications.get("failed") or notifications.get("messages_failed")
    if trouble or notifications.get("problems"):
        text += f" (reasons in artifact {DELIVERY_KEY})"
    return text


def _run_facts(summary: Mapping[str, Any]) -> list[str]:
    facts = [
        _n(int(summary.get("notifications_queued", 0)), "notification") + " queued",
        _n(int(summary.get("events_published", 0)), "event") + " published",
    ]
    unconfirmed = int(summary.get("events_unconfirmed", 0))
    if unconfirmed:  # docs/events.md: they stay after the event cursor
        facts.append(
            _n(unconfirmed, "event") + " not yet confirmed by the Prefect server, will be retried"
        )
    return facts


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- daily sweep ------------------------------------------------------------------------


def sweep_line(summary: Mapping[str, Any]) -> str:
    """The last log line of a daily sweep."""
    kinds = _sweep_kinds(summary.get("changes") or {})
    changed = ", ".join(f"{n} {label}" for label, n in kinds) or "nothing changed"
    facts = ", ".join(_run_facts(summary))
    notified = delivery_text(summary.get("notifications"))
    return f"daily sweep {summary['as_of']}: {changed}; {facts}; {notified}"


def sweep_description(summary: Mapping[str, Any]) -> str:
    kinds = _sweep_kinds(summary.get("changes") or {})
    changes = sum(n for _, n in kinds)
    return f"Daily sweep {summary['as_of']}: {_n(changes, 'change')}"


def sweep_markdown(summary: Mapping[str, Any]) -> str:
    kinds = _sweep_kinds(summary.get("changes") or {}, counted=False)
    lines = [f"# Daily sweep — {summary['as_of']}", ""]
    if kinds:
        lines += ["| change | count |", "|---|---|"]
        lines += [f"| {label} | {n} |" for label, n in kinds]
    else:
        lines.append("Nothing changed: every deadline was already up to date.")
    lines += [
        "",
        *[f"- {_capitalised(fact)}" for fact in _run_facts(summary)],
        f"- {_capitalised(delivery_text(summary.get('notifications')))}",
    ]
    return "\n".join(lines) + "\n"


# --- payout run -------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockedGroup:
    """The payouts of one agreement blocked for one reason."""

    diarienummer: str
    reason: str
    payouts: int
    amount_ore: int
    first_due: str
    condition: str | None = None  # the gate's condition alone, when the row had it


def _condition(row: Mapping[str, Any]) -> str | None:
    block = row.get("block")
    if isinstance(block, GateBlock) and block.reason == row.get("reason"):
        return block.condition
    return None


def blocked_groups(blocked: Iterable[Mapping[str, Any]]) -> list[BlockedGroup]:
    """Blocked payouts (rows of `service.payouts.list_payouts(db, "blocked")`) grouped by
    agreement and reason: the largest groups first, then the earliest due.

    A row may carry the gate's structured decision under "block" (a `GateBlock`); its
    condition is then what the log line shows."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in blocked:
        reason = str(row.get("reason") or "no reason recorded")
        groups.setdefault((str(row["diarienummer"]), reason), []).append(row)
    found = [
        BlockedGroup(
            diarienummer,
            reason,
            len(rows),
            sum(int(r["amount_ore"]) for r in rows),
            min(str(r["due"]) for r in rows),
            _condition(rows[0]),
        )
        for (diarienummer, reason), rows in groups.items()
    ]
    return sorted(found, key=lambda g: (-g.payouts, g.first_due, g.diarienummer, g.reason))


def _still_blocked(groups: Sequence[BlockedGroup]) -> str:
    count = sum(g.payouts for g in groups)
    if not count:
        return "no payout is blocked"
    amount = format_sek(sum(g.amount_ore for g in groups))
    verb = "remains" if count == 1 else "remain"
    return f"{_n(count, 'payout')} ({amount}) {verb} blocked"


def _short(group: BlockedGroup) -> str:
    """The condition of a gate reason ("follow-up 2026 is overdue (report due …)"); the
    artifact has the whole text, including what releases the payout."""
    # Without the structured decision (its stored reason no longer the gate's current
    # one) the stored text is shown whole: a message is never cut apart.
    return group.reason if group.condition is None else group.condition


def payout_line(summary: Mapping[str, Any], blocked: Iterable[Mapping[str, Any]]) -> str:
    """The last log line of a payout run: what it decided, and what stays blocked and why."""
    groups = blocked_groups(blocked)
    decided = (
        f"{_n(int(summary.get('released', 0)), 'payout')} released, "
        f"{int(summary.get('blocked', 0))} newly blocked"
    )
    moved = int(summary.get("reasons_changed", 0))
    if moved:
        decided += f", {_n(moved, 'block reason')} changed"
    still = _still_blocked(groups)
    if groups:
        shown = [f"{g.payouts} of {g.diarienummer}: {_short(g)}" for g in groups[:LOGGED]]
        more = len(groups) - LOGGED
        if more > 0:
            shown.append(f"{_n(more, 'more reason')} in artifact {PAYOUT_KEY}")
        still += " — " + "; ".join(shown)
    facts = ", ".join(_run_facts(summary))
    notified = delivery_text(summary.get("notifications"))
    return f"payout run {summary['as_of']}: {decided}; {facts}; {notified}; {still}"


def payout_description(summary: Mapping[str, Any], blocked: Iterable[Mapping[str, Any]]) -> str:
    still = _still_blocked(blocked_groups(blocked))
    return (
        f"Payout run {summary['as_of']}: {int(summary.get('released', 0))} released, "
        f"{int(summary.get('blocked', 0))} newly blocked, {still}"
    )


def payout_markdown(summary: Mapping[str, Any], blocked: Iterable[Mapping[str, Any]]) -> str:
    groups = blocked_groups(blocked)
    released, newly = int(summary.get("released", 0)), int(summary.get("blocked", 0))
    lines = [f"# Payout run — {summary['as_of']}", ""]
    if released or newly:
        lines += [
            "| decision | payouts |",
            "|---|---|",
            f"| released | {released} |",
            f"| blocked today | {newly} |",
        ]
    else:
        lines.append("Nothing changed: no payout was released or blocked today.")
    moved = int(summary.get("reasons_changed", 0))
    if moved:
        lines += ["", f"{_capitalised(_n(moved, 'blocked payout'))} got a new block reason."]
    lines += [
        "",
        *[f"- {_capitalised(fact)}" for fact in _run_facts(summary)],
        f"- {_capitalised(delivery_text(summary.get('notifications')))}",
        "",
        f"## {_capitalised(_still_blocked(groups))}",
        "",
    ]
    if not groups:
        lines.append("Every due payout whose gate holds has been released.")
    else:
        listed = [
            f"- {_n(g.payouts, 'payout')} of **{_escape(g.diarienummer)}** "
            f"({format_sek(g.amount_ore)}, {'first ' if g.payouts > 1 else ''}due "
            f"{g.first_due}): {_escape(g.reason)}"
            for g in groups[:LISTED]
        ]
        lines += listed
        more = len(groups) - LISTED
        if more > 0:
            rest = sum(g.payouts for g in groups[LISTED:])
            lines.append(
                f"- … and {_n(rest, 'payout')} more, for {more} more agreements or reasons "
                "(`iop payouts --state blocked` lists every one)"
            )
    return "\n".join(lines) + "\n"


# --- portfolio report -------------------------------------------------------------------


def portfolio_line(report: Portfolio, keys: Sequence[str]) -> str:
    """The last log line of a portfolio report: the overall figures and where to look."""
    scope = report.scopes.get("overall")
    if scope is None:
        return f"portfolio report {report.as_of.isoformat()}: no agreements"
    per_municipality = ", ".join(
        f"{name} {sum(s.agreements_by_state.values())}"
        for name, s in sorted(report.scopes.items())
        if name != "overall"
    )
    agreements = _n(sum(scope.agreements_by_state.values()), "agreement")
    if per_municipality:
        agreements += f" ({per_municipality})"
    figures = [
        agreements,
        _n(scope.total("blocked_payouts"), "blocked payout"),
        _n(scope.total("overdue_follow_ups"), "overdue follow-up"),
        _n(scope.total("deadlines"), "deadline") + f" in the next {HORIZON_DAYS} days",
    ]
    if scope.failed_notifications:
        figures.append(_n(scope.total("failed_notifications"), "notification") + " failed or stuck")
    return (
        f"portfolio report {report.as_of.isoformat()}: {', '.join(figures)}; "
        f"{_n(len(keys), 'artifact')} published, the summary is portfolio-overall"
    )
