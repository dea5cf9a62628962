"""*Mina överenskommelser*: what an organisation's representative sees first (issue 13).

For each agreement of the organisations the person represents: its state, the next
deadlines the organisation answers for, the payouts planned, released and blocked (a
held one with the gate's reason and remedy in Swedish, as the officers' pages show
it), the messages the municipality sent to the organisation, and the reports that can
be handed in now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..domain.reminders import ORGANISATION
from ..domain.states import AWAITING_REPORT, PayoutState
from .access import Viewer, visible_agreements
from .acting import notifications_of
from .views import timeline
from .worklist import gate_reasons

NEXT_DEADLINES = 5
MESSAGES_SHOWN = 10
# Deadline rows still ahead of the organisation, or late.
OPEN_STATUSES = frozenset({"upcoming", "planned", "open", "overdue", "returned", "projected"})


def my_agreements(db: Database, viewer: Viewer, today: date) -> list[dict[str, Any]]:
    """The representative's agreements, organisation by organisation (someone on two
    boards sees each association's apart), by diarienummer within each (see the
    module's docstring)."""
    agreements = _agreements(db, viewer, today)
    o = t.organisations
    with db.read() as session:
        names = {
            row.id: row
            for row in session.execute(
                sa.select(o.c.id, o.c.name, o.c.organisationsnummer).where(
                    o.c.id.in_(sorted(viewer.represents))
                )
            )
        }
    groups = []
    for key in sorted(names, key=lambda k: names[k].name):
        mine = [x for x in agreements if key in x["parties"]]
        groups.append(
            {
                "name": names[key].name,
                "organisationsnummer": names[key].organisationsnummer,
                "agreements": mine,
            }
        )
    return groups


def _agreements(db: Database, viewer: Viewer, today: date) -> list[dict[str, Any]]:
    a = t.agreements
    with db.read() as session:
        repo = Repository(session)
        ids = list(
            session.scalars(
                sa.select(a.c.id).where(visible_agreements(viewer)).order_by(a.c.diarienummer)
            )
        )
        found = []
        for key in ids:
            agreement = repo.agreement(key)
            deadlines = [
                row
                for row in timeline(agreement, today)
                if ORGANISATION in str(row["responsible"]).split(" and ")
                and row["status"] in OPEN_STATUSES
            ][:NEXT_DEADLINES]
            held = [p.id for p in agreement.payouts if p.state is PayoutState.BLOCKED and p.id]
            reasons = gate_reasons(session, held, agreement.diarienummer)
            payouts = []
            for p in sorted(agreement.payouts, key=lambda p: (p.due_on, p.id or 0)):
                gate = reasons.get(p.id or 0, {})
                payouts.append(
                    {
                        "due": p.due_on.isoformat(),
                        "amount_ore": p.amount_ore,
                        "state": p.state.value,
                        "reason": gate.get("reason"),
                        "unblocks": gate.get("unblocks"),
                    }
                )
            messages = [
                n for n in notifications_of(session, key) if ORGANISATION in n["recipients"]
            ][:MESSAGES_SHOWN]
            found.append(
                {
                    "id": key,
                    "diarienummer": agreement.diarienummer,
                    "title": agreement.title,
                    "state": agreement.state.value,
                    "period": [agreement.start.isoformat(), agreement.end.isoformat()],
                    "officer": agreement.officer,
                    "parties": [p.organisation.id for p in agreement.parties],
                    "deadlines": deadlines,
                    "payouts": payouts,
                    "messages": messages,
                    "reports": [
                        {
                            "year": f.year,
                            "state": f.state.value,
                            "due": f.due_on.isoformat(),
                            "return_reason": f.return_reason,
                        }
                        for f in sorted(agreement.follow_ups, key=lambda f: f.year)
                        if f.state in AWAITING_REPORT
                    ],
                }
            )
        return found
