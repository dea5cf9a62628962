"""Read-only views: plain dicts the CLI prints as tables or JSON (a scripting contract)."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..adapters.db import Database, Repository
from ..domain import reminders as r
from ..domain.deadlines import RENEWAL_DECISION_DEADLINE, obligations
from ..domain.model import Agreement, AuditRecord, FollowUp
from ..domain.payout_plan import stored_plan
from ..domain.states import RENEWABLE_AGREEMENT, FollowUpState
from ..domain.workflow import available_steps
from ..policies import load_policy


def _organisation(agreement: Agreement) -> dict[str, Any] | None:
    if not agreement.parties:
        return None
    org = agreement.parties[0].organisation
    return {"name": org.name, "organisationsnummer": org.organisationsnummer}


def summary(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "diarienummer": a.diarienummer,
        "municipality": a.municipality,
        "committee": a.committee,
        "title": a.title,
        "state": a.state.value,
        "period": {"start": a.start.isoformat(), "end": a.end.isoformat()},
        "organisation": _organisation(a),
        "officer": a.officer,
    }


def detail(a: Agreement) -> dict[str, Any]:
    orgs = {p.organisation.id: p.organisation for p in a.parties}
    return {
        **summary(a),
        "purpose": a.purpose,
        "target_group": a.target_group,
        "goals": a.goals,
        "values": a.values,
        "indicators": list(a.indicators),
        "period_no": a.period_no,
        "first_start": a.origin.isoformat(),
        # Added by issue 11: where and when the dialogue was held (None: not recorded).
        "dialogue": _meeting(a.dialogue_forum, a.dialogue_held_on, a.dialogue_minutes_ref),
        "version": a.version,
        "parties": [
            {
                "name": p.organisation.name,
                "organisationsnummer": p.organisation.organisationsnummer,
                "share_percent": p.share_bp / 100,
                "forening_registered": p.organisation.forening_registered,
            }
            for p in a.parties
        ],
        "criteria": [
            {"criterion": c.criterion, "verdict": c.verdict.value, "motivation": c.motivation}
            for c in a.assessments
        ],
        "economic_plan": {
            "support_ore": {str(s.year): s.amount_ore for s in a.support},
            "contributions": [
                {
                    "year": c.year,
                    "kind": c.kind.value,
                    "amount_ore": c.amount_ore,
                    "hours": c.hours,
                    "description": c.description,
                }
                for c in a.contributions
            ],
            "other_income": [
                {"year": o.year, "source": o.source, "amount_ore": o.amount_ore}
                for o in a.other_income
            ],
            "repayment_terms": a.repayment_terms,
            "renewal_terms": a.renewal_terms,
        },
        "decisions": [
            {
                "kind": d.kind.value,
                "body": d.body,
                "meeting_date": d.meeting_date.isoformat(),
                "paragraph": d.paragraph,
                "outcome": d.outcome.value,
                "minutes_adjusted": d.minutes_adjusted_on.isoformat()
                if d.minutes_adjusted_on
                else None,
                "period_no": d.period_no,
            }
            for d in a.decisions
        ],
        "signatures": [
            {
                "party": s.party,
                "signed_on": s.signed_on.isoformat(),
                "signed_by": s.signed_by,
                "period_no": s.period_no,
            }
            for s in a.signatures
        ],
        "follow_ups": [_follow_up(f) for f in sorted(a.follow_ups, key=lambda f: f.year)],
        "payouts": [
            {
                "id": p.id,
                "organisation": orgs[p.organisation_id].organisationsnummer
                if p.organisation_id in orgs
                else None,
                "covers": [p.covers_from.isoformat(), p.covers_to.isoformat()],
                "due": p.due_on.isoformat(),
                "amount_ore": p.amount_ore,
                "state": p.state.value,
                "blocked_reason": p.blocked_reason,
            }
            for p in sorted(a.payouts, key=lambda p: (p.covers_from, p.organisation_id))
        ],
        "claims": [
            {
                "id": c.id,
                "kind": c.kind.value,
                "amount_ore": c.amount_ore,
                "basis": c.basis,
                "raised_on": c.raised_on.isoformat(),
                "due": c.due_on.isoformat(),
                "state": c.state.value,
            }
            for c in a.claims
        ],
        "terminated_on": a.terminated_on.isoformat() if a.terminated_on else None,
        # The plan the nämnd decided (issue 11); None: the preset's payout dates.
        "payout_plan": _plan(a.payout_plan),
        "termination_reason": a.termination_reason,
        # Added by issue 11: the tilläggsavtal, in the order they were recorded.
        "amendments": [
            {
                "id": m.id,
                "decided_on": m.decided_on.isoformat(),
                "paragraph": m.paragraph,
                "description": m.description,
                "new_end": m.new_end.isoformat() if m.new_end else None,
                "support_changes_ore": dict(m.support_changes),
                "new_payout_plan": _plan(m.new_payout_plan),
                "recorded_by": m.recorded_by,
            }
            for m in a.amendments
        ],
    }


def _plan(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    plan = stored_plan(stored)
    return None if plan is None else {**plan.stored(), "text": plan.describe()}


def _meeting(forum: str | None, held_on: date | None, minutes: str | None) -> dict[str, Any] | None:
    """The forum's meeting a step was taken in, or None when none is recorded."""
    if forum is None and held_on is None and minutes is None:
        return None
    return {
        "forum": forum,
        "meeting_on": held_on.isoformat() if held_on else None,
        "minutes_ref": minutes,
    }


