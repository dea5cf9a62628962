"""The notification delivery of a flow run, as seen in the Prefect dashboard.

A failed send never fails the flow (the row is retried later), so without this an
officer would only learn of an SMTP outage from the portfolio report a day later. The
deliver task therefore logs a WARNING through the run logger when messages failed or a
recipient has no address, and publishes a markdown artifact under one stable key
(`notification-delivery`), whose history in the dashboard shows the outage and the
recovery. Every text here comes from a `DeliveryReport`, whose errors the notify package
has already redacted: nothing in this module may add a URL or a configured value.
"""

from __future__ import annotations

import re
from datetime import datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact

from ..notify import DeliveryReport
from ..timefmt import shown

KEY = "notification-delivery"
LISTED = 50  # lines of errors and of problems in the artifact; an outage yields one per row
LOGGED = 5  # reasons in the log line; the artifact has the rest

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def has_trouble(report: DeliveryReport) -> bool:
    """A message a target refused, or a recipient who could not be addressed."""
    return bool(report.messages_failed or report.problems or report.failed)


def counts(report: DeliveryReport) -> str:
    return (
        f"{report.sent} sent, {report.retrying} retrying, {report.failed} failed, "
        f"{report.deferred} deferred to tomorrow's digest "
        f"(messages: {report.messages_sent} sent, {report.messages_failed} failed)"
    )


def warning(report: DeliveryReport) -> str:
    """The log line: counts and the first reasons (already redacted)."""
    reasons = report.errors + report.problems
    shown = "; ".join(reasons[:LOGGED]) or "no reason recorded"
    more = len(reasons) - LOGGED
    if more > 0:
        shown += f"; and {more} more (artifact {KEY})"
    return f"notifications not delivered: {counts(report)}. Reasons: {shown}"


def _escape(text: str) -> str:
    # Reasons quote server answers and addresses: keep them from turning into markup.
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _listed(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    out = ["", f"## {title} ({len(lines)})", ""]
    out += [f"- {_escape(line)}" for line in lines[:LISTED]]
    if len(lines) > LISTED:
        out.append(f"- … and {len(lines) - LISTED} more")
    return out


def markdown(report: DeliveryReport, *, now: datetime) -> str:
    when = shown(now)
    verdict = (
        "**Some notifications were not delivered.** They stay pending and are tried "
        "again by a later run; after the last attempt they are marked failed and listed "
        "in the portfolio report."
        if has_trouble(report)
        else "Every notification due was delivered or is waiting for tomorrow's digest."
    )
    lines = [
        f"# Notification delivery — {when}",
        "",
        verdict,
        "",
        "| notifications | count |",
        "|---|---|",
        f"| sent | {report.sent} |",
        f"| retrying | {report.retrying} |",
        f"| failed | {report.failed} |",
        f"| deferred | {report.deferred} |",
        "",
        "| messages | count |",
        "|---|---|",
        f"| sent | {report.messages_sent} |",
        f"| failed | {report.messages_failed} |",
    ]
    lines += _listed("Errors", report.errors)
    lines += _listed("Recipients without an address", report.problems)
    return "\n".join(lines) + "\n"


def publish(report: DeliveryReport, *, now: datetime) -> str | None:
    """Inside a task run: warn on trouble and publish the artifact; returns its key, or
    None when no row was due or nothing is configured."""
    if not report.configured:
        # Otherwise an unset IOP_APPRISE_CONFIG is silent in the dashboard for days.
        get_run_logger().warning(
            "notifications not sent: IOP_APPRISE_CONFIG is not set; they wait in the outbox"
        )
        return None
    if not report.claimed:
        # A run with nothing due must not replace the last real outcome in the dashboard.
        return None
    if has_trouble(report):
        get_run_logger().warning(warning(report))
    create_markdown_artifact(
        key=KEY,
        markdown=markdown(report, now=now),
        description=f"Notification delivery: {counts(report)}",
    )
    return KEY
