"""Publish the audit log as Prefect events, and move the cursor only past what the Prefect
server has stored (docs/events.md; what is sent: service/events.py).

How an event reaches a Prefect server (3.x, its in-memory message broker): `POST
/api/events` (or the `/api/events/in` websocket that `emit_event` uses) puts each event on
the `events` topic and answers at once; every consumer of the topic (the event persister,
the automations' triggers, ...) has a queue of 10,000 messages and drops what arrives
while it is full. The persister writes to the database in batches (20 events, or every 5
s), so the answer to a POST says nothing about what is stored. Here:

- events go out in POSTs of `CHUNK`, never more than `WINDOW` that the server has not yet
  stored (half of a consumer's queue, leaving room for Prefect's own events), so a burst
  of any size does not fill a queue;
- what is stored is read back by event id (`POST /api/events/filter`, its `total`), and
  the cursor moves to the last audit record whose event, and every event before it, is
  stored;
- the wait is bounded (`STALL_SECONDS` without progress, `MAX_SECONDS` in all). What is
  not confirmed by then, or when the server cannot be reached, stays after the cursor and
  goes out with the next publish, which first reads back what of it arrived late and sends
  only the rest: a Prefect server on SQLite fails on a batch made only of events it
  already has, and ignores an id it has seen among its last 1,000 within 5 minutes, so
  nothing is sent twice within one publish (docs/events.md, "Sending again").

Nothing here raises because of the Prefect server: `publish_events` reports what it could
not confirm. One publish at a time holds a lease (service/events.py `claim`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.exceptions import PrefectHTTPStatusError

from ..adapters.db import Database
from ..service import events as ev

CHUNK = 1_000  # events per POST (the server recognises its last 1,000 ids: a retried POST)
WINDOW = 5_000  # events sent and not yet read back as stored, at most
STALL_SECONDS = 30.0  # stop waiting when nothing more is stored for this long
MAX_SECONDS = 300.0  # and after this long in all
LOOKBACK = timedelta(days=180)  # how far back stored copies are looked for (the API's default)
READ_PAGE = 50  # events one filter request lists at most (the server's page size)
POLL_SECONDS = (0.2, 1.0)  # the pause between read-backs: first, and longest
REQUEST_SECONDS = 30.0  # one request (Prefect's client retries a timed-out one 5 times)


class ServerProblem(Exception):
    """The Prefect server could not be reached, or refused a request."""


@dataclass
class Batch:
    """Events sent in one POST and read back together (or one range's summaries)."""

    events: list[ev.AgreementEvent]  # oldest audit record first; let go once all stored
    summaries_through: int | None = None  # a batch of summaries: the last record they cover
    known: set[str] = field(default_factory=set)  # ids found stored before sending
    stored: int = 0  # how many the server has, as last read
    sent: bool = False
    size: int = field(init=False)
    first: int = field(init=False)  # audit ids: the oldest and newest record told about
    last: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.events)
        self.first = self.events[0].audit_id if self.events else 0
        self.last = self.events[-1].audit_id if self.events else 0

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.events]

    @property
    def done(self) -> bool:
        return self.stored >= self.size

    def read(self, stored: int) -> bool:
        """Note how many the server has; True if that is more than before."""
        more = stored > self.stored
        self.stored = max(self.stored, stored)
        if self.done:
            self.events, self.known = [], set()  # a day's worth need not stay in memory
        return more


@dataclass(frozen=True)
class Published:
    """What one publish did. The `unconfirmed` events go out again with the next one."""

    confirmed: int  # events after the old cursor that the server has now
    unconfirmed: int
    cursor: int  # the audit record the cursor is at now
    seconds: float
    problem: str = ""  # why some are unconfirmed
    skipped: bool = False  # another publish held the lease

    def as_dict(self) -> dict[str, Any]:
        return {
            "published": self.confirmed,
            "unconfirmed": self.unconfirmed,
            "cursor": self.cursor,
            "seconds": round(self.seconds, 3),
            "problem": self.problem,
            "skipped": self.skipped,
        }

    def warning(self) -> str:
        """The flow's WARNING line when some events are not confirmed."""
        n = self.unconfirmed
        return (
            f"{n} event{'' if n == 1 else 's'} not yet confirmed by the Prefect server, will "
            f"be retried ({self.problem}); the event cursor stays at audit record {self.cursor}"
        )


def _problem(error: Exception) -> ServerProblem:
    first_line = (str(error) or repr(error)).splitlines()[0]
    return ServerProblem(f"{type(error).__name__}: {first_line}")


class _Server:
    """The Prefect API as the publisher uses it: post events, read back what is stored."""

    def __init__(self, client: SyncPrefectClient) -> None:
        self.client = client
        now = datetime.now(tz=UTC)
        self.since = (now - LOOKBACK).isoformat()
        self.until = (now + timedelta(days=1)).isoformat()  # the two clocks may differ

    def healthy(self) -> None:
        error = self.client.api_healthcheck()
        if error is not None:
            raise _problem(error)

    def _post(self, path: Any, body: Any) -> httpx.Response:
        try:
            return self.client.request("POST", path, json=body)
        except (httpx.HTTPError, PrefectHTTPStatusError) as error:
            raise _problem(error) from error

    def send(self, events: Sequence[ev.AgreementEvent]) -> None:
        occurred = datetime.now(tz=UTC).isoformat()
        body = [
            {
                "id": e.id,
                "occurred": occurred,
                "event": e.event,
                "resource": e.resource,
                "related": e.related,
                "payload": e.payload,
            }
            for e in events
        ]
        self._post("/events", body)

    def _filter(self, ids: Sequence[str], limit: int) -> dict[str, Any]:
        query = {"id": {"id": list(ids)}, "occurred": {"since": self.since, "until": self.until}}
        page: dict[str, Any] = self._post(
            "/events/filter", {"filter": query, "limit": limit}
        ).json()
        return page

    def count(self, ids: Sequence[str]) -> int:
        """How many of these events the server has stored."""
        return int(self._filter(ids, 0)["total"]) if ids else 0

    def stored(self, ids: Sequence[str], known: int | None = None) -> set[str]:
        """Which of these events the server has stored (halving until a page lists them)."""
        n = self.count(ids) if known is None else known
        if n == 0:
            return set()
        if n == len(ids):
            return set(ids)
        if len(ids) <= READ_PAGE:
            return {str(e["id"]) for e in self._filter(ids, READ_PAGE)["events"]}
        half = len(ids) // 2
        return self.stored(ids[:half]) | self.stored(ids[half:])


def publish_events(
    db: Database,
    *,
    chunk: int = CHUNK,
    window: int = WINDOW,
    stall_seconds: float = STALL_SECONDS,
    max_seconds: float = MAX_SECONDS,
) -> Published:
    """Send the events of every audit record after the cursor; move the cursor past what
    the server has stored."""
    started = time.monotonic()
    marks = ev.marks(db)
    if marks.newest <= marks.published:
        return Published(0, 0, marks.published, time.monotonic() - started)
    if not ev.claim(db, max_seconds + 120):
        return Published(
            0,
            0,
            marks.published,
            time.monotonic() - started,
            problem="another publish is running",
            skipped=True,
        )
    try:
        run = _Run(db, marks, chunk=chunk, window=max(window, chunk))
        try:
            client = get_client(sync_client=True, httpx_settings={"timeout": REQUEST_SECONDS})
        except (ValueError, RuntimeError) as error:  # no server configured
            return run.finish(started, problem=f"no Prefect server: {error}")
        with client:
            return run.publish(_Server(client), started, stall_seconds, max_seconds)
    finally:
        ev.release(db)


