"""The annual report as the organisation hands it in (issue 13): a draft of files and
statistics that only its authors see, submitted as the officer's own typed steps, a
receipt, and every version kept.

The draft is `report_files` rows without a submission and a `report_drafts` row of
counts. Submitting fires, in one transaction, `receive_document` for each file (and
for the statistics) and then `submit_report` with the counts: the same steps, guards,
audit records and notices as when an officer registers a report that came by post.
The receipt is a notice of its own (domain/notices.py `report_received`), stored in
that transaction too. Files are checked on their content (domain/upload_rules.py) and
kept in the document store under their SHA-256; a download is recorded in the audit
trail. Whoever may not see the agreement gets the NotFound of a missing one, for the
agreement, the report and each file alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..adapters.document_store import DocumentStore
from ..clock import Clock
from ..domain.errors import InvalidInput, NotFound, RuleViolation
from ..domain.limits import MAX_COUNT
from ..domain.model import Agreement, AuditRecord, FollowUp
from ..domain.notices import report_received
from ..domain.roles import Origin, roles_for
from ..domain.states import AWAITING_REPORT, DocumentKind, Role
from ..domain.upload_rules import DEFAULT_MAX_BYTES, check_upload, refuse_personnummer
from ..policies import load_policy
from ..timefmt import shown
from .access import Viewer, refuse_read_only, seen_agreement
from .actors import resolve_actor
from .outbox import Notice
from .outbox import record as record_notices
from .steps import apply_step

# The document types handed in as files; the statistics are counts in the form.
FILE_KINDS = (
    DocumentKind.INCOME_STATEMENT,
    DocumentKind.BALANCE_SHEET,
    DocumentKind.ACTIVITY_REPORT,
)
STATISTICS_NOTE = "statistiken inlämnad i formuläret"
DOWNLOAD = "download_document"


@dataclass(frozen=True)
class Report:
    """Where a report is: the agreement, its follow-up of the year."""

    agreement: Agreement
    follow_up: FollowUp


def _report(repo: Repository, viewer: Viewer, ref: str | int, year: int) -> Report:
    agreement = seen_agreement(repo, viewer, ref)
    found = next((f for f in agreement.follow_ups if f.year == year), None)
    if found is None or found.id is None:
        raise NotFound(f"no report {year} on agreement {agreement.diarienummer}")
    return Report(agreement, found)


def _may_hand_in(viewer: Viewer, report: Report) -> None:
    refuse_read_only(viewer)
    allowed = roles_for("receive_document") & roles_for("submit_report")
    if viewer.role not in allowed:
        raise RuleViolation(f"{viewer.name} ({viewer.role.value}) does not hand in reports")
    if report.follow_up.state not in AWAITING_REPORT:
        raise RuleViolation(
            f"the report {report.follow_up.year} is {report.follow_up.state.value}: "
            "nothing can be handed in now"
        )


def report_form(db: Database, viewer: Viewer, ref: str | int, year: int) -> dict[str, Any]:
    """What the hand-in page shows: the document types and statistics asked for, the
    draft, what was handed in before (every submission with its files), and the
    officer's reason when the report was returned."""
    with db.read() as session:
        report = _report(Repository(session), viewer, ref, year)
        return _form(session, report)


def _form(session: Session, report: Report) -> dict[str, Any]:
    follow_up_id = report.follow_up.id
    rf, rd, rs = t.report_files, t.report_drafts, t.report_submissions
    files = [
        dict(r._mapping)
        for r in session.execute(
            sa.select(rf).where(rf.c.follow_up_id == follow_up_id).order_by(rf.c.id)
        )
    ]
    draft_counts = session.scalar(
        sa.select(rd.c.statistics).where(rd.c.follow_up_id == follow_up_id)
    )
    submissions = [
        dict(r._mapping)
        for r in session.execute(
            sa.select(rs).where(rs.c.follow_up_id == follow_up_id).order_by(rs.c.number)
        )
    ]
    for each in submissions:
        each["files"] = [f for f in files if f["submission"] == each["number"]]
    agreement, follow_up = report.agreement, report.follow_up
    return {
        "agreement_id": agreement.id,
        "diarienummer": agreement.diarienummer,
        "title": agreement.title,
        "year": follow_up.year,
        "state": follow_up.state.value,
        "due": follow_up.due_on.isoformat(),
        "return_reason": follow_up.return_reason,
        "open": follow_up.state in AWAITING_REPORT,
        "kinds": [k.value for k in FILE_KINDS],
        "received": sorted({d.kind.value for d in follow_up.documents}),
        "indicators": list(agreement.indicators),
        "draft": {
            "files": {f["kind"]: f for f in files if f["submission"] is None},
            # A new draft starts from the counts handed in last.
            "statistics": dict(
                draft_counts
                if draft_counts is not None
                else (submissions[-1]["statistics"] if submissions else {})
            ),
        },
        "submissions": submissions,
    }


