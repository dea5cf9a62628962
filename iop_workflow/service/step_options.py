"""What may be done now on an agreement, and what is refused and why (`iop triggers`).

Every candidate step, i.e. what the machines allow now on the agreement and on its open
follow-ups, payouts and claims (`available_steps`), is *rehearsed*: the real step code
runs exactly as `iop transition` runs it (`resolve_actor`, then `apply_step`: fire,
flush the changes, their audit records and notices) inside a transaction that is
always rolled back, one transaction per rehearsal. So the verdict is the one the step
itself would give, never a second opinion kept in step with the rules by hand:

- ``allowed``: the step fired;
- ``blocked``: it was refused by a rule (a `RuleViolation`: not allowed in the current
  state, a guard, the person's role, the person not belonging to the agreement);
  ``reason`` is the exact message `iop transition` prints after ``refused:``;
- ``unchecked``: it failed on an input this module could not make up (`InvalidInput`),
  so the rules that read that input were not judged. No step of today's workflow ends
  here; it is the safe answer for a future step whose input is not described below.

Input the person must type. A step that needs input (``approve_decision`` needs
``meeting_date`` and ``paragraph``) cannot be judged without it, and some rules check
the input itself (a meeting date must not be in the future). Such a step is rehearsed
with a sample of valid input, reported as ``checked_with``, and its fields as
``needs``: dates are the day acted on (a meeting date: no later than a renewal's
decision deadline; a termination date: inside the period), a criterion is one of the
preset's, a document kind one still missing, texts are placeholders, amounts the
economic plan's own. The verdict holds for that input: ``allowed`` means the step fires
for this person when given such input; a rule about the input itself can still refuse
other values (a meeting date in the future), with a message naming the value.
``needs`` lists what the step cannot fire without: the fields the step requires, a
``reason`` where a guard demands one, and what only the step's input can supply to a
guard (the dialogue's goals when none are recorded, ``support.YYYY`` for a year of the
period the economic plan does not cover, the ``organisation`` of a claim when the
agreement has several parties, the ``meeting_on`` of the dialogue or the follow-up's
review where the preset names a forum). Optional fields are not listed; ``fields`` describes
every field the step takes, required or not (its typed command, domain/commands.py).

Without a person, each step is rehearsed for a stand-in of every role that may fire
it (an organisation representative for each party); it is allowed when one of them
may fire it, and blocked, whoever fires it, when every one is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..adapters.db import Database, Repository
from ..domain import calendar as cal
from ..domain import guards
from ..domain.commands import command_for, fields_of
from ..domain.context import StepData
from ..domain.errors import InvalidInput, IopError, RuleViolation
from ..domain.machines import DEFINITIONS
from ..domain.model import Agreement
from ..domain.policy import Policy
from ..domain.roles import SYSTEM_ACTOR, Actor, roles_for
from ..domain.states import AgreementState, DocumentKind, Role, Verdict
from ..domain.steps import TEXT_FIELDS
from ..domain.workflow import AvailableStep, available_steps, resolve_target
from ..policies import load_policy
from .actors import resolve_actor
from .steps import apply_step
from .views import summary

ALLOWED, BLOCKED, UNCHECKED = "allowed", "blocked", "unchecked"

# Steps one of whose guards refuses them without `--set reason=...`.
_NEED_REASON: frozenset[str] = frozenset(
    str(row["trigger"])
    for _, _, table in DEFINITIONS.values()
    for row in table
    if guards.reason_given in row["conditions"]
)

_PLACEHOLDER = {
    "reason": "(reason)",
    "motivation": "(motivation)",
    "description": "(description)",
    "basis": "(basis)",
    "paragraph": "§ 1",
    "goals": "(goals)",
    "purpose": "(purpose)",
    "target_group": "(target group)",
    "indicators": "(indicator)",
}

# At most this many rehearsals of one step while discovering input it requires.
_MAX_REHEARSALS = 6


@dataclass(frozen=True)
class _Probe:
    """What sample input is made from: the candidate step as it stands now."""

    agreement: Agreement
    trigger: str
    target: Any
    today: date
    policy: Policy


@dataclass(frozen=True)
class _Outcome:
    status: str
    reason: str | None
    checked_with: dict[str, str]


class _RolledBack(Exception):
    """Raised at the end of every rehearsal, so that `Database.write` rolls it back."""


def step_options(
    db: Database, ref: str, *, actor_name: str | None, today: date, now: datetime
) -> dict[str, Any]:
    """The candidate steps of agreement `ref` on `today`, each with its verdict.

    With `actor_name` (a person, resolved as `iop transition` resolves `--actor`) the
    verdicts are that person's; without, a step is allowed when some role may fire it.
    """
    with db.read() as session:
        repo = Repository(session)
        agreement = repo.agreement(ref)
        assert agreement.id is not None
        key = str(agreement.id)
        policy = load_policy(agreement.municipality)
        actor: dict[str, Any] | None = None
        refusal: str | None = None
        if actor_name is not None:
            try:
                role: str | None = resolve_actor(repo, actor_name, agreement).role.value
            except RuleViolation as exc:  # not on this agreement: every step is refused
                refusal = str(exc)
                person = repo.person(actor_name)
                role = person.role.value if person else None
            actor = {"name": actor_name, "role": role, "refused": refusal}
        # Every relationship is loaded eagerly (adapters/orm.py): the probes stay usable
        # once the read is over, and the rehearsals run outside it, each in a write
        # transaction of its own (an in-memory SQLite database has only one connection).
        candidates = [
            (c, _probe(agreement, c, today, policy), _stand_ins(agreement, c.trigger))
            for c in available_steps(agreement)
        ]
        fields = {c.trigger: fields_of(command_for(c.trigger, agreement)) for c, _, _ in candidates}
        head = {"agreement": summary(agreement), "as_of": today.isoformat(), "actor": actor}

    steps = []
    for c, probe, stand_ins in candidates:
        row: dict[str, Any] = {
            "trigger": c.trigger,
            "entity": c.entity,
            "target": c.target,
            "roles": list(c.roles),
        }
        if actor_name is None:
            outcome, row["allowed_roles"] = _judge_any(db, key, c, probe, stand_ins, now)
        elif refusal is not None:
            outcome = _Outcome(BLOCKED, refusal, _sample_input(probe))
        else:
            outcome = _judge(db, key, c, probe, actor_name, now)
        row.update(
            status=outcome.status,
            reason=outcome.reason,
            needs=list(outcome.checked_with),
            checked_with=outcome.checked_with,
            fields=fields[c.trigger],
        )
        steps.append(row)
    return {
        **head,
        "steps": steps,
        "allowed": [s for s in steps if s["status"] == ALLOWED],
        "blocked": [s for s in steps if s["status"] == BLOCKED],
        "unchecked": [s for s in steps if s["status"] == UNCHECKED],
    }


# --- rehearsing -------------------------------------------------------------------


def _judge(
    db: Database, ref: str, step: AvailableStep, probe: _Probe, who: str | Actor, now: datetime
) -> _Outcome:
    """Rehearse `step` as `who`; add sample input for each field found to be required."""
    sample = _sample_input(probe)
    for _ in range(_MAX_REHEARSALS):
        data = {**_target_input(step.target), **sample}
        error = _rehearse(db, ref, step.trigger, data, who=who, today=probe.today, now=now)
        if error is None:
            return _Outcome(ALLOWED, None, sample)
        if isinstance(error, RuleViolation):
            return _Outcome(BLOCKED, str(error), sample)
        field = error.field if isinstance(error, InvalidInput) else None
        value = _sample(probe, field) if field is not None and field not in sample else None
        if field is None or value is None:
            return _Outcome(UNCHECKED, str(error), sample)
        sample = {**sample, field: value}
    return _Outcome(UNCHECKED, str(error), sample)


def _judge_any(
    db: Database,
    ref: str,
    step: AvailableStep,
    probe: _Probe,
    stand_ins: list[Actor],
    now: datetime,
) -> tuple[_Outcome, list[str]]:
    """Rehearse `step` for a stand-in of each role that may fire it."""
    outcomes = [(a, _judge(db, ref, step, probe, a, now)) for a in stand_ins]
    if not outcomes:
        return _Outcome(BLOCKED, f"no role may fire '{step.trigger}'", {}), []
    fired = [(a, o) for a, o in outcomes if o.status == ALLOWED]
    if fired:
        roles = list(dict.fromkeys(a.role.value for a, _ in fired))
        return fired[0][1], roles
    unchecked = [o for _, o in outcomes if o.status == UNCHECKED]
    if unchecked:
        return unchecked[0], []
    reasons = {_stand_in_label(a): o.reason or "" for a, o in outcomes}
    distinct = list(dict.fromkeys(reasons.values()))
    reason = (
        distinct[0]
        if len(distinct) == 1
        else "; ".join(f"{who}: {why}" for who, why in reasons.items())
    )
    return _Outcome(BLOCKED, reason, outcomes[0][1].checked_with), []


def _rehearse(
    db: Database,
    ref: str,
    trigger: str,
    data: Mapping[str, Any],
    *,
    who: str | Actor,
    today: date,
    now: datetime,
) -> IopError | None:
    """Run the step as `iop transition` would, then roll everything back.

    None when it fired; else the rule's refusal (`RuleViolation`) or the bad input
    (`InvalidInput`, also a duplicate key found when flushing).
    """
    try:
        with db.write() as session:
            repo = Repository(session)
            agreement = repo.agreement(ref)
            actor = who if isinstance(who, Actor) else resolve_actor(repo, who, agreement)
            apply_step(repo, agreement, trigger, actor=actor, data=data, today=today, now=now)
            session.flush()
            raise _RolledBack
    except _RolledBack:
        return None
    except (RuleViolation, InvalidInput) as error:
        return error


def _stand_ins(agreement: Agreement, trigger: str) -> list[Actor]:
    """One actor per role that may fire `trigger` (one representative per party); the
    scheduler for a step no person may fire."""
    found: list[Actor] = []
    for role in sorted(roles_for(trigger) - {Role.SYSTEM}, key=lambda r: r.value):
        if role is Role.ORG_REP:
            found += [
                Actor(
                    name=f"a representative of {p.organisation.name}",
                    role=role,
                    organisation=p.organisation.organisationsnummer,
                )
                for p in agreement.parties
            ]
        else:
            found.append(
                Actor(name=f"any {role.value}", role=role, municipality=agreement.municipality)
            )
    if not found and Role.SYSTEM in roles_for(trigger):
        found.append(SYSTEM_ACTOR)
    return found


def _stand_in_label(actor: Actor) -> str:
    if actor.role is Role.ORG_REP:
        return f"{actor.role.value} ({actor.organisation})"
    return actor.role.value


# --- sample input -------------------------------------------------------------------


def _target_input(target: str) -> dict[str, str]:
    """`year=2027` → {"year": "2027"}; the agreement itself needs none."""
    key, _, value = target.partition("=")
    return {key: value} if key else {}


def _probe(agreement: Agreement, step: AvailableStep, today: date, policy: Policy) -> _Probe:
    target = resolve_target(agreement, step.entity, StepData(_target_input(step.target), ""))
    return _Probe(agreement, step.trigger, target, today, policy)


def _needed(probe: _Probe) -> list[str]:
    """The input fields `probe`'s step cannot fire without (see the module docstring)."""
    a, trigger = probe.agreement, probe.trigger
    command = command_for(trigger, a)
    fields = [name for name, info in command.model_fields.items() if info.is_required()]
    if trigger in _NEED_REASON:
        fields.append("reason")
    if trigger == "propose_plan":
        fields += [name for name in TEXT_FIELDS if name != "values" and not getattr(a, name)]
        if not a.indicators:
            fields.append("indicators")
    if trigger in ("start_dialogue", "approve_follow_up") and probe.policy.dialogue_forum:
        fields.append("meeting_on")  # held in the preset's forum (guards.forum_meeting_held)
    if trigger == "raise_claim" and a.state is not AgreementState.TERMINATED:
        fields += ["organisation"] if len(a.parties) > 1 else []
    if trigger == "amend" and a.end < probe.today and _amended_end(probe) is not None:
        fields.append("end")  # the period is over: a tilläggsavtal must move its end
    if trigger in ("submit_for_decision", "amend", "renew"):
        start, end = _period(probe)
        fields += [f"support.{y}" for y in cal.years_between(start, end) if a.support_for(y) <= 0]
    return fields


