"""Swedish words for what the rest of the product stores in English or as ISO text, and
the address of an agreement's page: what the notices, the pages and the calendar feed
all say alike. Pure: no delivery, no database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from .model import MUNICIPALITY_PARTY
from .money import format_sek

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

AGREEMENT_STATES = {
    "initiative": "initiativ",
    "dialogue": "dialog",
    "economic_plan": "ekonomisk plan",
    "decision": "beslut",
    "signing": "undertecknande",
    "active": "aktiv",
    "renewal": "förnyelse",
    "not_renewed": "förnyas inte",
    "ended": "avslutad",
    "terminated": "uppsagd",
    "repayment": "återbetalning",
    "closed": "stängd",
    "rejected": "avslagen",
    "withdrawn": "återtagen",
}

_ASK_OFFICER = "Kontakta handläggaren för besked om vad som saknas."


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


def block_reason(
    facts: Mapping[str, Any], day: Callable[[Any], str] = swedish_date
) -> tuple[str, str]:
    """Why a payout is blocked, and what unblocks it, in Swedish: written from the gate's
    structured block (`GateBlock.facts`) that the notice keeps under "block". Messages
    write dates as "31 mars 2027"; the web pages pass `day` to write them ISO."""
    block = facts.get("block")
    if not isinstance(block, Mapping):
        # A notice recorded without a block (none is, since the gate became structured):
        # its English reason is shown as it is, never guessed at.
        return (str(facts.get("reason") or "okänd orsak"), _ASK_OFFICER)
    kind, year = block.get("kind"), block.get("follow_up_year")
    if kind == "follow_up_not_approved":
        state = str(block.get("follow_up_state"))
        return (
            f"uppföljningen för {year} är {FOLLOW_UP_STATES.get(state, state)} (rapporten "
            f"skulle lämnas senast {day(block.get('report_due'))})",
            f"Utbetalningen släpps vid nästa utbetalningskörning när uppföljningen för "
            f"{year} har godkänts: verksamhetsrapporten ska lämnas in och granskas.",
        )
    if kind == "follow_up_missing":
        return (
            f"det finns ingen uppföljning för {year}",
            f"Uppföljningen för {year} behöver läggas upp, lämnas in och godkännas.",
        )
    if kind == "agreement_not_paying":
        state = str(block.get("agreement_state"))
        return (
            f"överenskommelsen {facts.get('diarienummer', '')} har status "
            f"{AGREEMENT_STATES.get(state, state)}; ingenting betalas ut",
            "Handläggaren behöver se över överenskommelsens status.",
        )
    if kind == "no_approving_decision":
        return (
            "inget beslut av nämnden om att godkänna överenskommelsen är registrerat",
            "Utbetalningen släpps när nämndens beslut har registrerats.",
        )
    if kind == "not_signed":
        parties = ", ".join(
            "kommunen" if p == MUNICIPALITY_PARTY else str(p) for p in block.get("unsigned") or []
        )
        return (
            f"överenskommelsen är inte undertecknad av {parties}",
            "Utbetalningen släpps när alla parter har undertecknat överenskommelsen.",
        )
    return (str(facts.get("reason") or "okänd orsak"), _ASK_OFFICER)


def agreement_link(base_url: str, agreement_id: int) -> str:
    """The agreement's page in the web application: every message and feed links here."""
    return f"{base_url.rstrip('/')}/agreements/{agreement_id}"
