"""The signed-in person behind a request, and the CSRF token every form carries.

The session cookie (Starlette's, signed with itsdangerous) holds only the person's name
and the CSRF token. The person is looked up again on every request, so a deactivated
person's session ends at their next click.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request

from ...bootstrap import App
from ...domain.roles import Origin
from ...service.access import Viewer
from ...service.identity import active_viewer

PERSON, CSRF, NEXT = "person", "csrf", "next"


class SignInNeeded(Exception):
    """The page needs a signed-in person; the handler sends them to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form came without this session's CSRF token."""


def application(request: Request) -> App:
    found: App = request.app.state.application
    return found


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF] = token
    return token


def check_csrf(request: Request, form: Any) -> None:
    sent = form.get("csrf_token")
    expected = request.session.get(CSRF)
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and secrets.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused


def sign_in(request: Request, viewer: Viewer) -> None:
    """A new session for `viewer`: a fresh CSRF token too (no fixation across sign-in)."""
    request.session.clear()
    request.session[PERSON] = viewer.name
    request.session[CSRF] = secrets.token_urlsafe(32)


def signed_in(request: Request) -> Viewer | None:
    name = request.session.get(PERSON)
    if not isinstance(name, str):
        return None
    viewer = active_viewer(application(request).database, name)
    if viewer is None:
        request.session.clear()
    return viewer


def viewer(request: Request) -> Viewer:
    """FastAPI dependency of every page: the signed-in person, else to the login page."""
    found = signed_in(request)
    if found is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(path)
    return found


def web_origin(request: Request) -> Origin:
    """What the audit says about a change made on a page: the channel and the address
    the browser came from."""
    return Origin("web", None, request.client.host if request.client else None)
