"""The audit hash chain, pure (domain/audit_chain.py): the canonical text is the
documented definition byte for byte, and the checker names the first broken record."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.audit_chain import (
    GENESIS,
    HASHED,
    START,
    ChainCheck,
    Head,
    canonical,
    link,
    link_shared,
    record_hash,
)

AT = datetime(2027, 4, 30, 5, 0, 1, 250, tzinfo=UTC)


def definition(record: dict[str, Any], seq: int, prev_hash: str) -> bytes:
    """The module docstring's definition, written the slow and obvious way."""
    at = record["at"].astimezone(UTC)
    day = record.get("effective_date")
    fields = {
        **{k: record.get(k) for k in HASHED if k not in ("seq", "prev_hash")},
        "data": json.loads(json.dumps(record["data"])),  # as the database hands it back
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "effective_date": None if day is None else day.isoformat(),
        "seq": seq,
        "prev_hash": prev_hash,
    }
    assert sorted(fields) == list(HASHED)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record(i: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "id": i,
        "at": AT,
        "actor": "Anna Berg",
        "role": "officer",
        "agreement_id": 7,
        "entity": "payout",
        "entity_key": str(i),
        "trigger": "release_payout",
        "from_state": "planned",
        "to_state": "released",
        "reason": "gate holds",
        "data": {"as_of": "2027-04-30", "payout": i},
        "channel": "cli",
        "os_user": "anna",
        "host": "kansli-07",
        "effective_date": date(2027, 4, 30),
        **changes,
    }


