"""Swedish words for what the rest of the product stores in English or as ISO text."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..domain.money import format_sek

MONTHS = (
    "januari februari mars april maj juni juli augusti september oktober november december"
).split()

FOLLOW_UP_STATES = {
    "planned": "planerad",
    "open": "öppen",
    "overdue": "försenad",
    "submitted": "inlämnad",
    "returned": "återsänd för komplettering",
    "approved": "godkänd",
    "cancelled": "avbruten",
}

_FOLLOW_UP = re.compile(
    r"follow-up (?P<year>\d{4}) is (?P<state>\w+) \(report due (?P<due>[\d-]+)\); "
    r"payouts in (?P<next>\d{4}) are released when it is approved"
)
_NO_FOLLOW_UP = re.compile(r"follow-up (?P<year>\d{4}) does not exist; it must be approved")
_NOT_PAYING = re.compile(r"agreement (?P<dnr>.+) is (?P<state>\w+); nothing is paid")


def swedish_date(value: Any) -> str:
    """'2027-03-31' or a date → '31 mars 2027'; anything else as it is."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, date):
        return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
    return str(value)


def amount(facts: dict[str, Any]) -> str | None:
    """The amount a notice is about, in Swedish form, if it names one."""
    if facts.get("amount"):
        return str(facts["amount"])
    if isinstance(facts.get("amount_ore"), int):
        return format_sek(facts["amount_ore"])
    return None


def block_reason(reason: str | None) -> tuple[str, str]:
    """Why a payout is blocked, and what unblocks it, in Swedish."""
    text = reason or ""
    if m := _FOLLOW_UP.fullmatch(text):
        state = FOLLOW_UP_STATES.get(m["state"], m["state"])
        return (
            f"uppföljningen för {m['year']} är {state} (rapporten skulle lämnas senast "
            f"{swedish_date(m['due'])})",
            f"Utbetalningen släpps vid nästa utbetalningskörning när uppföljningen för "
            f"{m['year']} har godkänts: verksamhetsrapporten ska lämnas in och granskas.",
        )
    if m := _NO_FOLLOW_UP.fullmatch(text):
        return (
            f"det finns ingen uppföljning för {m['year']}",
            f"Uppföljningen för {m['year']} behöver läggas upp, lämnas in och godkännas.",
        )
    if m := _NOT_PAYING.fullmatch(text):
        return (
            f"överenskommelsen {m['dnr']} har status {m['state']}; ingenting betalas ut",
            "Handläggaren behöver se över överenskommelsens status.",
        )
    return (text or "okänd orsak", "Kontakta handläggaren för besked om vad som saknas.")
