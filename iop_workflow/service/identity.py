"""Who is signing in: local passwords, the identity provider's subject, API tokens.

Every way in ends in a `Viewer` of an active person in the register; the person behind
it is the actor of whatever they do. Passwords are kept as argon2 hashes, tokens and
calendar secrets as SHA-256 (they are long random strings, so a fast hash is enough);
nothing secret is ever stored or shown again after it is made.

Failed sign-ins are throttled per user name in the database, so every web process
shares the count: after `MAX_FAILURES` failures within `WINDOW` the name is locked
for `LOCK`. Unknown names are counted too, so the answer does not tell which exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..domain.errors import InvalidInput, NotFound
from ..domain.model import Person
from .access import Viewer, viewer_of

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 1000
TOKEN_PREFIX = "iop_"

_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class SignInRefused(Exception):
    """Sign-in refused. `locked_until` is set when the throttle refused it."""

    def __init__(self, why: str, locked_until: datetime | None = None) -> None:
        super().__init__(why)
        self.locked_until = locked_until


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _person(repo: Repository, name: str) -> Person:
    person = repo.person(name)
    if person is None:
        raise NotFound(f"no person named '{name}'; people are added with `iop people add`")
    return person


def _upsert_credentials(session: Session, person_id: int, now: datetime, **values: Any) -> None:
    c = t.credentials
    exists = session.execute(sa.select(c.c.person_id).where(c.c.person_id == person_id)).first()
    if exists:
        session.execute(
            sa.update(c).where(c.c.person_id == person_id).values(updated_at=now, **values)
        )
    else:
        session.execute(sa.insert(c).values(person_id=person_id, updated_at=now, **values))


# --- local passwords ------------------------------------------------------------------


def set_password(db: Database, name: str, password: str, *, now: datetime) -> None:
    """Set `name`'s local password (stored as an argon2 hash)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"must be at least {MIN_PASSWORD} characters long", record="password", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            f"must be at most {MAX_PASSWORD} characters long", record="password", field="password"
        )
    with db.write() as session:
        person = _person(Repository(session), name)
        assert person.id is not None
        _upsert_credentials(session, person.id, now, password_hash=_hasher.hash(password))


def sign_in_with_password(db: Database, username: str, password: str, *, now: datetime) -> Viewer:
    """The viewer `username` signs in as; `SignInRefused` for a wrong name or password,
    a deactivated person, or a name locked by the throttle (all but the lock alike)."""
    key = username.strip().casefold()[:200]
    refused: SignInRefused | None = None
    with db.write() as session:
        locked = _locked_until(session, key, now)
        person = Repository(session).person(username.strip()) if key else None
        stored = None
        if person is not None and person.id is not None:
            stored = session.scalar(
                sa.select(t.credentials.c.password_hash).where(
                    t.credentials.c.person_id == person.id
                )
            )
        if locked is not None:
            refused = SignInRefused("locked", locked)
        elif not _verify(stored, password) or person is None or not person.active:
            # Counted in this transaction, which must commit: the refusal is raised after.
            refused = SignInRefused("wrong", _count_failure(session, key, now))
        else:
            session.execute(sa.delete(t.login_throttle).where(t.login_throttle.c.username == key))
            viewer = viewer_of(Repository(session), person)
    if refused is not None:
        raise refused
    return viewer


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD]) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def _locked_until(session: Session, key: str, now: datetime) -> datetime | None:
    until = session.scalar(
        sa.select(t.login_throttle.c.locked_until).where(t.login_throttle.c.username == key)
    )
    return until if until is not None and until > now else None


