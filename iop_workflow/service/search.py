"""Find agreements by diarienummer or organisation, among those the person may see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database
from ..domain.errors import InvalidInput
from .access import Viewer, visible_agreements

MAX_HITS = 50
MAX_QUERY = 200


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(db: Database, viewer: Viewer, query: str) -> list[dict[str, Any]]:
    """Agreements whose diarienummer, title or a party's name or organisationsnummer
    contains `query` (case-insensitive), at most `MAX_HITS`, by diarienummer."""
    text = query.strip()
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"at most {MAX_QUERY} characters", record="search", field="q")
    if not text:
        return []
    a, ap, o = t.agreements, t.agreement_parties, t.organisations
    pattern = _like(text)
    by_party = (
        sa.select(ap.c.agreement_id)
        .join(o, o.c.id == ap.c.organisation_id)
        .where(
            sa.or_(
                sa.func.lower(o.c.name).like(pattern, escape="\\"),
                o.c.organisationsnummer.like(pattern, escape="\\"),
            )
        )
    )
    first_party = (
        sa.select(o.c.name)
        .join(ap, ap.c.organisation_id == o.c.id)
        .where(ap.c.agreement_id == a.c.id)
        .order_by(ap.c.id)
        .limit(1)
        .scalar_subquery()
    )
    rows = sa.select(
        a.c.id, a.c.diarienummer, a.c.title, a.c.municipality, a.c.state, first_party.label("org")
    ).where(
        visible_agreements(viewer),
        sa.or_(
            sa.func.lower(a.c.diarienummer).like(pattern, escape="\\"),
            sa.func.lower(a.c.title).like(pattern, escape="\\"),
            a.c.id.in_(by_party),
        ),
    )
    with db.read() as session:
        return [
            {
                "id": r.id,
                "diarienummer": r.diarienummer,
                "title": r.title,
                "municipality": r.municipality,
                "state": str(r.state.value if hasattr(r.state, "value") else r.state),
                "organisation": r.org,
            }
            for r in session.execute(rows.order_by(a.c.diarienummer).limit(MAX_HITS))
        ]


def agreement_list(
    db: Database,
    viewer: Viewer,
    *,
    state: str | None = None,
    municipality: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> dict[str, Any]:
    """The agreements `viewer` may see, a page at a time, by diarienummer (the API's list)."""
    from ..domain.states import AgreementState

    a = t.agreements
    where: list[sa.ColumnElement[bool]] = [visible_agreements(viewer)]
    if state is not None:
        try:
            where.append(a.c.state == AgreementState(state))
        except ValueError:
            known = ", ".join(s.value for s in AgreementState)
            raise InvalidInput(f"unknown state '{state}'; known: {known}", field="state") from None
    if municipality is not None:
        where.append(a.c.municipality == municipality)
    columns = (a.c.id, a.c.diarienummer, a.c.title, a.c.municipality, a.c.state, a.c.officer)
    with db.read() as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(a).where(*where)) or 0
        rows = session.execute(
            sa.select(*columns)
            .where(*where)
            .order_by(a.c.diarienummer)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items = [
            {
                "id": r.id,
                "diarienummer": r.diarienummer,
                "title": r.title,
                "municipality": r.municipality,
                "state": str(getattr(r.state, "value", r.state)),
                "officer": r.officer,
                "link": f"/agreements/{r.id}",
            }
            for r in rows
        ]
    return {"total": total, "page": page, "per_page": per_page, "items": items}
