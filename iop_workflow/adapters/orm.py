"""Maps the plain domain dataclasses onto the tables, from the outside.

`iop_workflow.domain` never imports SQLAlchemy: `start_mappers()` instruments the classes
with `registry.map_imperatively`. The Table objects are re-exported here so the service
layer can run set-wise Core SQL (`orm.payouts`, `orm.follow_ups`, ...).
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import (
    RelationshipProperty,
    Session,
    configure_mappers,
    registry,
    relationship,
    sessionmaker,
)

from ..domain.errors import IopError
from ..domain.model import (
    Agreement,
    Amendment,
    AuditRecord,
    Contribution,
    CriterionAssessment,
    Decision,
    FollowUp,
    FollowUpDocument,
    Organisation,
    OtherIncome,
    Party,
    Payout,
    Person,
    RepaymentClaim,
    Signature,
    YearSupport,
)
from .tables import (
    NAMING_CONVENTION,
    TABLES,
    agreement_parties,
    agreements,
    amendments,
    audit_log,
    contributions,
    criteria_assessments,
    decisions,
    follow_up_documents,
    follow_ups,
    metadata,
    organisations,
    other_income,
    payouts,
    people,
    repayment_claims,
    signatures,
    year_support,
)

__all__ = [
    "NAMING_CONVENTION",
    "TABLES",
    "agreement_parties",
    "agreements",
    "amendments",
    "audit_log",
    "contributions",
    "criteria_assessments",
    "decisions",
    "follow_up_documents",
    "follow_ups",
    "install_audit_guard",
    "mapper_registry",
    "metadata",
    "organisations",
    "other_income",
    "payouts",
    "people",
    "repayment_claims",
    "signatures",
    "start_mappers",
    "year_support",
]

APPEND_ONLY = "audit records are append-only"

mapper_registry = registry(metadata=metadata)
_lock = threading.Lock()
_started = False


def _children(cls: type[Any], *order_by: sa.Column[Any]) -> RelationshipProperty[Any]:
    # selectin: an agreement read in a session is complete after the session closes
    # (expire_on_commit=False), and 100 agreements cost one query per collection, not 100.
    return relationship(cls, cascade="all, delete-orphan", lazy="selectin", order_by=list(order_by))


def start_mappers() -> None:
    """Map every domain class. Safe to call any number of times, from any thread."""
    global _started
    with _lock:
        if _started:
            return
        _map_all()
        _check_every_field_is_mapped()
        _started = True


def _map_all() -> None:
    simple = [
        (CriterionAssessment, criteria_assessments),
        (YearSupport, year_support),
        (Contribution, contributions),
        (OtherIncome, other_income),
        (Decision, decisions),
        (Signature, signatures),
        (FollowUpDocument, follow_up_documents),
        (Amendment, amendments),
        (AuditRecord, audit_log),
    ]
    mapper_registry.map_imperatively(Organisation, organisations)
    mapper_registry.map_imperatively(Person, people)
    for cls, table in simple:
        mapper_registry.map_imperatively(cls, table)
    mapper_registry.map_imperatively(
        Party,
        agreement_parties,
        properties={
            # Joined: a party is never shown without its organisation's name.
            "organisation": relationship(Organisation, lazy="joined", innerjoin=True),
        },
    )
    mapper_registry.map_imperatively(
        FollowUp,
        follow_ups,
        version_id_col=follow_ups.c.version,
        properties={"documents": _children(FollowUpDocument, follow_up_documents.c.id)},
    )
    mapper_registry.map_imperatively(Payout, payouts, version_id_col=payouts.c.version)
    mapper_registry.map_imperatively(
        RepaymentClaim, repayment_claims, version_id_col=repayment_claims.c.version
    )
    mapper_registry.map_imperatively(
        Agreement,
        agreements,
        version_id_col=agreements.c.version,
        properties={
            "parties": _children(Party, agreement_parties.c.id),
            "assessments": _children(CriterionAssessment, criteria_assessments.c.id),
            "support": _children(YearSupport, year_support.c.year),
            "contributions": _children(Contribution, contributions.c.year, contributions.c.id),
            "other_income": _children(OtherIncome, other_income.c.year, other_income.c.id),
            "decisions": _children(Decision, decisions.c.id),
            "signatures": _children(Signature, signatures.c.id),
            "follow_ups": _children(FollowUp, follow_ups.c.year),
            "payouts": _children(Payout, payouts.c.covers_from, payouts.c.id),
            "claims": _children(RepaymentClaim, repayment_claims.c.id),
            "amendments": _children(Amendment, amendments.c.id),
        },
    )
    configure_mappers()


def _check_every_field_is_mapped() -> None:
    # A dataclass field without a column would silently be missing on every loaded object
    # (SQLAlchemy does not call __init__ on load): refuse to start instead.
    for mapper in mapper_registry.mappers:
        missing = [f.name for f in dataclasses.fields(mapper.class_) if f.name not in mapper.attrs]
        if missing:
            raise RuntimeError(
                f"{mapper.class_.__name__} fields without a column or relationship: {missing}"
            )


def install_audit_guard(
    target: sessionmaker[Session] | type[Session] | Session = Session,
) -> None:
    """Refuse any flush that would change or delete an AuditRecord (idempotent).

    `Database` installs it on its own sessions. The database triggers of the initial
    migration refuse the same for raw SQL. (Not `event.contains`: it goes by id, and a
    new sessionmaker's class can reuse the id of a collected one.)
    """
    if target not in _guarded:
        event.listen(target, "before_flush", _refuse_audit_changes)
        _guarded.add(target)


_guarded: weakref.WeakSet[Any] = weakref.WeakSet()


def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditRecord):
            raise IopError(APPEND_ONLY)
    for obj in session.dirty:
        if isinstance(obj, AuditRecord) and session.is_modified(obj):
            raise IopError(APPEND_ONLY)
