"""Swedish messages from the Jinja2 templates in `iop_workflow/templates`, one per kind.

A kind template extends `_base.j2` and fills the blocks `subject`, `intro`, `dates` and
`todo`; the subject and the to-do line are also rendered alone (for the mail subject and
for the digest's list). A kind without its own template gets `_generic.j2`: an unknown
kind is still delivered, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from ..domain.errors import InvalidInput
from ..domain.wording import agreement_link, amount, block_reason, swedish_date
from ..policies import load_policy
from .routing import AgreementInfo, Routed

CHANNEL = "channel"  # the role a Teams channel reads a message as


@dataclass(frozen=True)
class Text:
    subject: str
    body: str
    todo: str
    link: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Plain text, not HTML: nothing to escape, and StrictUndefined turns a typo in a
    # template into an error in the tests instead of an empty gap in a message.
    return Environment(
        loader=PackageLoader("iop_workflow", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def has_template(kind: str) -> bool:
    return f"{kind}.j2" in environment().list_templates()


def _template(kind: str) -> Template:
    return environment().get_template(f"{kind}.j2" if has_template(kind) else "_generic.j2")


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    text = "".join(template.blocks[name](template.new_context(context)))
    return " ".join(text.split())


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def link(base_url: str, agreement_id: int) -> str:
    return agreement_link(base_url, agreement_id)


def context(routed: Routed, role: str, base_url: str) -> dict[str, Any]:
    row, info = routed.row, routed.agreement
    facts = row.facts
    try:
        place = load_policy(info.municipality).municipality
    except InvalidInput:  # a municipality without a preset still gets its message
        place = info.municipality
    reason, unblocks = block_reason(facts)
    stage = re.match(r"before_(\d+)(?:_|$)", row.stage)  # "before_7" or "before_7_party_3"
    return {
        "kind": row.kind,
        "role": role,
        "title": info.title,
        "diarienummer": info.diarienummer,
        "organisations": _organisations(info, facts.get("organisation_id")),
        "officer": info.officer,
        "municipality_name": place,
        "day": swedish_date(row.subject_date),
        "year": facts.get("year", ""),
        "due": swedish_date(facts.get("due", row.subject_date)),
        "end": swedish_date(facts.get("end", row.subject_date)),
        "deadline": swedish_date(facts.get("deadline", row.subject_date)),
        # The renewal window and what is amiss with the timing (renewal_deadline_missed).
        "window_opens": swedish_date(facts.get("window_opens", "")),
        "window_closes": swedish_date(facts.get("window_closes", "")),
        "timing": facts.get("timing", ""),
        "days_before": int(stage.group(1)) if stage else None,
        "amount": amount(facts),
        "reason": reason,
        "unblocks": unblocks,
        "facts": facts,
        "link": link(base_url, info.id),
    }


def _organisations(info: AgreementInfo, only: int | None) -> str:
    names = [name for oid, name, _ in info.organisations if only in (None, oid)]
    return ", ".join(names) or "–"


def render(routed: Routed, role: str, base_url: str) -> Text:
    """The message for one notification as a recipient in `role` reads it."""
    template = _template(routed.row.kind)
    values = context(routed, role, base_url)
    return Text(
        subject=_block(template, "subject", values),
        body=_tidy(template.render(values)),
        todo=_block(template, "todo", values),
        link=values["link"],
    )


def render_digest(name: str, items: list[Text], day: date) -> Text:
    """One e-mail listing a person's items of the day."""
    template = environment().get_template("digest.j2")
    values = {"name": name, "items": items, "day": swedish_date(day)}
    return Text(
        subject=_block(template, "subject", values),
        body=_tidy(template.render(values)),
        todo="",
        link="",
    )


def for_teams(body: str) -> str:
    """Adaptive Card text is markdown: a single newline would be swallowed."""
    return "\n\n".join(line for line in body.splitlines() if line.strip())
