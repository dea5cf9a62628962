"""The audit trail as a hash chain: each record's hash covers its content and the hash
of the record before it, so a record changed, removed or slipped in behind the
application's back breaks the chain there (`iop audit verify`).

The definition, the same on SQLite and PostgreSQL:

    hash = sha256(canonical).hexdigest()
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False).encode("utf-8")

`fields` holds exactly the names in `HASHED`, with the values as stored, except:

- `at`: the instant in UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (microseconds: what both
  databases keep);
- `effective_date`: "YYYY-MM-DD", or null;
- `data`: the JSON object as stored, i.e. after a JSON round trip (its keys are strings,
  and sorted too);
- `seq`: the record's place in the chain (1, 2, ...); `prev_hash`: the hash of record
  `seq - 1`, `GENESIS` for the first.

The database id is not hashed (the database gives it on insert, after the hash is
computed); the verifier requires ids and places to ascend together instead.

`canonical` builds that text by hand rather than through `json.dumps` of a dict: it is
several times faster (a payout run audits up to 100 000 records in one transaction) and
tests/unit/test_audit_hash.py checks it is byte for byte the definition. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from json.encoder import encode_basestring as _quoted
from operator import itemgetter
from typing import Any

GENESIS = "0" * 64

# The hashed fields, in the (sorted) order they appear in the canonical text.
HASHED = (
    "actor", "agreement_id", "at", "channel", "data", "effective_date", "entity",
    "entity_key", "from_state", "host", "os_user", "prev_hash", "reason", "role", "seq",
    "to_state", "trigger",
)  # fmt: skip

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_MEMO_LIMIT = 4096


@dataclass(frozen=True)
class Head:
    """The newest record of the chain: its place and its hash (`START` when empty)."""

    seq: int
    hash: str


START = Head(0, GENESIS)


def instant_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"instant {at.isoformat()} has no time zone; audit times are aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str:
    return "null" if value is None else _quoted(value)


def _number(value: Any) -> str:
    return "null" if value is None else str(int(value))


class _Canon:
    """The canonical text of records, with the values a batch repeats (its instant, its
    data, its day) rendered once."""

    def __init__(self) -> None:
        self._instants: dict[datetime, str] = {}
        self._data: dict[Any, str] = {}
        self._days: dict[date | None, str] = {}
        self._parts: dict[tuple[Any, ...], tuple[str, str, str, str, str]] = {}
        self._last_data: tuple[object, str] = (object(), "")

    def _instant(self, at: datetime) -> str:
        text = self._instants.get(at)
        if text is None:
            if len(self._instants) > _MEMO_LIMIT:
                self._instants.clear()
            text = self._instants[at] = _quoted(instant_text(at))
        return text

    def _data_text(self, data: Mapping[Any, Any]) -> str:
        # A batch hands every record the same data object: the text of the last one is
        # kept with the object itself (compared by identity: a batch is chained without
        # its data changing in between).
        if data is self._last_data[0]:
            return self._last_data[1]
        text = self._data_text_of(data)
        self._last_data = (data, text)
        return text

    def _data_text_of(self, data: Mapping[Any, Any]) -> str:
        # Keyed by the items and their types (1, 1.0 and True are equal, their JSON is
        # not). Anything else (nested values, keys that are not strings) is rendered as
        # the database hands it back: after a JSON round trip, which makes keys strings.
        try:
            if not all(type(k) is str for k in data):
                raise TypeError("not all keys are strings")
            key = tuple(sorted((k, type(v), v) for k, v in data.items()))
            text = self._data.get(key)
        except TypeError:
            return _dumps(json.loads(json.dumps(data)))
        if text is None:
            if len(self._data) > _MEMO_LIMIT:
                self._data.clear()
            text = self._data[key] = _dumps(dict(data))
        return text

    def _day(self, day: date | None) -> str:
        text = self._days.get(day)
        if text is None:
            if len(self._days) > _MEMO_LIMIT:
                self._days.clear()
            text = self._days[day] = "null" if day is None else _quoted(day.isoformat())
        return text

    def text(self, r: Mapping[Any, Any], seq: int, prev_hash: str) -> str:
        return _joined(self.parts(r), r["agreement_id"], r["entity_key"], prev_hash, seq)

    def parts(self, r: Mapping[Any, Any]) -> tuple[str, str, str, str, str]:
        """The text of record `r` around its agreement, key, previous hash and place."""
        # A batch's records differ only in their agreement, key and place: the rest of
        # the text is made once per distinct set of the other values.
        same = (
            r["actor"], r["at"], r.get("channel"), self._data_text(r["data"]),
            r.get("effective_date"), r["entity"], r["from_state"], r.get("host"),
            r.get("os_user"), r["reason"], r["role"], r["to_state"], r["trigger"],
        )  # fmt: skip
        parts = self._parts.get(same)
        if parts is None:
            if len(self._parts) > _MEMO_LIMIT:
                self._parts.clear()
            parts = self._parts[same] = self._around(r, same[3])
        return parts

    def _around(self, r: Mapping[Any, Any], data: str) -> tuple[str, str, str, str, str]:
        """The text before, between and after a record's varying values."""
        return (
            f'{{"actor":{_text(r["actor"])},"agreement_id":',
            f',"at":{self._instant(r["at"])},"channel":{_text(r.get("channel"))},'
            f'"data":{data},"effective_date":{self._day(r.get("effective_date"))},'
            f'"entity":{_text(r["entity"])},"entity_key":',
            f',"from_state":{_text(r["from_state"])},"host":{_text(r.get("host"))},'
            f'"os_user":{_text(r.get("os_user"))},"prev_hash":',
            f',"reason":{_text(r["reason"])},"role":{_text(r["role"])},"seq":',
            f',"to_state":{_text(r["to_state"])},"trigger":{_text(r["trigger"])}}}',
        )

    def hash(self, r: Mapping[Any, Any], seq: int, prev_hash: str) -> str:
        return hashlib.sha256(self.text(r, seq, prev_hash).encode("utf-8")).hexdigest()


