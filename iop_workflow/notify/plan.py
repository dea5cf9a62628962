"""From routed notifications to the messages to send: what `send` sends, `preview` shows.

A person who chose the digest gets one e-mail a day listing every item addressed to them;
once today's digest went out, further items wait for tomorrow's (`deferred`). A target
that already received a notification (an ok delivery) is left out, so a retry only
resends what failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .routing import Routed
from .targets import Channel
from .templates import CHANNEL, Text, for_teams, render, render_digest

EMAIL, TEAMS, NONE = "email", "teams", "none"


@dataclass(frozen=True)
class Message:
    channel: str  # email or teams
    target: str  # the e-mail address, or the channel key
    recipient: str  # who, for people to read: a name, or the channel's tags
    subject: str
    body: str
    notification_ids: tuple[int, ...]
    digest_on: date | None = None


@dataclass(frozen=True)
class Problem:
    notification_id: int
    text: str


@dataclass
class Plan:
    messages: list[Message] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    deferred: set[int] = field(default_factory=set)  # waiting for tomorrow's digest


Done = set[tuple[int, str, str]]  # (notification id, channel, target) delivered ok


def plan(
    routed: list[Routed],
    *,
    channels: list[Channel],
    base_url: str,
    today: date,
    done: Done,
    digests_sent: set[str],
) -> Plan:
    result = Plan()
    digests: dict[str, tuple[str, list[tuple[int, Text]]]] = {}
    for item in routed:
        nid = item.row.id
        result.problems += [Problem(nid, text) for text in item.problems]
        for person in item.recipients:
            if (nid, EMAIL, person.address) in done:
                continue
            if person.digest:
                if person.address in digests_sent:
                    result.deferred.add(nid)
                else:
                    text = render(item, person.role, base_url)
                    digests.setdefault(person.address, (person.name, []))[1].append((nid, text))
                continue
            text = render(item, person.role, base_url)
            result.messages.append(
                Message(EMAIL, person.address, person.name, text.subject, text.body, (nid,))
            )
        for channel in channels:
            wanted = channel.wants(item.agreement.municipality, list(item.row.recipients))
            if wanted and (nid, TEAMS, channel.key) not in done:
                text = render(item, CHANNEL, base_url)
                result.messages.append(
                    Message(
                        TEAMS,
                        channel.key,
                        channel.key.split("#")[0],
                        text.subject,
                        for_teams(text.body),
                        (nid,),
                    )
                )
    for address, (name, items) in digests.items():
        text = render_digest(name, [t for _, t in items], today)
        ids = tuple(nid for nid, _ in items)
        result.messages.append(
            Message(EMAIL, address, name, text.subject, text.body, ids, digest_on=today)
        )
    return result
