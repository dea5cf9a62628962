"""The rules of a payment batch, pure: who may attest it, where it may go next, and the
identifiers its payment file carries.

A batch is prepared by one person and attested by another who holds the attest right
for its municipality, for a total within their limit (two-person attest, as a
municipality's attestreglemente asks). Only an attested batch is exported; only an
exported one is paid.
"""

from __future__ import annotations

from datetime import date

from .money import format_sek
from .states import BatchState, PaymentStage

# Where each step may start from; a step from anywhere else is refused.
MOVES: dict[str, frozenset[BatchState]] = {
    "attest": frozenset({BatchState.PREPARED}),
    "reject": frozenset({BatchState.PREPARED, BatchState.ATTESTED}),
    "export": frozenset({BatchState.ATTESTED, BatchState.EXPORTED, BatchState.PAID}),
    "pay": frozenset({BatchState.EXPORTED}),
}
MAX_ID = 35  # MsgId and EndToEndId are Max35Text


def move_problem(step: str, state: BatchState) -> str | None:
    """Why `step` cannot be taken from `state`, or None when it can."""
    allowed = MOVES[step]
    if state in allowed:
        return None
    wanted = " or ".join(sorted(s.value for s in allowed))
    return f"a batch that is {state.value} cannot be {_done(step)}; it must be {wanted}"


def _done(step: str) -> str:
    return {"attest": "attested", "reject": "rejected", "export": "exported", "pay": "paid"}[step]


def attest_problem(
    *, preparer: str, attester: str, limit_ore: int | None, total_ore: int, municipality: str
) -> str | None:
    """Why `attester` may not attest a batch of `total_ore` prepared by `preparer`."""
    if attester == preparer:
        return f"{attester} prepared this batch; another person must attest it"
    if limit_ore is None:
        return f"{attester} has no attest right for {municipality}"
    if total_ore > limit_ore:
        return (
            f"the batch totals {format_sek(total_ore)}, above {attester}'s attest limit "
            f"of {format_sek(limit_ore)}"
        )
    return None


def message_id(municipality: str, batch_id: int) -> str:
    """The payment file's message id: the same for the same batch, unique per database."""
    text = f"IOP-{municipality.upper()}-{batch_id:08d}"
    return text[-MAX_ID:]


def end_to_end_id(batch_id: int, payout_id: int) -> str:
    """One payout in one batch: what the bank's debit notification gives back."""
    return f"IOP-{batch_id}-{payout_id}"


def remittance(diarienummer: str, covers_from: date, covers_to: date) -> str:
    """The text the association sees on its statement (RmtInf/Ustrd, 140 characters)."""
    text = f"IOP-bidrag {diarienummer}, utbetalning {covers_from} till {covers_to}"
    return text[:140]


def stage_of(payout_state: str, batch_state: str | None, item_paid: bool) -> PaymentStage | None:
    """Where a payout's money is: None unless the payout was released."""
    if payout_state != "released":
        return None
    if batch_state is None:
        return PaymentStage.RELEASED
    if item_paid or batch_state == BatchState.PAID:
        return PaymentStage.PAID
    if batch_state == BatchState.EXPORTED:
        return PaymentStage.EXPORTED
    return PaymentStage.IN_BATCH