def _count_failure(session: Session, key: str, now: datetime) -> datetime | None:
    lt = t.login_throttle
    row = session.execute(
        sa.select(lt.c.failures, lt.c.first_failure_at).where(lt.c.username == key)
    ).first()
    if row is None or row.first_failure_at + WINDOW < now:
        session.execute(sa.delete(lt).where(lt.c.username == key))
        session.execute(sa.insert(lt).values(username=key, failures=1, first_failure_at=now))
        return None
    failures = row.failures + 1
    locked = now + LOCK if failures >= MAX_FAILURES else None
    session.execute(
        sa.update(lt).where(lt.c.username == key).values(failures=failures, locked_until=locked)
    )
    return locked


# --- the identity provider --------------------------------------------------------------


def sign_in_with_oidc(db: Database, *, subject: str, email: str | None, now: datetime) -> Viewer:
    """The person the identity provider vouched for: matched on the stored subject, else
    (first sign-in) on the e-mail claim, whose subject is then stored."""
    with db.write() as session:
        repo = Repository(session)
        person_id = session.scalar(
            sa.select(t.credentials.c.person_id).where(t.credentials.c.oidc_subject == subject)
        )
        person = session.get(Person, person_id) if person_id is not None else None
        if person is None and email:
            matches = list(
                session.scalars(
                    sa.select(Person).where(
                        sa.func.lower(t.people.c.email) == email.strip().lower()
                    )
                )
            )
            if len(matches) == 1:
                person = matches[0]
                assert person.id is not None
                _upsert_credentials(session, person.id, now, oidc_subject=subject)
        if person is None or not person.active:
            raise SignInRefused("unknown")
        return viewer_of(repo, person)


def active_viewer(db: Database, name: str) -> Viewer | None:
    """The viewer of a session's person, or None when they were deactivated or removed
    since they signed in (the session then ends)."""
    with db.read() as session:
        repo = Repository(session)
        person = repo.person(name)
        return viewer_of(repo, person) if person is not None and person.active else None


# --- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    id: int
    person: str
    label: str
    token: str


def create_token(db: Database, name: str, *, label: str, now: datetime) -> IssuedToken:
    """A new bearer token acting as `name`; only its hash is kept."""
    label = label.strip()
    if not label or len(label) > 200:
        raise InvalidInput("give a label of 1 to 200 characters", record="token", field="label")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        person = _person(Repository(session), name)
        if not person.active:
            raise InvalidInput(f"{name} was deactivated", record="token", field="person")
        token_id = session.execute(
            sa.insert(t.api_tokens)
            .values(person_id=person.id, label=label, token_hash=sha256(token), created_at=now)
            .returning(t.api_tokens.c.id)
        ).scalar_one()
    return IssuedToken(int(token_id), name, label, token)


def revoke_token(db: Database, token_id: int, *, now: datetime) -> None:
    with db.write() as session:
        done = session.execute(
            sa.update(t.api_tokens)
            .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if getattr(done, "rowcount", 0) == 0:
            raise NotFound(f"no live token with id {token_id}")


def list_tokens(db: Database) -> list[dict[str, Any]]:
    tok, p = t.api_tokens, t.people
    with db.read() as session:
        rows = session.execute(
            sa.select(tok, p.c.name).join(p, p.c.id == tok.c.person_id).order_by(tok.c.id)
        )
        return [
            {
                "id": r.id,
                "person": r.name,
                "label": r.label,
                "created_at": r.created_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
            }
            for r in rows
        ]


def viewer_for_token(db: Database, token: str, *, now: datetime) -> Viewer | None:
    """The person a live token acts as (None: unknown, revoked or deactivated)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    tok = t.api_tokens
    with db.write() as session:
        row = session.execute(
            sa.select(tok.c.id, tok.c.person_id, tok.c.last_used_at).where(
                tok.c.token_hash == sha256(token), tok.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        person = session.get(Person, row.person_id)
        if person is None or not person.active:
            return None
        # Written at most once a minute: a busy integration should not make every
        # request a write.
        if row.last_used_at is None or row.last_used_at + timedelta(minutes=1) < now:
            session.execute(sa.update(tok).where(tok.c.id == row.id).values(last_used_at=now))
        return viewer_of(Repository(session), person)
