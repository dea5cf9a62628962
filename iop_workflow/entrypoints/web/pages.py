"""The pages people work in: the work list, the agreement page and its step forms, the
portfolio, search and the personal calendar feed. Each calls the service layer only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...domain.errors import InvalidInput, IopError, NotFound, StaleUpdate
from ...domain.states import Role
from ...service import acting, org_overview, report, search, worklist
from ...service import deadline_feed as calendar_feed
from ...service.access import Viewer
from .forms import form_data, step_form
from .money_chart import money_chart_svg, money_table_rows
from .render import templates
from .session import application, check_csrf, csrf_token, viewer, web_origin
from .statuses import status_of

router = APIRouter(include_in_schema=False)
TEMPLATES = templates()
Person = Annotated[Viewer, Depends(viewer)]
MONEY_KINDS = ("planned", "released", "paid", "blocked", "claimed")
PORTFOLIO_ROLES = frozenset({Role.MANAGER, Role.AUDITOR, Role.SECRETARY})


def page(
    request: Request, name: str, who: Viewer, status: int = 200, **values: Any
) -> HTMLResponse:
    context = {"viewer": who, "csrf_token": csrf_token(request), **values}
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _int(value: str | None, field: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a whole number", field=field) from None


@router.get("/", response_class=HTMLResponse)
def work_list_page(
    request: Request,
    who: Person,
    section: str | None = None,
    municipality: str | None = None,
    state: str | None = None,
    sort: str = "due",
    order: str = "asc",
) -> HTMLResponse:
    app = application(request)
    if who.role is Role.ORG_REP:
        mine = org_overview.my_agreements(app.database, who, app.clock.today())
        return page(request, "my_agreements.html", who, groups=mine)
    number = _int(request.query_params.get("page"), "page", 1)
    found = worklist.work_list(
        app.database,
        who,
        app.clock.today(),
        section=section or None,
        municipality=municipality or None,
        state=state or None,
        sort=sort,
        descending=order == "desc",
        page=number,
    )
    return page(request, "worklist.html", who, work=found, section=section, order=order)


def _agreement(
    request: Request,
    ref: str,
    who: Viewer,
    *,
    status: int = 200,
    refused: dict[str, Any] | None = None,
) -> HTMLResponse:
    app = application(request)
    found = acting.agreement_page(app.database, who, ref, app.clock.today())
    forms = [step_form(s) for s in found["my_steps"]]
    done = request.query_params.get("done")
    return page(
        request,
        "agreement.html",
        who,
        status=status,
        a=found,
        forms=forms,
        refused=refused,
        done=done,
    )


@router.post("/agreements/{ref:path}/steps/{trigger}")
async def fire_step(request: Request, ref: str, trigger: str, who: Person) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    version = form.get("version")
    target = form.get("target") if isinstance(form.get("target"), str) else ""
    try:
        data = form_data(trigger, form)
        expected = _int(version if isinstance(version, str) else None, "version", -1)
        result = await run_in_threadpool(
            lambda: acting.act(
                app.database,
                who,
                ref,
                trigger,
                data=data,
                expected_version=None if expected < 0 else expected,
                today=app.clock.today(),
                now=app.clock.now(),
                origin=web_origin(request),
                clock=app.clock,
            )
        )
    except NotFound:
        raise
    except IopError as error:
        refused: dict[str, Any] = {
            "trigger": trigger,
            "target": target,
            "message": str(error),
            "stale": isinstance(error, StaleUpdate),
        }
        status = status_of(error)
        return await run_in_threadpool(
            lambda: _agreement(request, ref, who, status=status, refused=refused)
        )
    return RedirectResponse(f"/agreements/{result.agreement_id}?done={trigger}", status_code=303)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio_page(request: Request, who: Person) -> HTMLResponse:
    if who.role not in PORTFOLIO_ROLES:
        return page(
            request,
            "error.html",
            who,
            status=403,
            code=403,
            title="Inte tillåtet",
            message="Portföljen visas för chefer, nämndsekreterare och revisorer.",
        )
    app = application(request)
    found = report.portfolio(app.database, app.clock.today(), clock=app.clock)
    scope = found.scopes.get(who.municipality or "overall") or report.Scope(
        who.municipality or "overall"
    )
    rows = [
        {"year": year, **{k: int(scope.money[year][k]) for k in MONEY_KINDS}}
        for year in sorted(scope.money)
    ]
    return page(
        request,
        "portfolio.html",
        who,
        scope=scope,
        as_of=found.as_of,
        chart=money_chart_svg(rows),
        money=money_table_rows(rows),
        horizon=report.HORIZON_DAYS,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, who: Person, q: str = "") -> HTMLResponse:
    hits = search.search(application(request).database, who, q)
    return page(request, "search.html", who, q=q, hits=hits)


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(request: Request, who: Person) -> HTMLResponse:
    return page(request, "calendar.html", who, address=None)


@router.post("/calendar", response_class=HTMLResponse)
async def calendar_create(request: Request, who: Person) -> HTMLResponse:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    if form.get("action") == "revoke":
        count = await run_in_threadpool(
            lambda: calendar_feed.revoke_feeds(app.database, who.name, now=app.clock.now())
        )
        return page(request, "calendar.html", who, address=None, revoked=count)
    secret = await run_in_threadpool(
        lambda: calendar_feed.create_feed(app.database, who.name, now=app.clock.now())
    )
    address = f"{app.settings.base_url.rstrip('/')}/calendar/{secret}.ics"
    return page(request, "calendar.html", who, address=address)


@router.get("/calendar/{secret}.ics")
def calendar_ics(request: Request, secret: str) -> Response:
    app = application(request)
    body = calendar_feed.feed_for_secret(
        app.database, secret, today=app.clock.today(), base_url=app.settings.base_url
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="iop-frister.ics"'},
    )


@router.get("/agreements/{ref:path}/audit/verify", response_class=HTMLResponse)
def audit_verify_page(request: Request, ref: str, who: Person) -> HTMLResponse:
    from ...service.audit import verify_audit

    app = application(request)
    found = acting.seen(app.database, who, ref)
    verdict = verify_audit(app.database)
    return page(request, "verify.html", who, a=found, verdict=verdict)


# Last: `ref` may hold slashes (a diarienummer), so the routes with a suffix go first.
@router.get("/agreements/{ref:path}", response_class=HTMLResponse)
def agreement_page(request: Request, ref: str, who: Person) -> HTMLResponse:
    return _agreement(request, ref, who)
