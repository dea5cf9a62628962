"""Column types and column builders shared by the tables (see tables.py).

Every type here behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.mutable import MutableDict, MutableList

from ..domain import limits


def _enum_values(enum_class: type[Enum]) -> Sequence[str]:
    return [str(member.value) for member in enum_class]


def enum_of(enum_class: type[Enum]) -> sa.Enum:
    # VARCHAR holding the lowercase `.value`: readable in SQL, and adding a state later is
    # no schema change (a native PostgreSQL ENUM would need ALTER TYPE).
    return sa.Enum(
        enum_class,
        native_enum=False,
        values_callable=_enum_values,
        length=32,
        validate_strings=True,
    )


class UtcDateTime(sa.TypeDecorator[datetime]):
    """An aware instant, always handed back in UTC.

    SQLite has no time zone type and would return naive datetimes; PostgreSQL returns
    the session's zone. Both come back as aware UTC so comparisons never mix the two.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"instant {value.isoformat()} has no time zone; use an aware UTC one")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Mutable wrappers: a domain function that edits `statistics["x"]` in place must be saved
# like an assignment would be.
JSON_DICT = MutableDict.as_mutable(sa.JSON())
JSON_LIST = MutableList.as_mutable(sa.JSON())
# NULL (not JSON 'null') when an agreement has no own payout dates, so `IS NULL` works.
JSON_LIST_OR_NULL = MutableList.as_mutable(sa.JSON(none_as_null=True))
JSON_DICT_OR_NULL = MutableDict.as_mutable(sa.JSON(none_as_null=True))

NAME = limits.NAME  # person and organisation names, people referred to by name


def id_column() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def parent_id_column(name: str, parent: str, *, index: bool = False) -> sa.Column[int]:
    # Children live and die with their parent (the ORM cascades too; this keeps raw SQL
    # deletes consistent).
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey(f"{parent}.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


def agreement_id_column(*, index: bool = False) -> sa.Column[int]:
    return parent_id_column("agreement_id", "agreements", index=index)


def organisation_id_column() -> sa.Column[int]:
    # No cascade: an organisation that has been paid or is a party cannot disappear.
    return sa.Column(
        "organisation_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False
    )


def money_column(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=False)  # whole öre


def version_column() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False, default=1)
