"""Who sees which payment batch, and who may act on one: object-level authorization for
the pages and the API (the CLI names its actor and is checked by `register.editor`).

A batch belongs to one municipality. Staff (officer, manager, secretary) and auditors
see the batches of their own municipality (every municipality's when they have none,
as with agreements, service/access.py); a batch of another municipality is reported
exactly as one that does not exist. An organisation's representative sees no batch at
all, and an auditor reads and changes nothing. Whether the step itself is allowed (the
attest right, its limit, two persons) is decided by payment_batches.py, as for the CLI.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..adapters.db import Database
from ..domain.errors import NotFound, NotPermitted, RuleViolation
from .access import STAFF, Viewer, refuse_read_only
from .payment_batches import HELD_REASON, list_batches, show_batch, waiting_query

STAFF_ROLES = ("officer", "manager", "secretary", "auditor")


class NotForThisRole(NotPermitted):
    """The person's role has nothing to do with payment batches (an organisation's
    representative): a matter of role, like `NotPermitted`."""

    def __init__(self, viewer: Viewer) -> None:
        RuleViolation.__init__(
            self,
            f"{viewer.name} ({viewer.role.value}) has no access to payment batches; "
            f"allowed roles: {', '.join(STAFF_ROLES)}",
        )
        self.actor, self.role, self.trigger = viewer.name, viewer.role.value, "payment_batches"


def refuse_non_staff(viewer: Viewer) -> None:
    if viewer.role not in STAFF:
        raise NotForThisRole(viewer)


def may_see_batch(viewer: Viewer, municipality: str) -> bool:
    return viewer.role in STAFF and (
        viewer.municipality is None or viewer.municipality == municipality
    )


def batches_for(db: Database, viewer: Viewer) -> list[dict[str, Any]]:
    """The batches `viewer` may see, newest first."""
    refuse_non_staff(viewer)
    return list_batches(db, municipality=viewer.municipality)


def batch_for(db: Database, viewer: Viewer, batch_id: int) -> dict[str, Any]:
    """Batch `batch_id` with its payouts, when `viewer` may see it; else the very
    NotFound of a batch that does not exist."""
    refuse_non_staff(viewer)
    try:
        found = show_batch(db, batch_id)
    except NotFound:
        raise NotFound(f"no payment batch {batch_id}") from None
    if not may_see_batch(viewer, str(found["municipality"])):
        raise NotFound(f"no payment batch {batch_id}")
    return found


def acting_on_batch(db: Database, viewer: Viewer, batch_id: int) -> dict[str, Any]:
    """Batch `batch_id` when `viewer` may act on it: they see it and are not read-only.
    The step's own rules are checked by the step."""
    found = batch_for(db, viewer, batch_id)
    refuse_read_only(viewer)
    return found


def refuse_preparing(viewer: Viewer) -> None:
    """Only staff who change things prepare a batch."""
    refuse_non_staff(viewer)
    refuse_read_only(viewer)


def waiting_payouts(db: Database, viewer: Viewer, as_of: date) -> list[dict[str, Any]]:
    """The released payouts of `viewer`'s municipality that are in no batch yet (as
    `prepare_batch` would find them on `as_of`), each with `held`: the reason it stays
    out of a batch, or None when the next batch takes it."""
    refuse_non_staff(viewer)
    query = waiting_query(as_of, viewer.municipality)
    with db.read() as session:
        return [
            {
                "payout": r.id,
                "agreement_id": r.agreement_id,
                "diarienummer": r.diarienummer,
                "municipality": r.municipality,
                "organisation": r.organisation,
                "amount_ore": r.amount_ore,
                "released_on": r.released_on.isoformat(),
                "held": HELD_REASON if r.kind is None else None,
            }
            for r in session.execute(query)
        ]