def _period(probe: _Probe) -> tuple[date, date]:
    """The period the step sets with the sample input (renew: the next one)."""
    a = probe.agreement
    if probe.trigger == "renew":
        return a.end + timedelta(days=1), _renewed_end(a)
    if probe.trigger == "amend" and a.end < probe.today:
        return a.start, _amended_end(probe) or a.end
    return a.start, a.end


def _renewed_end(agreement: Agreement) -> date:
    return cal.add_years(agreement.end, 1)


def _amended_end(probe: _Probe) -> date | None:
    """A new end for a tilläggsavtal on a period already over: the end of this year, or
    the period's last allowed day; None when no end within the maximum is still ahead."""
    a = probe.agreement
    longest = cal.max_end_date(a.start, probe.policy.max_period_years)
    end = min(date(probe.today.year, 12, 31), longest)
    return end if end >= probe.today else None


def _sample_input(probe: _Probe) -> dict[str, str]:
    sample: dict[str, str] = {}
    for field in _needed(probe):
        value = _sample(probe, field)
        if value is not None:
            sample[field] = value
    return sample


def _sample(probe: _Probe, field: str) -> str | None:
    """A valid value of `field` for `probe`'s step, as `--set` would give it."""
    a, today = probe.agreement, probe.today
    if field in _PLACEHOLDER:
        return _PLACEHOLDER[field]
    if field == "criterion":
        assessed = {x.criterion for x in a.assessments}
        keys = [c.key for c in probe.policy.criteria]
        return next((k for k in keys if k not in assessed), keys[0] if keys else None)
    if field == "verdict":
        return Verdict.MET.value
    if field == "meeting_on":
        return today.isoformat()
    if field in ("meeting_date", "decided_on"):
        if probe.trigger == "renew":
            deadline = cal.renewal_decision_deadline(
                a.end, probe.policy.renewal_decision_months_before_end
            )
            return min(today, deadline).isoformat()
        return today.isoformat()
    if field == "date":
        return min(max(today, a.start), a.end).isoformat()
    if field == "end" and probe.trigger == "renew":
        return _renewed_end(a).isoformat()
    if field == "end" and probe.trigger == "amend":
        end = _amended_end(probe)
        return end.isoformat() if end else None
    if field == "kind":
        arrived = {d.kind for d in getattr(probe.target, "documents", [])}
        kinds: list[DocumentKind] = [*probe.policy.required_documents, *DocumentKind]
        return str(next((k for k in kinds if k not in arrived), kinds[0]).value)
    if field == "amount":
        return "1000"
    if field == "organisation":
        return a.parties[0].organisation.organisationsnummer if a.parties else None
    if field.startswith("support.") and field[len("support.") :].isdigit():
        amounts = [s.amount_ore for s in sorted(a.support, key=lambda s: s.year) if s.amount_ore]
        ore = amounts[-1] if amounts else 100_000_00
        return f"{ore // 100},{ore % 100:02d}"
    return None
