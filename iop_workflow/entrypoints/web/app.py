"""The web application: built from the composition root's `App`, served by `iop web`.

Pages (server-rendered, plain HTML forms that work without JavaScript) for people,
`/api/v1` for systems; both call only the service layer. Errors are the service
layer's messages: on a page in the page's frame, in the API as
`application/problem+json`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from ...bootstrap import App
from ...bootstrap import app as default_app
from ...domain.errors import IopError
from . import api, auth_routes, org_pages, pages, payment_api, payment_pages
from .render import HERE, templates
from .session import CsrfRefused, SignInNeeded, csrf_token, signed_in
from .statuses import status_of

log = logging.getLogger(__name__)
TEMPLATES = templates()
SESSION_HOURS = 8

TITLES = {
    400: "Felaktig uppgift",
    401: "Inloggning krävs",
    403: "Inte tillåtet",
    404: "Hittades inte",
    409: "Steget kunde inte tas",
    422: "Felaktig uppgift",
}


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Fel"), "status": status}
    body.update(detail=detail, **extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status: int, message: str) -> Response:
    return TEMPLATES.TemplateResponse(
        request,
        "error.html",
        {
            "code": status,
            "title": TITLES.get(status, "Fel"),
            "message": message,
            "viewer": signed_in(request),
            "csrf_token": csrf_token(request),
        },
        status_code=status,
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(application: App | None = None) -> FastAPI:
    application = application or default_app()
    settings = application.settings
    web = FastAPI(
        title="iop-workflow",
        version="1",
        description="IOP-avtal: ärenden, tidslinjer, granskningsspår och steg. "
        "Bearer-token från `iop tokens create`.",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    web.state.application = application
    if settings.auth_mode == "oidc":
        web.state.oidc = auth_routes.oauth_client(settings)
    https = settings.base_url.startswith("https://")

    @web.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        headers = response.headers
        # The API docs page loads its own script and styles from FastAPI's CDN default;
        # everything else is served from here.
        if not request.url.path.startswith("/api/v1/docs"):
            headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Calendar feeds have their secret in the path: never send it on as a referrer.
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cache-Control", "no-store")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    web.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret or secrets.token_urlsafe(48),
        session_cookie="iop_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",  # the identity provider's redirect back must carry it
        https_only=https,
    )

    @web.exception_handler(IopError)
    async def service_error(request: Request, error: IopError) -> Response:
        status = status_of(error)
        if _is_api(request):
            field = getattr(error, "field", None)
            return problem(status, str(error), **({"field": field} if field else {}))
        return _error_page(request, status, str(error))

    @web.exception_handler(SignInNeeded)
    async def to_login(request: Request, error: SignInNeeded) -> Response:
        request.session["next"] = error.next_path
        return RedirectResponse("/login", status_code=303)

    @web.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _error: CsrfRefused) -> Response:
        message = "Formuläret saknade en giltig säkerhetstoken. Ladda om sidan och försök igen."
        return _error_page(request, 403, message)

    @web.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        if _is_api(request):
            return problem(422, detail, field=where or None)
        return _error_page(request, 422, detail)

    @web.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        detail = str(error.detail)
        if _is_api(request):
            response: Response = problem(error.status_code, detail)
        else:
            if error.status_code == 404:
                detail = "Sidan finns inte."
            response = _error_page(request, error.status_code, detail)
        for key, value in (error.headers or {}).items():
            response.headers[key] = value
        return response

    @web.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    web.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    web.include_router(auth_routes.router)
    web.include_router(api.router)
    web.include_router(payment_api.router)
    web.include_router(org_pages.router)  # before pages: its routes extend /agreements/{ref}
    web.include_router(payment_pages.router)
    web.include_router(pages.router)
    return web
