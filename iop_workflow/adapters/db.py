"""The product's database: engine, units of work, migrations and the repository.

The same code runs on SQLite (one machine) and PostgreSQL (`postgresql+psycopg://...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from ..config import Settings, database_location
from ..domain import errors, limits
from ..domain.model import Agreement, AuditRecord, FollowUp, Organisation, Payout, Person
from ..domain.model import RepaymentClaim as Claim
from ..domain.states import AgreementState
from . import audit_chain, orm, tables

ENV_URL = "IOP_DATABASE_URL"
SCRIPT_LOCATION = "iop_workflow:migrations"
_WRITE = "iop_write"  # execution option: this connection's transaction may write

# (record, field, message) per table: each table has one "never twice" key.
_DUPLICATE: dict[str, tuple[str, str, str]] = {
    "organisations": ("organisation", "organisationsnummer", "already registered"),
    "people": ("person", "name", "a person with this name is already registered"),
    "agreements": ("agreement", "diarienummer", "another agreement already has it"),
    "agreement_parties": ("party", "organisation", "already a party to this agreement"),
    "criteria_assessments": ("assessment", "criterion", "already assessed for this agreement"),
    "year_support": ("support", "year", "this agreement already has support for the year"),
    "signatures": ("signature", "party", "this party already signed this agreement period"),
    "follow_ups": ("follow-up", "year", "this agreement already has a follow-up for the year"),
    "payouts": ("payout", "covers_from", "this organisation already has a payout for the period"),
    "repayment_claims": ("repayment claim", "kind", "this organisation already has such a claim"),
}


def default_database_url(settings: Settings | None = None) -> str:
    """The database to use when none is given (`iop_workflow.config.database_location`).

    `IOP_DATABASE_URL` when set (e.g. `postgresql+psycopg://iop@db.example/iop`), else the
    SQLite file iop.db in the data folder (`var/` of the checkout, `IOP_DATA_DIR`, or the
    user data folder), whatever the current directory; that folder is created when
    missing. Without `settings` the environment is read now.
    """
    location = database_location(settings)
    if location.source != ENV_URL:
        Path(str(sa.make_url(location.where).database)).parent.mkdir(parents=True, exist_ok=True)
    return location.where


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    in_memory = url.database in (None, "", ":memory:")
    engine = sa.create_engine(
        url,
        connect_args={"timeout": 30, **({"check_same_thread": False} if in_memory else {})},
        # Every connection to ":memory:" is a new empty database: share one. A file's
        # connections are kept (the web app's threads each take one): a new connection
        # starts with an empty page cache and must read the schema again.
        **({"poolclass": StaticPool} if in_memory else {"pool_size": 16, "max_overflow": 16}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite must not BEGIN on its own; we do
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A deferred transaction that reads and then writes can fail at once with
        # "database is locked" (busy_timeout does not help): writers take the lock first.
        # Readers must not, or an open read blocks every writer.
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(url, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # The JIT compiles a statement whose estimated cost passes jit_above_cost. The
        # payout run's key query is estimated high for its correlated subqueries and ran
        # 0.63 s at 10,000 agreements, 0.36 s of it compiling (docs/performance.md).
        # Set on the connection, not in the URL: a pooler may refuse startup options.
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        cursor = dbapi_conn.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_conn.autocommit = autocommit

    return engine


def keyed_columns(table: sa.Table) -> list[str]:
    """The columns of `table` a plan can pick an index or a join by: its primary key,
    foreign keys, and the columns of its indexes and unique constraints, in table order."""
    keyed = {c.name for c in table.primary_key.columns}
    keyed |= {fk.parent.name for fk in table.foreign_keys}
    for index in table.indexes:
        keyed |= {c.name for c in index.columns if isinstance(c, sa.Column)}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            keyed |= {c.name for c in constraint.columns}
    return [c.name for c in table.columns if c.name in keyed]


class Database:
    """One database: `write()` and `read()` units of work, `upgrade()` to the newest schema."""

    def __init__(self, url: str) -> None:
        orm.start_mappers()
        self.url = sa.make_url(url)
        if self.url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = _postgres_engine(self.url)
        writer = self.engine.execution_options(**{_WRITE: True})
        # Reads see one snapshot, as SQLite's WAL gives them; PostgreSQL's default would
        # let an agreement and its audit trail come from different moments.
        reader = (
            self.engine.execution_options(isolation_level="REPEATABLE READ")
            if self.dialect == "postgresql"
            else self.engine
        )
        self._write_sessions = sessionmaker(bind=writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=reader, expire_on_commit=False)
        orm.install_audit_guard(self._write_sessions)
        audit_chain.install(self._write_sessions)  # every audit record gets its hash
        event.listen(self._write_sessions, "before_flush", _remember_versioned)
        orm.install_audit_guard(self._read_sessions)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception.

        Concurrent changes surface as `StaleUpdate`, duplicate keys as `InvalidInput`.
        """
        session = self._write_sessions()
        try:
            yield session
            session.commit()
        except BaseException as error:
            translated = _translate(session, error)
            session.rollback()
            if translated is not None:
                raise translated from error
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent view without the write lock; anything changed in it is discarded."""
        session = self._read_sessions(autoflush=False)
        try:
            yield session
        finally:
            # close(), not rollback(): it ends the transaction without expiring what was
            # read, so the objects stay usable after the block.
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` (alembic, run from code; idempotent)."""
        config = migration_config()
        with self.engine.execution_options(**{_WRITE: True}).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()

    def refresh_statistics(self, *names: str) -> None:
        """Bring the planner's statistics of the tables `names` (all when none) up to date.

        PostgreSQL plans by statistics that autovacuum refreshes only a minute or so after
        a bulk change. A plan made on the old figures can be ruinous: after a payout run
        that blocked 20,000 payouts, the portfolio's "first blocked payouts" query took
        7 s instead of 20 ms, walking every blocked payout once per agreement. SQLite's
        planner keeps no statistics unless ANALYZE was run; nothing to do there.

        A named table gets the statistics of its keyed columns only (`keyed_columns`):
        those a plan picks an index or a join by. The rest (a reason, a hash, a text)
        cost half the time at 10,000 agreements and choose no plan.
        """
        if self.dialect != "postgresql":
            return
        known = tables.metadata.tables
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"no such table: {', '.join(unknown)}")
        quote = self.engine.dialect.identifier_preparer.quote
        targets = [
            f"{quote(name)} ({', '.join(quote(c) for c in keyed_columns(known[name]))})"
            for name in names
        ]
        # ANALYZE takes a sample (30,000 rows a table by default): a fraction of a second.
        statement = "ANALYZE" + ("" if not targets else " " + ", ".join(targets))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(statement)

    def mark_sandbox(self, why: str) -> None:
        """Make this a sandbox database, whose clock may move (iop_workflow/clock.py);
        a database already marked stays as it is.

        Only code that makes a throw-away database calls this (`iop simulate`'s copy,
        the demo, the benchmark, tests); no setting does.
        """
        with self.write() as session:
            marked = session.execute(
                sa.select(tables.installation.c.key).where(tables.installation.c.key == SANDBOX)
            ).first()
            if marked is None:
                session.execute(
                    sa.insert(tables.installation).values(
                        key=SANDBOX, value=why[:200], set_at=datetime.now(tz=UTC)
                    )
                )

    def is_sandbox(self) -> bool:
        with self.read() as session:
            found = session.execute(
                sa.select(tables.installation.c.key).where(tables.installation.c.key == SANDBOX)
            ).first()
        return found is not None