def _joined(
    parts: tuple[str, str, str, str, str],
    agreement_id: Any,
    entity_key: Any,
    prev_hash: str,
    seq: int,
) -> str:
    """A record's canonical text: its varying values between the parts around them."""
    return (
        f"{parts[0]}{_number(agreement_id)}{parts[1]}{_text(entity_key)}"
        f"{parts[2]}{_quoted(prev_hash)}{parts[3]}{int(seq)}{parts[4]}"
    )


def canonical(record: Mapping[str, Any], *, seq: int, prev_hash: str) -> bytes:
    """The bytes hashed for `record` (a mapping of the audit columns) at place `seq`."""
    return _Canon().text(record, seq, prev_hash).encode("utf-8")


def record_hash(record: Mapping[str, Any], *, seq: int, prev_hash: str) -> str:
    return _Canon().hash(record, seq, prev_hash)


def link(rows: Sequence[MutableMapping[str, Any]], head: Head) -> Head:
    """Chain `rows` (audit column mappings, in insertion order) after `head`: set each
    one's `seq`, `prev_hash` and `hash`. Returns the new head."""
    canon = _Canon()
    seq, previous = head.seq, head.hash
    for row in rows:
        seq += 1
        row["seq"], row["prev_hash"] = seq, previous
        previous = row["hash"] = canon.hash(row, seq, previous)
    return Head(seq, previous)


Link = tuple[int, str, str]  # a record's seq, prev_hash and hash


def link_shared(
    shared: Mapping[str, Any],
    at: Mapping[str, int],
    rows: Iterable[Sequence[Any]],
    head: Head,
) -> tuple[list[Link], Head]:
    """Chain records that have the values of `shared` in common, each row holding its
    other fields at the places `at` names (agreement_id and entity_key among them),
    after `head`: each record's link, in the rows' order, and the new head.

    The same hashes as `link` of the records as mappings, without a mapping per record:
    a set-wise run chains 225,000 records that differ in a few strings. The parts of the
    text around a record's agreement and key are made once per distinct set of its
    other varying values."""
    canon = _Canon()
    agreement_at, key_at = at["agreement_id"], at["entity_key"]
    others = tuple(i for name, i in at.items() if name not in ("agreement_id", "entity_key"))
    pick = itemgetter(*others, agreement_at, key_at)  # the others first, then the two
    parts_of: dict[tuple[Any, ...], tuple[str, str, str, str, str]] = {}
    links: list[Link] = []
    sha256 = hashlib.sha256
    seq, previous = head.seq, head.hash
    for row in rows:
        *varying, agreement, key = pick(row)
        # With their types: values that are equal (1, True) but not the same text
        # must not share parts.
        known = (*varying, *map(type, varying))
        parts = parts_of.get(known)
        if parts is None:
            record = {**shared, **{name: row[i] for name, i in at.items()}}
            parts = parts_of[known] = canon.parts(record)
        seq += 1
        digest = sha256(_joined(parts, agreement, key, previous, seq).encode("utf-8")).hexdigest()
        links.append((seq, previous, digest))
        previous = digest
    return links, Head(seq, previous)


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    record_id: int | None  # None: the log itself is fine, its recorded head is not
    agreement_id: int | None
    problem: str


class ChainCheck:
    """Checks audit records fed in id order (`feed`), then the recorded head (`finish`).

    Stops at the first break: what follows a break cannot be judged against it.
    """

    def __init__(self) -> None:
        self._canon = _Canon()
        self.records = 0
        self.head = START
        self.broken: Break | None = None
        self._last_id: int | None = None

    def feed(self, record: Mapping[Any, Any]) -> Break | None:
        if self.broken is not None:
            return self.broken
        self.records += 1
        rid, seq, prev, stored = record["id"], record["seq"], record["prev_hash"], record["hash"]

        def broken(problem: str) -> Break:
            self.broken = Break(rid, record.get("agreement_id"), problem)
            return self.broken

        if stored is None or seq is None or prev is None:
            return broken("not chained: it has no hash (written around the application)")
        if self._canon.hash(record, seq, prev) != stored:
            return broken("hash mismatch: its content is not what was recorded")
        expected = self.head.seq + 1
        if seq > expected:
            after = "at the start" if self._last_id is None else f"after record {self._last_id}"
            missing = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
            return broken(f"missing record: chain place {missing} is gone ({after})")
        if seq < expected:
            return broken(f"out of order: chain place {seq} again, {expected} expected")
        if prev != self.head.hash:
            return broken(
                "broken link: it does not follow "
                + ("the start of the chain" if self._last_id is None else f"record {self._last_id}")
            )
        self.head, self._last_id = Head(seq, stored), rid
        return None

    def finish(self, recorded: Head | None) -> Break | None:
        """Compare the recorded head (None: there is none) with the last record."""
        if self.broken is not None:
            return self.broken
        if recorded is None:
            if self.records:
                self.broken = Break(None, None, "missing chain head")
        elif recorded.seq > self.head.seq:
            last = "" if self._last_id is None else f" (record {self._last_id})"
            self.broken = Break(
                None,
                None,
                f"missing record: the chain head says {recorded.seq} records, the log ends at "
                f"{self.head.seq}{last}",
            )
        elif recorded != self.head:
            self.broken = Break(
                None, None, f"the chain head ({recorded.seq}) does not match the last record"
            )
        return self.broken
