"""A municipality's IOP rules as data (riktlinje), with where each rule comes from.

A rule is either taken from the municipality's own guideline (source "seed") or is a
default where the guideline is silent (source "default", iop-rules §3). Presets live
in `iop_workflow/policies/*.yaml`; this module only validates and holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput
from .payment_setup import PaymentSetup
from .states import ContributionKind, DocumentKind

RULE_SOURCES = ("seed", "default")


@dataclass(frozen=True)
class Criterion:
    key: str
    text: str  # Swedish, as in the guideline
    required: bool  # False: "bör" (should hold), reported but not blocking


@dataclass(frozen=True)
class MonthDay:
    month: int
    day: int

    @classmethod
    def parse(cls, text: str, field: str) -> MonthDay:
        try:
            month_s, day_s = str(text).split("-")
            month, day = int(month_s), int(day_s)
        except ValueError:
            raise InvalidInput(f"'{text}' is not a MM-DD date", field=field) from None
        max_day = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if not 1 <= month <= 12 or not 1 <= day <= max_day[month - 1]:
            raise InvalidInput(f"'{text}' is not a valid MM-DD date", field=field)
        return cls(month, day)

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Policy:
    key: str
    municipality: str
    committee: str
    guideline: str  # the source document
    criteria: tuple[Criterion, ...]
    requires_forening_registration: bool
    contribution_kinds: tuple[ContributionKind, ...]
    max_period_years: int
    renewal_decision_months_before_end: int
    renewal_window_months: int  # the first N calendar months of the final year
    payout_parts: tuple[tuple[MonthDay, MonthDay], ...]  # covered part of each instalment
    payout_dates: tuple[MonthDay, ...]  # one per part, in the same calendar year
    follow_up_opens: MonthDay  # in year Y, for the follow-up of year Y
    report_due: MonthDay  # in year Y+1, for the report of year Y
    required_documents: tuple[DocumentKind, ...]
    repayment_method: str
    claim_due_days: int
    reminder_days_before: tuple[int, ...]
    overdue_notice_days_after: int
    escalation_days_after: int
    renewal_reminder_days_before_deadline: tuple[int, ...]
    payout_warning_days_before: int
    dialogue_forum: str | None
    overridable: frozenset[str]
    sources: Mapping[str, str]  # rule name -> "seed" | "default"
    notes: Mapping[str, str]
    payments: PaymentSetup | None = None  # None: this municipality pays by hand

    def source_of(self, rule: str) -> str:
        return self.sources[rule]

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Policy:
        """Build a policy from its YAML mapping, refusing anything malformed."""
        key = _req(data, "key", str, "policy")
        rules = data.get("rules")
        if not isinstance(rules, Mapping):
            raise InvalidInput("missing mapping", record=f"policy {key}", field="rules")
        sources: dict[str, str] = {}
        notes: dict[str, str] = {}

        def rule(name: str) -> Any:
            entry = rules.get(name)
            if not isinstance(entry, Mapping) or "value" not in entry:
                raise InvalidInput("missing rule", record=f"policy {key}", field=f"rules.{name}")
            source = entry.get("source")
            if source not in RULE_SOURCES:
                raise InvalidInput(
                    f"source must be one of {RULE_SOURCES}",
                    record=f"policy {key}",
                    field=f"rules.{name}.source",
                )
            sources[name] = source
            notes[name] = str(entry.get("note", ""))
            return entry["value"]

        def md(text: Any, name: str) -> MonthDay:
            return MonthDay.parse(str(text), f"rules.{name}")

        parts = tuple(
            (md(a, "payout_parts"), md(b, "payout_parts")) for a, b in rule("payout_parts")
        )
        dates = tuple(md(d, "payout_dates") for d in rule("payout_dates"))
        if len(parts) != len(dates) or not parts:
            raise InvalidInput(
                "needs one payout date per covered part",
                record=f"policy {key}",
                field="rules.payout_dates",
            )
        criteria = tuple(
            Criterion(key=str(c["key"]), text=str(c["text"]), required=bool(c["required"]))
            for c in data.get("criteria", [])
        )
        policy = cls(
            key=key,
            municipality=_req(data, "municipality", str, f"policy {key}"),
            committee=_req(data, "committee", str, f"policy {key}"),
            guideline=str(data.get("guideline", "")),
            criteria=criteria,
            requires_forening_registration=bool(rule("requires_forening_registration")),
            contribution_kinds=tuple(ContributionKind(k) for k in rule("contribution_kinds")),
            max_period_years=int(rule("max_period_years")),
            renewal_decision_months_before_end=int(rule("renewal_decision_months_before_end")),
            renewal_window_months=int(rule("renewal_window_months")),
            payout_parts=parts,
            payout_dates=dates,
            follow_up_opens=md(rule("follow_up_opens"), "follow_up_opens"),
            report_due=md(rule("report_due"), "report_due"),
            required_documents=tuple(DocumentKind(k) for k in rule("required_documents")),
            repayment_method=str(rule("repayment_method")),
            claim_due_days=int(rule("claim_due_days")),
            reminder_days_before=tuple(int(d) for d in rule("reminder_days_before")),
            overdue_notice_days_after=int(rule("overdue_notice_days_after")),
            escalation_days_after=int(rule("escalation_days_after")),
            renewal_reminder_days_before_deadline=tuple(
                int(d) for d in rule("renewal_reminder_days_before_deadline")
            ),
            payout_warning_days_before=int(rule("payout_warning_days_before")),
            dialogue_forum=rule("dialogue_forum"),
            overridable=frozenset(data.get("overridable", [])),
            sources=sources,
            notes=notes,
            payments=_payments(data, key),
        )
        if policy.max_period_years < 1:
            raise InvalidInput("must be at least 1", field="rules.max_period_years")
        return policy


def _payments(data: Mapping[str, Any], key: str) -> PaymentSetup | None:
    section = data.get("payments")
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise InvalidInput("must be a mapping", record=f"policy {key}", field="payments")
    return PaymentSetup.from_mapping(section, record=f"policy {key}")


def _req(data: Mapping[str, Any], name: str, kind: type, record: str) -> Any:
    value = data.get(name)
    if not isinstance(value, kind):
        raise InvalidInput(f"must be a {kind.__name__}", record=record, field=name)
    return value
