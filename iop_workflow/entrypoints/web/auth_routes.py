"""Signing in and out: the local password form, or the municipality's identity provider
(OpenID Connect, authorization code flow with PKCE through authlib)."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...config import Settings
from ...service.identity import SignInRefused, sign_in_with_oidc, sign_in_with_password
from ...timefmt import shown
from .render import templates
from .session import NEXT, application, check_csrf, csrf_token, sign_in, signed_in

router = APIRouter()
TEMPLATES = templates()
WRONG = "Fel användarnamn eller lösenord, eller så har kontot avaktiverats."
LOCKED = "För många misslyckade inloggningar. Försök igen efter {until}."
UNKNOWN_IDP = (
    "Du loggade in hos kommunens inloggningstjänst, men ingen aktiv person i registret "
    "matchar ditt konto. Kontakta systemförvaltningen."
)


def _safe_next(value: Any) -> str:
    """Only a path on this site: never an address elsewhere (no open redirect)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            return value
    return "/"


def oauth_client(settings: Settings) -> Any:
    with warnings.catch_warnings():
        # authlib warns about its own httpx integration on import; it is the one it uses.
        warnings.simplefilter("ignore")
        from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    issuer = (settings.oidc_issuer or "").rstrip("/")
    oauth.register(
        "idp",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
    )
    return oauth.idp


def _login_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    mode = application(request).settings.auth_mode
    return TEMPLATES.TemplateResponse(
        request,
        "login.html",
        {
            "csrf_token": csrf_token(request),
            "error": error,
            "mode": mode,
            "next": request.session.get(NEXT, "/"),
            "viewer": None,
        },
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    if next is not None:
        request.session[NEXT] = _safe_next(next)
    if signed_in(request) is not None:
        return RedirectResponse(_safe_next(request.session.get(NEXT)), status_code=303)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    if app.settings.auth_mode != "local":
        return _login_page(request, error="Logga in via kommunens inloggningstjänst.", status=400)
    username, password = form.get("username"), form.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip():
        return _login_page(request, error="Fyll i användarnamn och lösenord.", status=400)
    from starlette.concurrency import run_in_threadpool

    try:
        person = await run_in_threadpool(
            sign_in_with_password, app.database, username, password, now=app.clock.now()
        )
    except SignInRefused as refused:
        if refused.locked_until is not None:
            error = LOCKED.format(until=shown(refused.locked_until))
            return _login_page(request, error=error, status=429)
        return _login_page(request, error=WRONG, status=401)
    next_path = _safe_next(request.session.get(NEXT))
    sign_in(request, person)
    return RedirectResponse(next_path, status_code=303)


@router.get("/auth/oidc")
async def oidc_start(request: Request) -> Response:
    app = application(request)
    if app.settings.auth_mode != "oidc":
        return _login_page(request, error="Inloggning med lösenord används här.", status=400)
    client = request.app.state.oidc
    redirect_uri = app.settings.base_url.rstrip("/") + "/auth/callback"
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


@router.get("/auth/callback")
async def oidc_callback(request: Request) -> Response:
    app = application(request)
    if app.settings.auth_mode != "oidc":
        return _login_page(request, error="Inloggning med lösenord används här.", status=400)
    client = request.app.state.oidc
    from authlib.integrations.base_client.errors import OAuthError
    from starlette.concurrency import run_in_threadpool

    try:
        token = await client.authorize_access_token(request)
    except OAuthError as error:
        return _login_page(request, error=f"Inloggningen avbröts ({error.error}).", status=401)
    claims = token.get("userinfo") or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        return _login_page(request, error=UNKNOWN_IDP, status=401)
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    try:
        person = await run_in_threadpool(
            lambda: sign_in_with_oidc(
                app.database, subject=subject, email=email, now=app.clock.now()
            )
        )
    except SignInRefused:
        return _login_page(request, error=UNKNOWN_IDP, status=403)
    next_path = _safe_next(request.session.get(NEXT))
    sign_in(request, person)
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