SANDBOX = "sandbox"


def migration_config(url: str | None = None) -> Config:
    """An alembic Config for the shipped migrations; no alembic.ini needed.

    Without `url`, env.py uses `config.attributes["connection"]` when given, else
    `default_database_url()`.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        # `%` is interpolation syntax in alembic's config parser.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _translate(session: Session, error: BaseException) -> errors.IopError | None:
    if isinstance(error, StaleDataError):
        return errors.StaleUpdate(_stale_what(session, str(error)))
    if isinstance(error, exc.DBAPIError):
        text = str(error.orig)
        if orm.APPEND_ONLY in text:  # the database trigger said no
            return errors.IopError(orm.APPEND_ONLY)
        if isinstance(error, exc.IntegrityError):
            table = _duplicate_table(error.orig)
            if table is not None:
                record, field, message = _DUPLICATE.get(table, (table, "", "already exists"))
                return errors.InvalidInput(message, record=record, field=field or None)
    return None


def _duplicate_table(orig: BaseException | None) -> str | None:
    """The table whose unique key was violated, or None for other integrity errors."""
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        table = getattr(getattr(orig, "diag", None), "table_name", None)
        return str(table) if table else ""
    match = re.match(r"UNIQUE constraint failed: (\w+)\.", str(orig))  # SQLite
    return match.group(1) if match else None


_VERSIONED: dict[type[Any], tuple[str, str]] = {
    Agreement: ("agreements", "agreement"),
    FollowUp: ("follow_ups", "follow-up"),
    Payout: ("payouts", "payout"),
    Claim: ("repayment_claims", "repayment claim"),
}
_STALE_KEY = "iop_versioned"


def _remember_versioned(session: Session, _context: Any, _instances: Any) -> None:
    # A failed flush expires the objects, so a StaleDataError can no longer say which
    # agreement it was: note the candidates before the flush.
    noted: dict[str, list[str]] = {}
    for obj in [*session.dirty, *session.deleted]:
        kind = _VERSIONED.get(type(obj))
        if kind is None or not (
            obj in session.deleted or session.is_modified(obj, include_collections=False)
        ):
            continue
        if isinstance(obj, Agreement):
            name = obj.diarienummer
        elif isinstance(obj, FollowUp):
            name = f"{obj.year} of agreement {obj.agreement_id}"
        else:
            name = str(getattr(obj, "id", ""))
        noted.setdefault(kind[0], []).append(name)
    session.info[_STALE_KEY] = noted


def _stale_what(session: Session, message: str) -> str:
    match = re.search(r"table '(\w+)'", message)
    table = match.group(1) if match else ""
    noun = next((n for t, n in _VERSIONED.values() if t == table), "a record")
    names = session.info.get(_STALE_KEY, {}).get(table, [])
    return f"{noun} {', '.join(names)}" if names else noun


class Repository:
    """Look-ups the service layer needs, on one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def organisation(self, organisation_id: int) -> Organisation | None:
        return self.session.get(Organisation, organisation_id)

    def organisation_by_orgnr(self, nr: str) -> Organisation | None:
        query = sa.select(Organisation).where(orm.organisations.c.organisationsnummer == nr)
        return self.session.scalars(query).one_or_none()

    def person(self, name: str) -> Person | None:
        _refuse_unstorable(name, record="person", field="name")
        return self.session.scalars(
            sa.select(Person).where(orm.people.c.name == name)
        ).one_or_none()

    def people(self) -> list[Person]:
        return list(self.session.scalars(sa.select(Person).order_by(orm.people.c.name)))

    def agreement(self, ref: str | int) -> Agreement:
        """By id (`#12`, or `12`) or diarienummer; an all-digit ref is tried as an id first."""
        found = self.find_agreement(ref)
        if found is None:
            raise errors.NotFound(f"no agreement '{ref}'")
        return found

    def find_agreement(self, ref: str | int) -> Agreement | None:
        text = str(ref).strip()
        _refuse_unstorable(text, field="REF")
        agreement_id = limits.id_in_ref(text)
        if agreement_id is not None:
            found = self.session.get(Agreement, agreement_id) if agreement_id > 0 else None
            if found is not None or text.startswith(limits.ID_MARK):
                return found
        query = sa.select(Agreement).where(orm.agreements.c.diarienummer == text)
        return self.session.scalars(query).one_or_none()

    def agreements(
        self, state: str | None = None, municipality: str | None = None
    ) -> list[Agreement]:
        query = sa.select(Agreement).order_by(orm.agreements.c.diarienummer)
        if state is not None:
            try:
                wanted = AgreementState(state)
            except ValueError:
                known = ", ".join(s.value for s in AgreementState)
                raise errors.InvalidInput(
                    f"unknown state '{state}'; known: {known}", field="state"
                ) from None
            query = query.where(orm.agreements.c.state == wanted)
        if municipality is not None:
            _refuse_unstorable(municipality, field="municipality")
            query = query.where(orm.agreements.c.municipality == municipality)
        return list(self.session.scalars(query))

    def audit(self, agreement_id: int) -> list[AuditRecord]:
        query = (
            sa.select(AuditRecord)
            .where(orm.audit_log.c.agreement_id == agreement_id)
            .order_by(orm.audit_log.c.id)
        )
        return list(self.session.scalars(query))

    def add_audit(self, record: AuditRecord) -> None:
        # Chained when flushed (adapters/audit_chain.py): in the order added.
        self.session.add(record)

    def flush(self) -> None:
        self.session.flush()


def _refuse_unstorable(text: str, *, record: str | None = None, field: str) -> None:
    """Refuse text that no database takes (a NUL, a lone surrogate: a byte that is not
    UTF-8 on the command line) before it reaches a query; it can match nothing anyway."""
    problem = limits.text_problem(text, None)
    if problem is not None:
        raise errors.InvalidInput(problem, record=record, field=field)
