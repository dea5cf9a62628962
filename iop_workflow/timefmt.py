"""Stored instants as people read them: Swedish local time with its zone marked.

The database keeps UTC (`adapters.columns.UtcDateTime`); everything shown converts
at the edge with these two functions, so every screen, artifact and JSON document
says the same thing:

- `shown`: `2026-12-01 21:05:33 CET` (ISO date, time to the second, CET or CEST);
- `local_iso`: `2026-12-01T21:05:33.123456+01:00` for JSON (ISO 8601, Stockholm's
  offset; the same instant as the stored UTC value).
"""

from __future__ import annotations

from datetime import UTC, datetime

from .config import STOCKHOLM

SHOWN = "%Y-%m-%d %H:%M:%S %Z"


def in_stockholm(moment: datetime | str) -> datetime:
    """The instant in Europe/Stockholm; a naive value or ISO text without offset is UTC
    (what the database stores)."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(STOCKHOLM)


def shown(moment: datetime | str | None) -> str:
    """`2026-12-01 21:05:33 CET` / `2027-06-15 14:00:00 CEST`; "" for no instant."""
    return "" if moment is None else in_stockholm(moment).strftime(SHOWN)


def local_iso(moment: datetime | str | None) -> str | None:
    """ISO 8601 with Stockholm's offset (`2026-12-01T21:05:33+01:00`); None stays None."""
    return None if moment is None else in_stockholm(moment).isoformat()
