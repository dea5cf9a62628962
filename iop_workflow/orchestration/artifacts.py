"""The portfolio report as Prefect artifacts with stable keys.

Keys hold only lowercase letters, digits and dashes, and stay the same from run to
run, so the dashboard shows each artifact's history: `portfolio-overall`,
`portfolio-mjolby`, `blocked-payouts-overall`, ...
"""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from ..service.report import Portfolio, Scope

TABLES = (
    ("agreements-by-state", "Agreements per state"),
    ("blocked-payouts", "Blocked payouts, why, and what unblocks them"),
    ("overdue-follow-ups", "Overdue follow-ups"),
    ("deadlines-90-days", "Deadlines in the next 90 days"),
    ("money-by-year", "Money per year: planned, released, paid, blocked, claimed"),
    ("failed-notifications", "Notifications failed or stuck"),
)


# The summary is read on a screen: long lists are cut here (the table artifacts and
# `iop payouts` / `iop notify list` have every row).
LISTED = 200


def _capped(lines: list[str], table: str, total: int | None = None) -> list[str]:
    """The first LISTED lines, and how many more there are: in the table artifact up to
    the report's LISTED_ROWS, the rest only in the product (`iop payouts`, the web)."""
    total = len(lines) if total is None else max(total, len(lines))
    if total <= LISTED:
        return lines
    return [*lines[:LISTED], f"- … and {total - LISTED} more (table artifact `{table}`)"]


def key(prefix: str, scope: str) -> str:
    return f"{prefix}-{scope}".lower()


def table_rows(scope: Scope, prefix: str) -> list[dict[str, Any]]:
    if prefix == "agreements-by-state":
        return [
            {"state": str(state), "agreements": count}
            for state, count in sorted(scope.agreements_by_state.items())
        ]
    if prefix == "blocked-payouts":
        return scope.blocked_payouts
    if prefix == "overdue-follow-ups":
        return scope.overdue_follow_ups
    if prefix == "deadlines-90-days":
        return scope.deadlines
    if prefix == "money-by-year":
        return scope.money_rows()
    return scope.failed_notifications


def audit_line(report: Portfolio) -> list[str]:
    """The report's line on `iop audit verify`: intact with its count, or where broken."""
    verdict = report.audit
    if verdict is None:
        return []
    if verdict.intact:
        return [f"Audit trail: intact ({verdict.records} records, head {verdict.head[:16]})", ""]
    return [f"Audit trail: **{verdict.summary()}** (`iop audit verify`)", ""]


def markdown(report: Portfolio, scope: Scope) -> str:
    lines = [
        f"# IOP portfolio — {scope.name} — {report.as_of.isoformat()}",
        "",
        *audit_line(report),
        "| state | agreements |",
        "|---|---|",
        *[f"| {state} | {n} |" for state, n in sorted(scope.agreements_by_state.items())],
        "",
        f"## Blocked payouts ({scope.total('blocked_payouts')})",
        "",
    ]
    blocked = [
        f"- **{p['diarienummer']}** payout {p['payout']} due {p['due']}, {p['amount']}: "
        f"{p['reason']} — unblocked by {p['unblocks']}"
        for p in scope.blocked_payouts
    ]
    lines += _capped(
        blocked, key("blocked-payouts", scope.name), scope.total("blocked_payouts")
    ) or ["None."]
    lines += ["", f"## Overdue follow-ups ({scope.total('overdue_follow_ups')})", ""]
    overdue = [
        f"- **{f['diarienummer']}** follow-up {f['year']}: report due {f['report_due']}, "
        f"{f['days_overdue']} days overdue ({f['state']})"
        for f in scope.overdue_follow_ups
    ]
    lines += _capped(
        overdue, key("overdue-follow-ups", scope.name), scope.total("overdue_follow_ups")
    ) or ["None."]
    lines += ["", "## Deadlines in the next 90 days", ""]
    deadlines = [
        f"- {d['due']} **{d['diarienummer']}** {d['kind']} {d['what']}".rstrip()
        for d in scope.deadlines
    ]
    lines += _capped(deadlines, key("deadlines-90-days", scope.name), scope.total("deadlines")) or [
        "None."
    ]
    lines += [
        "",
        "## Money per year",
        "",
        "| year | planned | released | paid | blocked | claimed |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {m['year']} | {m['planned']} | {m['released']} | {m['paid']} | {m['blocked']} "
        f"| {m['claimed']} |"
        for m in scope.money_rows()
    ]
    if scope.failed_notifications:
        lines += ["", f"## Notifications failed or stuck ({scope.total('failed_notifications')})"]
        failed = [
            f"- **{n['diarienummer']}** {n['kind']} ({n['state']}, {n['attempts']} attempts)"
            for n in scope.failed_notifications
        ]
        lines += _capped(failed, key("failed-notifications", scope.name))
    return "\n".join(lines) + "\n"


def publish(report: Portfolio) -> list[str]:
    """Create every artifact; returns their keys."""
    keys = []
    for scope in report.scopes.values():
        summary_key = key("portfolio", scope.name)
        create_markdown_artifact(
            key=summary_key,
            markdown=markdown(report, scope),
            description=f"IOP portfolio summary, {scope.name}, {report.as_of.isoformat()}",
        )
        keys.append(summary_key)
        for prefix, title in TABLES:
            table_key = key(prefix, scope.name)
            create_table_artifact(
                key=table_key,
                table=table_rows(scope, prefix) or [{"note": "none"}],
                description=f"{title} — {scope.name}, {report.as_of.isoformat()}",
            )
            keys.append(table_key)
    return keys
