"""The apprise YAML: where e-mail goes out and which Teams channels listen, checked at start.

apprise drops an entry it cannot load with only a log line, so each entry is loaded on its
own and must give exactly one target; a dropped one stops the start-up, named by its
number and its privacy-masked URL. Entries are told apart by tag: the one tagged `email`
is the SMTP server (each recipient gets its own copy with `to` set), entries with a
`teams-...` tag are channels (see `Channel.wants`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apprise
import yaml
from apprise.plugins.email import NotifyEmail
from apprise.utils.parse import is_email

from ..config import Settings
from .capture import captured
from .errors import NotificationConfigError
from .redact import Redactor, redacted_logger
from .secrets import BlockLoader, Placeholders, prefect_secret_block

EMAIL_TAG = "email"
TEAMS_PREFIX = "teams-"
ROLE_TAGS = {
    "teams-officers": "officer",
    "teams-managers": "manager",
    "teams-secretaries": "secretary",
    "teams-organisations": "organisation",
}
# apprise waits 5.5 s between two sends through one target object, to spare public APIs.
# E-mail goes to the municipality's own relay: no wait. A Teams channel gets one card a
# second at most; a batch of rows must finish well inside the claim's lease.
EMAIL_SECONDS_BETWEEN, CHANNEL_SECONDS_BETWEEN = 0.0, 1.0
APP_ID, APP_DESC = "IOP", "Påminnelser om IOP-överenskommelser"


@dataclass(frozen=True)
class Entry:
    number: int  # 1-based, as in the file
    # Hold secrets once the placeholders are filled: never in a repr, a log or a traceback.
    url: str = field(repr=False)
    tokens: dict[str, Any] = field(repr=False)

    def document(self, **extra: Any) -> str:
        return yaml.safe_dump({"version": 1, "urls": [{self.url: [{**self.tokens, **extra}]}]})


@dataclass(frozen=True)
class Channel:
    key: str  # stored in notification_deliveries: the tags and a hash, never the URL
    tags: frozenset[str]
    server: Any = field(repr=False)

    def wants(self, municipality: str, roles: list[str]) -> bool:
        """`teams-<municipality>` tags limit the municipalities, `teams-officers` etc.
        the roles addressed; a channel without either kind takes everything."""
        teams = {t for t in self.tags if t.startswith(TEAMS_PREFIX)}
        role_tags = {ROLE_TAGS[t] for t in teams if t in ROLE_TAGS}
        places = {t.removeprefix(TEAMS_PREFIX) for t in teams if t not in ROLE_TAGS}
        return (not places or municipality in places) and (
            not role_tags or bool(role_tags & set(roles))
        )


@dataclass
class Targets:
    email: Entry | None
    channels: list[Channel]
    redact: Redactor
    asset: apprise.AppriseAsset
    _mailers: dict[str, Any] = field(default_factory=dict)

    def mailer(self, address: str) -> Any:
        """An apprise e-mail target that sends to `address` and nobody else."""
        if self.email is None:
            raise NotificationConfigError(f"no entry tagged '{EMAIL_TAG}' to send e-mail with")
        if address not in self._mailers:
            if not is_email(address):  # type: ignore[no-untyped-call]  # apprise's own check
                raise NotificationConfigError(f"'{address}' is not an e-mail address")
            # Plain text: Swedish letters and the link arrive as written, in every client.
            extra = {"to": address} | ({} if "format" in self.email.tokens else {"format": "text"})
            servers = _load(self.email.document(**extra), self.asset, self.redact)
            # apprise drops an address it finds invalid and would then mail the sender.
            if len(servers) != 1 or not getattr(servers[0], "targets", None):
                raise NotificationConfigError(f"apprise would not send e-mail to '{address}'")
            servers[0].request_rate_per_sec = EMAIL_SECONDS_BETWEEN
            self._mailers[address] = servers[0]
        return self._mailers[address]


def load_targets(settings: Settings) -> Targets | None:
    """The configured targets, or None when no configuration file is set."""
    if not settings.apprise_config:
        return None
    path = Path(settings.apprise_config)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise NotificationConfigError(f"cannot read {path}: {error.strerror}") from None
    return parse_targets(text, block=settings.notify_secret_block)


def parse_targets(
    text: str,
    *,
    environ: dict[str, str] | None = None,
    block: str | None = None,
    load_block: BlockLoader = prefect_secret_block,
) -> Targets:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise NotificationConfigError(f"the apprise configuration is not valid YAML{at}") from None
    if not isinstance(document, dict) or not isinstance(document.get("urls"), list):
        raise NotificationConfigError("the apprise configuration needs a list under 'urls:'")
    declared = document.get("template") or {}
    if not isinstance(declared, dict):
        raise NotificationConfigError("'template:' must map each placeholder name to a default")
    holders = Placeholders(declared, environ=environ, block=block, load_block=load_block)
    entries = _entries(document, holders)
    redact = Redactor(holders.values.values())
    asset = apprise.AppriseAsset(app_id=APP_ID, app_desc=APP_DESC)
    email: Entry | None = None
    channels: list[Channel] = []
    for entry in entries:
        servers = _load(entry.document(), asset, redact)
        if len(servers) != 1:
            raise NotificationConfigError(
                f"entry #{entry.number} ({redact(entry.url)}) was not loaded by apprise"
                + (f": {servers.why}" if servers.why else "")
            )
        server = servers[0]
        tags = frozenset(str(t) for t in server.tags)
        if EMAIL_TAG in tags and isinstance(server, NotifyEmail):
            if email is not None:
                raise NotificationConfigError(
                    f"entry #{entry.number}: only one entry may be tagged '{EMAIL_TAG}'"
                )
            email = entry
        elif any(t.startswith(TEAMS_PREFIX) for t in tags):
            digest = hashlib.sha256(server.url(privacy=False).encode()).hexdigest()[:10]
            label = ",".join(sorted(t for t in tags if t.startswith(TEAMS_PREFIX)))
            server.request_rate_per_sec = CHANNEL_SECONDS_BETWEEN
            channels.append(Channel(f"{label}#{digest}", tags, server))
        else:
            raise NotificationConfigError(
                f"entry #{entry.number} ({server.url(privacy=True)}) has neither the tag "
                f"'{EMAIL_TAG}' (on a mailto/mailtos URL) nor a '{TEAMS_PREFIX}...' tag"
            )
    return Targets(email, channels, redact, asset)


def _entries(document: dict[str, Any], holders: Placeholders) -> list[Entry]:
    """Each URL of `urls:` with its tokens (child or sibling form, as apprise reads them)."""
    shared = _tags(document.get("tag"))
    entries: list[Entry] = []
    for number, item in enumerate(document["urls"], start=1):
        where = f"entry #{number}"
        token_sets: list[dict[str, Any]]
        if isinstance(item, str):
            url, token_sets = item, [{}]
        elif isinstance(item, dict) and any("://" in str(k) for k in item):
            url = next(str(k) for k in item if "://" in str(k))
            siblings = {k: v for k, v in item.items() if k != url}
            child = item[url]
            children = child if isinstance(child, list) else [child or {}]
            token_sets = [{**siblings, **(c if isinstance(c, dict) else {})} for c in children]
        else:
            raise NotificationConfigError(f"{where} is neither a URL nor a mapping with one")
        filled_url = holders.fill_url(url, where)
        for tokens in token_sets:
            tokens = holders.fill_value(tokens, where)
            tags = ", ".join(t for t in (shared, _tags(tokens.get("tag"))) if t)
            if tags:
                tokens["tag"] = tags
            entries.append(Entry(number, filled_url, tokens))
    return entries


def _tags(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class _Loaded(list[Any]):
    why: str = ""  # apprise's warnings, redacted, when it loaded less than asked


def _load(document: str, asset: apprise.AppriseAsset, redact: Redactor) -> _Loaded:
    with redacted_logger("apprise", redact), captured() as said:
        config = apprise.AppriseConfig(asset=asset)
        config.add_config(document, format="yaml")
        notifier = apprise.Apprise(asset=asset)
        notifier.add(config)
        loaded = _Loaded(notifier)
    warned = [r.getMessage() for r in said if r.levelno >= logging.WARNING]
    loaded.why = redact("; ".join(warned))
    return loaded
