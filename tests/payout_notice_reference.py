"""The notices of closed payouts as Python builds them: what the steps' day records in
the equality test, and what `payout_notices.py` must write in SQL."""

from __future__ import annotations

from typing import Any

from iop_workflow.domain import reminders as r
from iop_workflow.service.outbox import Notice
from iop_workflow.service.payout_notices import BLOCKED_STAGE, BLOCKED_TO, party_stage
from iop_workflow.service.payouts import GateRow


def blocked_notice(row: GateRow) -> Notice:
    """The notice of a payout blocked now."""
    return closed_notice(row, r.Stage(row.due_on, r.PAYOUT_BLOCKED, BLOCKED_STAGE, BLOCKED_TO))


def closed_notice(row: GateRow, stage: r.Stage) -> Notice:
    """The notice at `stage` (blocked, or a warning ahead) of the payout `row`, to its
    own party: routing reads `organisation_id`."""
    own = r.Stage(
        stage.on, stage.kind, party_stage(stage.stage) + str(row.organisation_id), stage.recipients
    )
    return Notice(row.agreement_id, row.due_on, own, facts(row))


def facts(row: GateRow) -> dict[str, Any]:
    return {
        "organisation_id": row.organisation_id,
        "diarienummer": row.diarienummer,
        "due": row.due_on,
        "amount_ore": row.amount_ore,
        "reason": row.reason,
        "block": None if row.block is None else row.block.facts(),
        "payout_id": row.payout_id,
    }
