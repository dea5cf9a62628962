"""`iop audit verify` for the tests' own databases: call it at the end of a walk, or
let the shared `db` fixtures (tests/integration/conftest.py) call it at teardown."""

from __future__ import annotations

from iop_workflow.adapters.db import Database
from iop_workflow.service.audit import AuditVerdict, verify_audit


def assert_audit_intact(db: Database) -> AuditVerdict:
    """The whole audit trail of `db` verifies; returns the verdict (its record count)."""
    verdict = verify_audit(db)
    assert verdict.intact, f"audit trail {verdict.summary()}"
    return verdict
