"""Keep secrets out of everything the product writes: logs, the database, CLI output.

Two nets: every value filled into the apprise configuration from a secret source is
replaced wherever it appears (also percent-encoded, as it stands inside a URL), and the
password part of any `scheme://user:password@` is masked even when we never knew it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

MASK = "****"
# Shorter values (a port, "yes") are configuration, not secrets; replacing them
# everywhere would garble every message. docs/notifications.md says so.
MIN_SECRET_LENGTH = 4
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<secret>[^@/\s]+)@")


class Redactor:
    """Callable: text in, the same text with every known secret masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) < MIN_SECRET_LENGTH:
            return
        self._secrets.update({value, quote(value, safe=""), quote_plus(value)})

    def __call__(self, text: str) -> str:
        # Longest first: a secret that contains another must vanish whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return _USERINFO.sub(rf"\g<head>:{MASK}@", text)

    def __bool__(self) -> bool:
        return bool(self._secrets)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message before any handler sees it."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


@contextmanager
def redacted_logger(name: str, redact: Redactor) -> Iterator[None]:
    """While sending: apprise's own log records pass through `redact` first.

    A filter on the logger (not a handler) runs before propagation, so whatever
    handlers the host installed (Prefect, pytest, a file) only see the clean text.
    """
    logger = logging.getLogger(name)
    filter_ = RedactingFilter(redact)
    logger.addFilter(filter_)
    try:
        yield
    finally:
        logger.removeFilter(filter_)