text = st.text(st.characters(codec="utf-8"), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@given(
    actor=text,
    reason=text,
    agreement_id=st.none() | st.integers(1, 10**9),
    data=st.dictionaries(text, json_values, max_size=4),
    optional=st.none() | text,
    day=st.none() | st.dates(),
    at=st.datetimes(timezones=st.just(timezone(timedelta(hours=2)))),
    seq=st.integers(1, 10**9),
)
def test_the_canonical_text_is_the_documented_definition(
    actor: str,
    reason: str,
    agreement_id: int | None,
    data: dict[str, Any],
    optional: str | None,
    day: date | None,
    at: datetime,
    seq: int,
) -> None:
    r = record(
        actor=actor,
        reason=reason,
        agreement_id=agreement_id,
        data=data,
        host=optional,
        os_user=optional,
        channel=optional,
        effective_date=day,
        at=at,
    )
    prev = hashlib.sha256(actor.encode()).hexdigest()
    assert canonical(r, seq=seq, prev_hash=prev) == definition(r, seq, prev)
    assert (
        record_hash(r, seq=seq, prev_hash=prev)
        == hashlib.sha256(definition(r, seq, prev)).hexdigest()
    )


VARYING = ("agreement_id", "entity", "entity_key", "trigger", "from_state", "to_state", "reason")


@given(
    varying=st.lists(
        st.tuples(
            st.none() | st.integers(1, 10**9),
            st.sampled_from(["payout", "follow_up"]),
            text,
            st.sampled_from(["block_payout", "release_payout"]),
            st.sampled_from(["planned", "blocked"]),
            st.sampled_from(["blocked", "released"]),
            st.sampled_from(["", "gate holds", "årsuppföljning 2027 ej godkänd", "1"]),
        ),
        max_size=40,
    ),
    data=st.dictionaries(text, json_values, max_size=3),
    after=st.integers(0, 10**6),
)
def test_records_chained_with_shared_values_get_the_hashes_of_whole_records(
    varying: list[tuple[Any, ...]], data: dict[str, Any], after: int
) -> None:
    # What `write_audit` chains: the run's values shared, a change's fields in its row
    # at other places than the record's order (a Change holds its diarienummer too).
    shared = {k: v for k, v in record(data=data).items() if k not in (*VARYING, "id")}
    rows = [(v[0], "Dnr", *v[1:]) for v in varying]
    at = {name: i if i == 0 else i + 1 for i, name in enumerate(VARYING)}
    head = Head(after, hashlib.sha256(str(after).encode()).hexdigest())
    whole = [{**shared, **dict(zip(VARYING, v, strict=True))} for v in varying]
    expected_head = link(whole, head)
    links, new_head = link_shared(shared, at, rows, head)
    assert links == [(w["seq"], w["prev_hash"], w["hash"]) for w in whole]
    assert new_head == expected_head


def test_equal_values_of_other_types_hash_differently() -> None:
    # 1, 1.0 and True are equal in Python, not in JSON: the batch memo must not mix them.
    rows = [record(1, data={"x": 1}), record(2, data={"x": True}), record(3, data={"x": 1.0})]
    link(rows, START)
    for row in rows:
        assert (
            row["hash"] == hashlib.sha256(definition(row, row["seq"], row["prev_hash"])).hexdigest()
        )


def test_data_is_hashed_as_stored_whatever_the_type_of_its_keys() -> None:
    # JSON keys are strings: {9: .., 10: ..} comes back as {"10": .., "9": ..}.
    as_written = record(data={9: "a", 10: {2: "b"}, "as_of": "2027-04-30"})
    as_read = record(data={"9": "a", "10": {"2": "b"}, "as_of": "2027-04-30"})
    assert record_hash(as_written, seq=1, prev_hash=GENESIS) == record_hash(
        as_read, seq=1, prev_hash=GENESIS
    )


def chained(n: int) -> list[dict[str, Any]]:
    rows = [record(i) for i in range(1, n + 1)]
    head = link(rows, START)
    assert head == Head(n, rows[-1]["hash"])
    assert rows[0]["prev_hash"] == GENESIS and [r["seq"] for r in rows] == list(range(1, n + 1))
    return rows


def check(rows: list[dict[str, Any]], head: Head | None) -> Any:
    checker = ChainCheck()
    for row in rows:
        if checker.feed(row) is not None:
            break
    return checker.finish(head)


def test_an_intact_chain_passes_and_any_change_names_its_record() -> None:
    rows = chained(5)
    head = Head(5, rows[-1]["hash"])
    assert check(rows, head) is None

    edited = [dict(r) for r in rows]
    edited[2]["reason"] = "tidied up"
    broken = check(edited, head)
    assert (broken.record_id, broken.agreement_id) == (3, 7)
    assert broken.problem.startswith("hash mismatch")

    # Rewritten and hashed again: the next record no longer follows it.
    rehashed = [dict(r) for r in rows]
    rehashed[2]["actor"] = "Karin Lund"
    rehashed[2]["hash"] = record_hash(rehashed[2], seq=3, prev_hash=rehashed[2]["prev_hash"])
    broken = check(rehashed, head)
    assert broken.record_id == 4 and broken.problem == "broken link: it does not follow record 3"


def test_a_missing_record_is_named_in_the_middle_and_at_the_end() -> None:
    rows = chained(5)
    head = Head(5, rows[-1]["hash"])
    broken = check(rows[:2] + rows[3:], head)
    assert broken.record_id == 4
    assert broken.problem == "missing record: chain place 3 is gone (after record 2)"
    broken = check(rows[1:], head)
    assert broken.record_id == 2 and "chain place 1 is gone (at the start)" in broken.problem

    broken = check(rows[:4], head)
    assert broken.record_id is None
    assert (
        broken.problem
        == "missing record: the chain head says 5 records, the log ends at 4 (record 4)"
    )


def test_a_record_written_around_the_application_is_named() -> None:
    rows = chained(3)
    rows.append(record(4, seq=None, prev_hash=None, hash=None))
    broken = check(rows, Head(3, rows[2]["hash"]))
    assert broken.record_id == 4 and broken.problem.startswith("not chained")


def test_hashing_a_payout_run_of_100_000_records_is_cheap() -> None:
    # One instant, one data object and one day per run: what the set-wise writer passes.
    data = {"as_of": "2028-04-28"}
    rows = [record(i, data=data) for i in range(100_000)]
    began = time.perf_counter()
    link(rows, START)
    took = time.perf_counter() - began
    assert took < 3.0, f"{took:.2f} s"  # about 0.35 s on an idle core; 2 shared cores vary