def submitted_files(session: Session, agreement_id: int) -> dict[int, list[dict[str, Any]]]:
    """The files handed in with the agreement's reports, by year, oldest first (drafts
    are their authors' and not listed)."""
    rf, f, rs = t.report_files, t.follow_ups, t.report_submissions
    found: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(
        sa.select(rf, f.c.year, rs.c.submitted_at)
        .join(f, f.c.id == rf.c.follow_up_id)
        .join(rs, sa.and_(rs.c.follow_up_id == rf.c.follow_up_id, rs.c.number == rf.c.submission))
        .where(f.c.agreement_id == agreement_id, rf.c.submission.is_not(None))
        .order_by(f.c.year, rf.c.submission, rf.c.id)
    ):
        found.setdefault(row.year, []).append(
            {**_receipt_file(dict(row._mapping), row.submitted_at), "submission": row.submission}
        )
    return found


def upload(
    db: Database,
    store: DocumentStore,
    viewer: Viewer,
    ref: str | int,
    year: int,
    *,
    kind: str,
    filename: str,
    data: bytes,
    now: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Put one file into the report's draft, replacing the draft's file of that type.
    Refused (nothing stored) when the person may not hand in, the type is not one the
    report asks for, or the content fails the upload rules."""
    if kind not in {k.value for k in FILE_KINDS}:
        known = ", ".join(k.value for k in FILE_KINDS)
        raise InvalidInput(f"'{kind}' is not a document type of the report ({known})", field="kind")
    with db.write() as session:
        report = _report(Repository(session), viewer, ref, year)
        _may_hand_in(viewer, report)
        content_type = check_upload(filename, data, max_bytes=max_bytes, field=f"file.{kind}")
        stored = store.put(data)
        rf = t.report_files
        session.execute(
            sa.delete(rf).where(
                rf.c.follow_up_id == report.follow_up.id,
                rf.c.kind == kind,
                rf.c.submission.is_(None),
            )
        )
        row = {
            "follow_up_id": report.follow_up.id,
            "kind": kind,
            "filename": filename,
            "content_type": content_type,
            "size_bytes": stored.size,
            "sha256": stored.sha256,
            "uploaded_by": viewer.name,
            "uploaded_at": now,
            "submission": None,
        }
        session.execute(sa.insert(rf).values(**row))
        return row


def save_statistics(
    db: Database,
    viewer: Viewer,
    ref: str | int,
    year: int,
    values: Mapping[str, str],
    *,
    now: datetime,
) -> dict[str, int]:
    """Keep the draft's counts: one whole number, 0 or more, per statistic the agreement
    names (an empty field is left out). Anything else is refused, naming the field."""
    with db.write() as session:
        report = _report(Repository(session), viewer, ref, year)
        _may_hand_in(viewer, report)
        counts = _counts(report.agreement, values)
        rd = t.report_drafts
        key = report.follow_up.id
        session.execute(sa.delete(rd).where(rd.c.follow_up_id == key))
        session.execute(
            sa.insert(rd).values(
                follow_up_id=key, statistics=counts, updated_by=viewer.name, updated_at=now
            )
        )
        return counts


def _counts(agreement: Agreement, values: Mapping[str, str]) -> dict[str, int]:
    names = list(agreement.indicators)
    counts: dict[str, int] = {}
    for name, raw in values.items():
        field = f"statistics.{name}"
        if name not in names:
            raise InvalidInput(
                f"'{name}' is not a statistic of the agreement ({', '.join(names)})", field=field
            )
        text = raw.strip().replace(" ", "")
        if not text:
            continue
        refuse_personnummer(text, field)
        if not text.isdigit() or int(text) > MAX_COUNT:
            raise InvalidInput(
                f"{name}: '{raw}' is not a count (a whole number from 0 to {MAX_COUNT})",
                field=field,
            )
        counts[name] = int(text)
    return counts


def submit(
    db: Database,
    viewer: Viewer,
    ref: str | int,
    year: int,
    *,
    today: date,
    now: datetime,
    origin: Origin,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Hand in the draft: every document type not received before must be in it, and a
    count for every statistic the agreement names. Fires the officer's steps and stores
    the receipt, all in one transaction; returns the receipt."""
    with db.write() as session:
        repo = Repository(session)
        report = _report(repo, viewer, ref, year)
        _may_hand_in(viewer, report)
        agreement, follow_up = report.agreement, report.follow_up
        form = _form(session, report)
        draft, counts = form["draft"]["files"], form["draft"]["statistics"]
        required = list(load_policy(agreement.municipality).required_documents)
        missing = [
            k.value
            for k in required
            if k in FILE_KINDS and k.value not in draft and k.value not in form["received"]
        ]
        if missing:
            raise InvalidInput(
                f"the report lacks documents: {', '.join(missing)}", field=f"file.{missing[0]}"
            )
        lacking = [i for i in agreement.indicators if i not in counts]
        if lacking:
            raise InvalidInput(
                f"the report lacks statistics: {', '.join(lacking)}",
                field=f"statistics.{lacking[0]}",
            )
        actor = resolve_actor(repo, viewer.name, agreement, origin=origin)

        def step(trigger: str, data: dict[str, Any]) -> None:
            apply_step(
                repo,
                agreement,
                trigger,
                actor=actor,
                data={"year": year, **data},
                today=today,
                now=now,
                origin=origin,
                clock=clock,
            )

        for kind, file in sorted(draft.items()):
            note = f"{file['filename']} (SHA-256 {file['sha256']})"
            step("receive_document", {"kind": kind, "note": note})
        if DocumentKind.STATISTICS in required or counts:
            step(
                "receive_document", {"kind": DocumentKind.STATISTICS.value, "note": STATISTICS_NOTE}
            )
        step("submit_report", {"statistics": counts})
        number = 1 + len(form["submissions"])
        rf, rs, rd = t.report_files, t.report_submissions, t.report_drafts
        session.execute(
            sa.update(rf)
            .where(rf.c.follow_up_id == follow_up.id, rf.c.submission.is_(None))
            .values(submission=number)
        )
        session.execute(
            sa.insert(rs).values(
                follow_up_id=follow_up.id,
                number=number,
                statistics=counts,
                submitted_by=viewer.name,
                submitted_at=now,
            )
        )
        session.execute(sa.delete(rd).where(rd.c.follow_up_id == follow_up.id))
        files = [_receipt_file(f, now) for _kind, f in sorted(draft.items())]
        assert agreement.id is not None
        notice = report_received(agreement, year, number, files, counts, today)
        record_notices(
            session,
            [Notice(agreement.id, notice.subject_date, notice.stage, notice.facts)],
            as_of=today,
            now=now,
        )
        return _receipt(agreement, year, number, viewer.name, now, files, counts)


def _receipt_file(row: Mapping[str, Any], received: datetime) -> dict[str, Any]:
    """One file as the receipt names it: received when the report was handed in (a
    draft's file reaches nobody before), uploaded when it was put in the draft."""
    return {
        "id": row["id"],
        "name": row["filename"],
        "kind": str(row["kind"]),
        "size": row["size_bytes"],
        "sha256": row["sha256"],
        "received": shown(received),
        "uploaded": shown(row["uploaded_at"]),
    }


def _receipt(
    agreement: Agreement,
    year: int,
    number: int,
    by: str,
    at: datetime,
    files: list[dict[str, Any]],
    counts: Mapping[str, int],
) -> dict[str, Any]:
    return {
        "agreement_id": agreement.id,
        "diarienummer": agreement.diarienummer,
        "title": agreement.title,
        "year": year,
        "submission": number,
        "submitted_by": by,
        "submitted_at": shown(at),
        "files": files,
        "statistics": dict(counts),
    }


def receipt(db: Database, viewer: Viewer, ref: str | int, year: int, number: int) -> dict[str, Any]:
    """The receipt of submission `number` of the report, as it was given."""
    with db.read() as session:
        report = _report(Repository(session), viewer, ref, year)
        form = _form(session, report)
        found = next((s for s in form["submissions"] if s["number"] == number), None)
        if found is None:
            raise NotFound(f"no submission {number} of report {year}")
        files = [_receipt_file(f, found["submitted_at"]) for f in found["files"]]
        return _receipt(
            report.agreement,
            year,
            number,
            found["submitted_by"],
            found["submitted_at"],
            files,
            found["statistics"],
        )


def download(
    db: Database,
    store: DocumentStore,
    viewer: Viewer,
    ref: str | int,
    file_id: int,
    *,
    today: date,
    now: datetime,
    origin: Origin,
) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of one of the agreement's report files, for whoever
    may see the agreement; the download is recorded in the audit trail."""
    rf, f = t.report_files, t.follow_ups
    with db.write() as session:
        repo = Repository(session)
        agreement = seen_agreement(repo, viewer, ref)
        row = session.execute(
            sa.select(rf, f.c.year, f.c.state)
            .join(f, f.c.id == rf.c.follow_up_id)
            .where(rf.c.id == file_id, f.c.agreement_id == agreement.id)
        ).one_or_none()
        # A draft is its authors' until it is submitted.
        if row is None or (row.submission is None and viewer.role is not Role.ORG_REP):
            raise NotFound(f"no document {file_id} on agreement {agreement.diarienummer}")
        data = store.read(row.sha256)
        state = str(getattr(row.state, "value", row.state))
        repo.add_audit(
            AuditRecord(
                at=now,
                actor=viewer.name,
                role=viewer.role.value,
                agreement_id=agreement.id,
                entity="follow_up",
                entity_key=str(row.year),
                trigger=DOWNLOAD,
                from_state=state,
                to_state=state,
                data={"file": row.id, "filename": row.filename, "sha256": row.sha256},
                channel=origin.channel,
                os_user=origin.os_user,
                host=origin.host,
                effective_date=today,
            )
        )
        return row.filename, row.content_type, data
