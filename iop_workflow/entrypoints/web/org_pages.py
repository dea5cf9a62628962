"""The organisations' pages (issue 13): hand in the annual report with its documents,
the receipt, and the documents' downloads. *Mina överenskommelser* is the start page
of a representative (pages.py). Each calls the service layer only."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...domain.errors import InvalidInput, IopError, NotFound
from ...service import org_reports
from ...service.access import Viewer
from .render import templates
from .session import application, check_csrf, csrf_token, viewer, web_origin
from .statuses import status_of

router = APIRouter(include_in_schema=False)
TEMPLATES = templates()
Person = Annotated[Viewer, Depends(viewer)]
MB = 1024 * 1024


def _year(value: str) -> int:
    if not value.isdigit():
        raise NotFound(f"no report '{value}'")
    return int(value)


def _form_page(
    request: Request,
    who: Viewer,
    ref: str,
    year: int,
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    saved: bool = False,
) -> HTMLResponse:
    app = application(request)
    found = org_reports.report_form(app.database, who, ref, year)
    context = {
        "viewer": who,
        "csrf_token": csrf_token(request),
        "r": found,
        "error": error,
        "saved": saved,
        "max_mb": app.settings.max_document_mb,
    }
    return TEMPLATES.TemplateResponse(request, "report_form.html", context, status_code=status)


@router.get("/agreements/{ref:path}/reports/{year}/receipts/{number}", response_class=HTMLResponse)
def receipt_page(request: Request, ref: str, year: str, number: str, who: Person) -> HTMLResponse:
    if not number.isdigit():
        raise NotFound(f"no submission '{number}'")
    app = application(request)
    found = org_reports.receipt(app.database, who, ref, _year(year), int(number))
    context = {"viewer": who, "csrf_token": csrf_token(request), "k": found}
    return TEMPLATES.TemplateResponse(request, "receipt.html", context)


@router.get("/agreements/{ref:path}/reports/{year}", response_class=HTMLResponse)
def report_page(request: Request, ref: str, year: str, who: Person) -> HTMLResponse:
    return _form_page(
        request, who, ref, _year(year), saved=request.query_params.get("sparat") == "1"
    )


def _upload(
    request: Request, who: Viewer, ref: str, year: int, kind: str, filename: str, data: bytes
) -> None:
    app = application(request)
    org_reports.upload(
        app.database,
        app.documents,
        who,
        ref,
        year,
        kind=kind,
        filename=filename,
        data=data,
        now=app.clock.now(),
        max_bytes=app.settings.max_document_mb * MB,
    )


@router.post("/agreements/{ref:path}/reports/{year}")
async def report_post(request: Request, ref: str, year: str, who: Person) -> Response:
    """Save the draft (the files chosen and the counts) and, with action=submit, hand it
    in. A refusal shows on the form, naming the field; what was saved stays saved."""
    app = application(request)
    number = _year(year)
    limit = app.settings.max_document_mb * MB
    form = await request.form(max_part_size=limit + MB)
    check_csrf(request, form)
    try:
        for name, value in form.multi_items():
            if not name.startswith("file.") or not isinstance(value, UploadFile):
                continue
            if not value.filename:
                continue  # no file chosen for this document type
            # Read one byte past the limit: enough to say it is too large.
            data = await value.read(limit + 1)
            kind, filename = name.removeprefix("file."), value.filename
            await run_in_threadpool(_upload, request, who, ref, number, kind, filename, data)
        counts = {
            name.removeprefix("statistics."): value
            for name, value in form.multi_items()
            if name.startswith("statistics.") and isinstance(value, str)
        }
        await run_in_threadpool(
            lambda: org_reports.save_statistics(
                app.database, who, ref, number, counts, now=app.clock.now()
            )
        )
        if form.get("action") != "submit":
            return RedirectResponse(f"/agreements/{ref}/reports/{number}?sparat=1", status_code=303)
        receipt = await run_in_threadpool(
            lambda: org_reports.submit(
                app.database,
                who,
                ref,
                number,
                today=app.clock.today(),
                now=app.clock.now(),
                origin=web_origin(request),
                clock=app.clock,
            )
        )
    except NotFound:
        raise
    except IopError as error:
        # Bad input's own message (Swedish for the upload rules), the field apart.
        refused: dict[str, Any] = (
            {"message": error.detail, "field": error.field}
            if isinstance(error, InvalidInput)
            else {"message": str(error), "field": None}
        )
        status = status_of(error)
        return await run_in_threadpool(
            lambda: _form_page(request, who, ref, number, status=status, error=refused)
        )
    return RedirectResponse(
        f"/agreements/{receipt['agreement_id']}/reports/{number}/receipts/{receipt['submission']}",
        status_code=303,
    )


@router.get("/agreements/{ref:path}/documents/{file_id}")
def document_download(request: Request, ref: str, file_id: str, who: Person) -> Response:
    if not file_id.isdigit():
        raise NotFound(f"no document '{file_id}'")
    app = application(request)
    name, content_type, data = org_reports.download(
        app.database,
        app.documents,
        who,
        ref,
        int(file_id),
        today=app.clock.today(),
        now=app.clock.now(),
        origin=web_origin(request),
    )
    # Always a download, never shown inline: an uploaded file is not the app's page. The
    # name as UTF-8 (RFC 6266 filename*), with an ASCII stand-in for old clients.
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )
