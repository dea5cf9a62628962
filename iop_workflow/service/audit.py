"""`iop audit verify`: does the audit trail still hold together?

Reads the whole log in id order, a batch at a time (never all of it in memory), and
checks each record's hash, place and link (domain/audit_chain.py), then the recorded
chain head; the first record that fails is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.audit_chain import CONTENT, HEAD
from ..adapters.db import Database
from ..domain.audit_chain import Break, ChainCheck, Head

BATCH = 2000


@dataclass(frozen=True)
class AuditVerdict:
    records: int  # read before the first break, that one included
    head: str  # the hash of the last record that holds
    broken: Break | None
    diarienummer: str | None = None  # of the broken record's agreement, when it has one

    @property
    def intact(self) -> bool:
        return self.broken is None

    def where(self) -> str:
        """The broken record, e.g. "record 17 (agreement OSN 2026/0142)"."""
        if self.broken is None:
            return ""
        if self.broken.record_id is None:
            return "the chain head"
        agreement = f" (agreement {self.diarienummer})" if self.diarienummer else ""
        return f"record {self.broken.record_id}{agreement}"

    def summary(self) -> str:
        """One line: "intact (N records)" or "BROKEN at record …: what is wrong"."""
        if self.broken is None:
            return f"intact ({self.records} records)"
        return f"BROKEN at {self.where()}: {self.broken.problem}"

    def as_dict(self) -> dict[str, Any]:
        broken = self.broken
        return {
            "intact": self.intact,
            "records": self.records,
            "head": self.head,
            "broken": None
            if broken is None
            else {
                "record": broken.record_id,
                "agreement_id": broken.agreement_id,
                "diarienummer": self.diarienummer,
                "problem": broken.problem,
            },
        }


def verify_audit(db: Database) -> AuditVerdict:
    log, chain = t.audit_log, t.audit_chain
    check = ChainCheck()
    columns = [log.c.id, *(log.c[name] for name in CONTENT), log.c.seq, log.c.prev_hash]
    query = sa.select(*columns, log.c.hash).order_by(log.c.id)
    diarienummer = None
    # One read: the head and the log come from the same snapshot (see Database.read).
    with db.read() as session:
        recorded = session.execute(
            sa.select(chain.c.seq, chain.c.hash).where(chain.c.name == HEAD)
        ).one_or_none()
        rows = session.execute(query.execution_options(yield_per=BATCH)).mappings()
        try:
            for row in rows:
                if check.feed(row) is not None:
                    break
        finally:
            rows.close()
        broken = check.finish(None if recorded is None else Head(recorded.seq, recorded.hash))
        if broken is not None and broken.agreement_id is not None:
            a = t.agreements
            diarienummer = session.execute(
                sa.select(a.c.diarienummer).where(a.c.id == broken.agreement_id)
            ).scalar_one_or_none()
    return AuditVerdict(check.records, check.head.hash, broken, diarienummer)