def _follow_up(f: FollowUp) -> dict[str, Any]:
    return {
        "year": f.year,
        "state": f.state.value,
        "opens": f.opens_on.isoformat(),
        "report_due": f.due_on.isoformat(),
        "submitted_by": f.submitted_by,
        "reviewed_by": f.reviewed_by,
        "documents": [
            {"kind": d.kind.value, "arrived": d.arrived_on.isoformat()} for d in f.documents
        ],
        "statistics": dict(f.statistics),
        # Added by issue 11: the meeting that reviewed the report (None: not recorded).
        "meeting": _meeting(f.forum, f.meeting_on, f.minutes_ref),
    }


def _status(a: Agreement, kind: str, subject: str, due: date, today: date) -> str:
    time_status = "upcoming" if due >= today else "passed"
    if kind == "payout":
        states = {p.state.value for p in a.payouts if p.covers_from.isoformat() == subject}
        return "/".join(sorted(states)) if states else "projected"
    if kind in ("follow_up_opens", "report_due"):
        follow_up = a.follow_up(int(subject))
        if follow_up is None:
            return "projected"
        if kind == "follow_up_opens":
            return "opened" if follow_up.state is not FollowUpState.PLANNED else time_status
        if follow_up.state in (FollowUpState.APPROVED, FollowUpState.SUBMITTED):
            return follow_up.state.value
        if follow_up.state is FollowUpState.CANCELLED:
            return "cancelled"
        return "overdue" if due < today else follow_up.state.value
    return time_status


def timeline(a: Agreement, today: date) -> list[dict[str, Any]]:
    policy = load_policy(a.municipality)
    # A renewal deadline missed, or falling before the window (reminders.renewal_timing):
    # its own status on the deadline's row, with the Swedish note officers read.
    timing = r.renewal_timing(a.end, today, policy) if a.state in RENEWABLE_AGREEMENT else None
    rows = []
    for o in obligations(a, policy):
        status, note = _status(a, o.kind, o.subject, o.due, today), None
        if timing is not None and o.kind == RENEWAL_DECISION_DEADLINE:
            status, note = timing, r.renewal_timing_text(timing, a.end, policy)
        rows.append(
            {
                "kind": o.kind,
                "due": o.due.isoformat(),
                "responsible": o.responsible,
                "status": status,
                "blocks": list(o.blocks),
                "subject": o.subject,
                "description": o.description,
                # Added by issue 11: a Swedish note on the renewal timing, else None.
                "note": note,
            }
        )
    return rows


def audit_view(records: list[AuditRecord]) -> list[dict[str, Any]]:
    return [
        {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "role": r.role,
            "entity": r.entity,
            "entity_key": r.entity_key,
            "trigger": r.trigger,
            "from": r.from_state,
            "to": r.to_state,
            "reason": r.reason,
            "data": r.data,
            # Added by issue 9 (NULL for records older than migration 0005).
            "id": r.id,
            "effective_date": r.effective_date.isoformat() if r.effective_date else None,
            "channel": r.channel,
            "os_user": r.os_user,
            "host": r.host,
        }
        for r in records
    ]


def steps_view(a: Agreement) -> list[dict[str, Any]]:
    return [
        {"trigger": s.trigger, "entity": s.entity, "target": s.target, "roles": list(s.roles)}
        for s in available_steps(a)
    ]


# --- loaders ------------------------------------------------------------------


def list_agreements(
    db: Database, state: str | None = None, municipality: str | None = None
) -> list[dict[str, Any]]:
    with db.read() as session:
        return [summary(a) for a in Repository(session).agreements(state, municipality)]


def show(db: Database, ref: str) -> dict[str, Any]:
    with db.read() as session:
        return detail(Repository(session).agreement(ref))


def agreement_timeline(db: Database, ref: str, today: date) -> list[dict[str, Any]]:
    with db.read() as session:
        return timeline(Repository(session).agreement(ref), today)


def agreement_audit(db: Database, ref: str) -> list[dict[str, Any]]:
    with db.read() as session:
        repo = Repository(session)
        agreement = repo.agreement(ref)
        assert agreement.id is not None
        return audit_view(repo.audit(agreement.id))


def agreement_steps(db: Database, ref: str) -> dict[str, Any]:
    with db.read() as session:
        agreement = Repository(session).agreement(ref)
        return {"agreement": summary(agreement), "steps": steps_view(agreement)}
