"""The pages' templates and the filters they format with (Swedish: ISO dates, "1 300 000 kr")."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from ...domain.money import format_sek
from ...timefmt import shown
from .forms import label

HERE = Path(__file__).resolve().parent

STATE_NAMES = {
    "initiative": "Initiativ",
    "dialogue": "Dialog",
    "economic_plan": "Ekonomisk plan",
    "decision": "Beredning och nämndbeslut",
    "signing": "Underskrift",
    "active": "Aktivt",
    "renewal": "Förlängning",
    "not_renewed": "Förlängs inte",
    "ended": "Avslutat",
    "repayment": "Återbetalning",
    "raised": "Återkrav ställt",
    "terminated": "Uppsagt",
    "rejected": "Avslaget",
    "withdrawn": "Återtaget",
    "closed": "Stängt",
    "planned": "Planerad",
    "open": "Öppen",
    "submitted": "Inlämnad",
    "returned": "Återsänd",
    "overdue": "Försenad",
    "approved": "Godkänd",
    "cancelled": "Inställd",
    "released": "Frisläppt",
    "blocked": "Spärrad",
    "paid": "Betald",
    "written_off": "Avskriven",
    "offset": "Kvittad",
    "projected": "Beräknad",
    "upcoming": "Kommande",
    "passed": "Passerad",
    "opened": "Öppnad",
    "sent": "Skickad",
    "failed": "Misslyckad",
    "pending": "Väntar",
}


ROLE_NAMES = {
    "officer": "handläggare",
    "manager": "chef",
    "secretary": "nämndsekreterare",
    "organisation_representative": "organisationens företrädare",
    "auditor": "revisor",
    "system": "systemet",
}


DEADLINES = {
    "payout": "Utbetalning för perioden från {subject}",
    "follow_up_opens": "Uppföljningen för {subject} öppnar",
    "report_due": "Årsrapporten för {subject} ska lämnas",
    "renewal_window_opens": "Tiden för dialog om förnyelse börjar",
    "renewal_window_closes": "Tiden för dialog om förnyelse slutar",
    "renewal_decision_deadline": "Sista dag för nämndens beslut om förnyelse",
    "agreement_ends": "Avtalet löper ut",
}
TARGETS = {"year": "år", "payout": "utbetalning", "claim": "återkrav"}


def deadline(row: dict[str, Any]) -> str:
    """A timeline row in Swedish (the domain's description is English)."""
    text = DEADLINES.get(str(row.get("kind")))
    return text.format(subject=row.get("subject", "")) if text else str(row.get("description"))


def target_text(target: str) -> str:
    """`year=2026` as "år 2026"."""
    key, _, value = target.partition("=")
    return f"{TARGETS.get(key, key)} {value}".strip()


PARTIES = {"organisation": "organisationen", "committee": "nämnden", **ROLE_NAMES}


def responsible(value: str | None) -> str:
    """ "officer and organisation" as "handläggare och organisationen"."""
    parts = (value or "").split(" and ")
    return " och ".join(PARTIES.get(p.strip(), p.strip()) for p in parts if p.strip())


def document(kind: str) -> str:
    from ...service.worklist import DOCUMENTS_SV

    return DOCUMENTS_SV.get(kind, kind.replace("_", " "))


def kr(ore: int | None) -> str:
    """Öre as people read kronor: "1 300 000 kr", or "24 725,27 kr" when there are öre."""
    if ore is None:
        return ""
    text = format_sek(ore)
    return text.replace(",00 kr", " kr")


def state_name(value: str | None) -> str:
    if value is None:
        return ""
    return "/".join(STATE_NAMES.get(part, part.replace("_", " ")) for part in value.split("/"))


def when(value: Any) -> str:
    """An instant in Swedish local time; a date as ISO."""
    if isinstance(value, datetime):
        return shown(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and "T" in value:
        try:
            return shown(datetime.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


DECISION_KINDS = {"entry": "ingående", "renewal": "förnyelse", "amendment": "tilläggsavtal"}
OUTCOMES = {"approved": "bifall", "rejected": "avslag", "returned": "återremiss"}
NOTICE_KINDS = {
    "report_due_soon": "Påminnelse: årsrapporten ska snart lämnas",
    "report_overdue": "Årsrapporten är försenad",
    "escalation": "Eskalering till chef: årsrapporten är försenad",
    "renewal_window_open": "Tiden för förnyelsedialog har börjat",
    "renewal_deadline_approaching": "Nämndens beslut om förnyelse närmar sig",
    "renewal_deadline_missed": "Fristen för beslut om förnyelse har passerats",
    "missed": "Frist passerad",
    "payout_warning": "Utbetalningen kan komma att spärras",
    "payout_blocked": "Utbetalningen är spärrad",
    "agreement_ending": "Överenskommelsen löper snart ut",
    "claim_overdue": "Återkravet är förfallet",
    "claim_raised": "Återkrav har ställts",
    "report_returned": "Årsrapporten är återsänd för komplettering",
    "follow_up_approved": "Uppföljningen är godkänd",
    "report_received": "Kvittens: verksamhetsrapporten har kommit in",
}
CHANNELS = {
    "cli": "kommandorad",
    "flow": "schemalagd körning",
    "import": "import",
    "web": "webb",
    "api": "API",
    "internal": "internt",
    "email": "e-post",
    "teams": "Teams",
}
# Steps no person takes (the flows' and the import's own), by the name the audit keeps.
SYSTEM_STEPS = {
    "import": "Importerad",
    "block_payout": "Utbetalning spärrad",
    "release_payout": "Utbetalning släppt",
    "open_follow_up": "Uppföljning öppnad",
    "download_document": "Dokument hämtat",
}


def named(names: dict[str, str]) -> Any:
    """A filter: the Swedish name of a code, the code itself when it has none."""

    def name(value: Any) -> str:
        return "" if value is None else names.get(str(value), str(value))

    return name


def step_name(trigger: str | None) -> str:
    """A step as the forms label it ("Godkänn uppföljning"), from the typed commands."""
    if trigger is None:
        return ""
    return label(trigger) or SYSTEM_STEPS.get(trigger, trigger)


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.filters.update(
        kr=kr,
        state=state_name,
        when=when,
        deadline=deadline,
        target=target_text,
        responsible=responsible,
        document=document,
        decision_kind=named(DECISION_KINDS),
        outcome=named(OUTCOMES),
        notice_kind=named(NOTICE_KINDS),
        channel=named(CHANNELS),
        step_name=step_name,
    )
    found.env.globals.update(state_names=STATE_NAMES, role_names=ROLE_NAMES)
    return found
