"""Money for people to read (the CLI); the domain keeps öre."""

from __future__ import annotations

from .domain.money import format_sek


def sek(ore: int | None) -> str:
    return "" if ore is None else format_sek(ore)