class _Run:
    """One publish: the events of the records in (cursor, newest], oldest first."""

    def __init__(self, db: Database, marks: ev.Marks, *, chunk: int, window: int) -> None:
        self.db, self.marks, self.chunk, self.window = db, marks, chunk, window
        self.upto = marks.newest
        self.summaries = [  # few, counted in SQL: made at once
            Batch(ev.summaries(db, after, through), summaries_through=through)
            for after, through in self._segments()
        ]
        self.agreements: list[Batch] = []  # made as they are sent
        self.inflight: deque[Batch] = deque()
        self.server: _Server | None = None
        self.problem = ""

    def _segments(self) -> list[tuple[int, int]]:
        """The summaries' ranges of records: one sent before and not confirmed is made
        again as it was (the same event ids), the new records get a range of their own."""
        m = self.marks
        if m.summaries_sent > m.summaries:
            ranges = [(m.summaries, m.summaries_sent), (m.summaries_sent, self.upto)]
        else:
            ranges = [(m.summaries, self.upto)]
        return [(after, through) for after, through in ranges if through > after]

    def _agreement_batches(self) -> Iterator[Batch]:
        for page in ev.per_agreement_events(self.db, self.marks.published, self.upto):
            for start in range(0, len(page), self.chunk):
                batch = Batch(page[start : start + self.chunk])
                self.agreements.append(batch)
                yield batch

    def _maybe_sent_before(self, batch: Batch) -> bool:
        if batch.summaries_through is not None:
            return batch.summaries_through <= self.marks.summaries_sent
        return batch.first <= self.marks.sent

    # --- sending and reading back ----------------------------------------------------

    def publish(
        self, server: _Server, started: float, stall_seconds: float, max_seconds: float
    ) -> Published:
        self.server = server
        deadline = started + max_seconds
        try:
            server.healthy()
            # Noted before anything goes out: whatever may be on the server is read back
            # before it is sent again (a crash between the POST and the cursor included).
            ev.advance(self.db, summaries_sent=self.upto, sent=self.upto)
            for batch in chain(self.summaries, self._agreement_batches()):
                if not self._send(batch, deadline, stall_seconds, max_seconds):
                    return self.finish(started)
            self._wait(self.window + 1, deadline, stall_seconds, max_seconds)
        except ServerProblem as error:
            self.problem = f"the Prefect server did not answer: {error}"
        return self.finish(started)

    def _send(self, batch: Batch, deadline: float, stall: float, most: float) -> bool:
        """Send what the server does not have of `batch`; False once sending must stop."""
        assert self.server is not None
        if not batch.events:
            return True
        if self._maybe_sent_before(batch):
            known = self.server.stored(batch.ids)
            batch.known = known
            if batch.read(len(known)) and batch.done:
                return True
        unsent = [e for e in batch.events if e.id not in batch.known]
        if not self._wait(len(unsent), deadline, stall, most):
            return False
        self.server.send(unsent)
        batch.sent = True
        self.inflight.append(batch)
        return True

    def _in_flight(self) -> int:
        return sum(b.size - b.stored for b in self.inflight)

    def _read_back(self) -> bool:
        """Read back the oldest batches in flight; True if the server has more of them."""
        assert self.server is not None
        more = False
        while self.inflight:
            batch = self.inflight[0]
            more = batch.read(self.server.count(batch.ids)) or more
            if not batch.done:
                break
            self.inflight.popleft()
        return more

    def _wait(self, room: int, deadline: float, stall: float, most: float) -> bool:
        """Wait until `room` more events fit in the window (more than the window: until
        all are stored); False when the wait ends first."""
        progress = time.monotonic()
        pause = POLL_SECONDS[0]
        while self.inflight and self._in_flight() + room > self.window:
            now = time.monotonic()
            if now >= deadline:
                self.problem = f"not all stored within {most:.0f} s"
                return False
            if now - progress >= stall:
                self.problem = f"nothing more stored for {stall:.0f} s"
                return False
            time.sleep(min(pause, deadline - now))
            pause = min(pause * 2, POLL_SECONDS[1])
            if self._read_back():
                progress = time.monotonic()
        return True

    # --- where the cursor may go -------------------------------------------------------

    def finish(self, started: float, problem: str = "") -> Published:
        m = self.marks
        self.problem = self.problem or problem
        summaries_to = m.summaries
        for batch in self.summaries:
            if not self._settled(batch):
                break
            assert batch.summaries_through is not None
            summaries_to = batch.summaries_through
        agreements_to = self.upto
        agreement_events = ev.per_agreement_count(self.db, m.published, self.upto)
        if sum(b.size for b in self.agreements) < agreement_events:
            agreements_to = self._unsent_from() - 1
        for batch in self.agreements:
            missing = None if self._settled(batch) else self._first_missing(batch)
            if missing is not None:
                agreements_to = missing - 1
                break
        for batch in self.inflight:  # an exact count of what is missing
            self._settled(batch)
        cursor = max(m.published, min(agreements_to, summaries_to))
        if summaries_to > m.summaries or cursor > m.published:
            ev.advance(self.db, summaries=summaries_to, published=cursor)
        everything = sum(b.size for b in self.summaries) + agreement_events
        confirmed = sum(b.stored for b in [*self.summaries, *self.agreements])
        unconfirmed = everything - confirmed
        return Published(
            confirmed=confirmed,
            unconfirmed=unconfirmed,
            cursor=cursor,
            seconds=time.monotonic() - started,
            problem=(self.problem or "not stored in time") if unconfirmed else "",
        )

    def _unsent_from(self) -> int:
        """The oldest audit record whose per-agreement event was not even made."""
        after = self.agreements[-1].last if self.agreements else self.marks.published
        first = next(ev.per_agreement_events(self.db, after, self.upto, page=1), [])
        return first[0].audit_id if first else self.upto + 1

    def _settled(self, batch: Batch) -> bool:
        """Whether the server has every event of `batch` (read back again if unsure)."""
        if batch.done or not batch.sent or self.server is None:
            return batch.done
        try:
            batch.read(self.server.count(batch.ids))
        except ServerProblem:
            return False
        return batch.done

    def _first_missing(self, batch: Batch) -> int | None:
        """The audit id of the oldest event of `batch` the server does not have."""
        stored = batch.known
        if batch.sent and batch.stored and self.server is not None:
            try:
                stored = self.server.stored(batch.ids, batch.stored)
            except ServerProblem:
                pass
        return next((e.audit_id for e in batch.events if e.id not in stored), None)
