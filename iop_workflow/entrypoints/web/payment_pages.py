"""The payment pages (*Utbetalningar*): a municipality's batches, preparing one, and each
batch's steps: attest, reject, the bank's payment file (pain.001), the ledger's vouchers
(SIE) and paid. Each calls the service layer only; who sees and acts on which batch is
decided in service/payment_access.py, whether a step is allowed in
service/payment_batches.py (the same rules and messages as `iop payments`).

A step refused by a rule (attest by the person who prepared the batch, above the
attester's limit, a batch in the wrong state) shows the batch again, with status 409 and
the reason in an alert, and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...domain.errors import InvalidInput, IopError
from ...domain.payment_batch import move_problem
from ...domain.states import BatchState, Role
from ...service import payment_access
from ...service.access import Viewer
from ...service.payment_batches import (
    attest_batch,
    prepare_batch,
    record_batch_paid,
    reject_batch,
)
from ...service.payment_export import export_batch
from .render import templates
from .session import application, check_csrf, csrf_token, viewer, web_origin
from .statuses import status_of

router = APIRouter(include_in_schema=False)
TEMPLATES = templates()
Person = Annotated[Viewer, Depends(viewer)]

BATCH_STATES = {
    "prepared": "Förberedd",
    "attested": "Attesterad",
    "rejected": "Avvisad",
    "exported": "Exporterad",
    "paid": "Betald",
}
PAYEE_KINDS = {"bankgiro": "Bankgiro", "plusgiro": "Plusgiro", "bank_account": "Bankkonto"}
HELD_REASONS = {"no confirmed payment details": "inga bekräftade betalningsuppgifter"}
DONE = {
    "prepare": "Bunten är skapad. Den ska attesteras av någon annan än du.",
    "attest": "Bunten är attesterad.",
    "reject": "Bunten är avvisad. Dess utbetalningar kan tas med i en senare bunt.",
    "paid": "Bunten är registrerad som betald.",
}
# The file each format gives: its media type and what the button says.
FILES = {
    "pain001": ("application/xml", "Ladda ner betalfil (pain.001)"),
    "sie": ("text/plain; charset=cp437", "Ladda ner verifikationer (SIE)"),
}
ACTING_ROLES = frozenset({Role.OFFICER, Role.MANAGER, Role.SECRETARY})


def _batch_state(value: str | None) -> str:
    return "" if value is None else BATCH_STATES.get(value, value)


def _payee(value: str | None) -> str:
    """ "bankgiro 5050-1055" as "Bankgiro 5050-1055"."""
    kind, _, number = (value or "").partition(" ")
    return f"{PAYEE_KINDS.get(kind, kind)} {number}".strip()


def _held_reason(value: str | None) -> str:
    return "" if value is None else HELD_REASONS.get(value, value)


TEMPLATES.env.filters.update(batch_state=_batch_state, payee=_payee, held_reason=_held_reason)


def _page(
    request: Request, name: str, who: Viewer, status: int = 200, **values: Any
) -> HTMLResponse:
    context = {"viewer": who, "csrf_token": csrf_token(request), **values}
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _payments(request: Request, who: Viewer, **values: Any) -> HTMLResponse:
    app = application(request)
    today = app.clock.today()
    return _page(
        request,
        "payments.html",
        who,
        batches=payment_access.batches_for(app.database, who),
        waiting=payment_access.waiting_payouts(app.database, who, today),
        may_prepare=who.role in ACTING_ROLES and who.municipality is not None,
        today=today,
        **values,
    )


@router.get("/payments", response_class=HTMLResponse)
def payments_page(request: Request, who: Person) -> HTMLResponse:
    return _payments(request, who)


@router.post("/payments/batches", response_class=HTMLResponse)
async def prepare(request: Request, who: Person) -> Response:
    form = await request.form()
    check_csrf(request, form)
    payment_access.refuse_preparing(who)
    app = application(request)
    try:
        result = await run_in_threadpool(
            lambda: prepare_batch(
                app.database,
                as_of=app.clock.today(),
                actor_name=who.name,
                now=app.clock.now(),
                municipality=who.municipality,
                origin=web_origin(request),
            )
        )
    except IopError as error:
        status, message = status_of(error), str(error)
        if status in (403, 404):
            raise
        return await run_in_threadpool(
            lambda: _payments(request, who, status=status, refused=message)
        )
    if result.batch_id is not None:
        return RedirectResponse(f"/payments/batches/{result.batch_id}?done=prepare", 303)
    return await run_in_threadpool(lambda: _payments(request, who, nothing=result))


def _steps(who: Viewer, state: str) -> dict[str, bool]:
    """Which of the batch's forms this person is offered in `state`: the steps the
    batch's state allows, for staff who change things (never an auditor)."""
    acts = who.role in ACTING_ROLES
    now = BatchState(state)
    allowed = {step: acts and move_problem(step, now) is None for step in ("attest", "reject")}
    exported = now in (BatchState.EXPORTED, BatchState.PAID)
    return {
        **allowed,
        "pain001": acts and move_problem("export", now) is None,
        "sie": acts and exported,
        "paid": acts and move_problem("pay", now) is None,
    }


def _batch(
    request: Request, who: Viewer, batch_id: int, *, status: int = 200, **values: Any
) -> HTMLResponse:
    app = application(request)
    found = payment_access.batch_for(app.database, who, batch_id)
    done = request.query_params.get("done")
    return _page(
        request,
        "payment_batch.html",
        who,
        status=status,
        b=found,
        steps=_steps(who, str(found["state"])),
        files=FILES,
        done=DONE.get(done or ""),
        today=app.clock.today(),
        **values,
    )


@router.get("/payments/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(request: Request, batch_id: int, who: Person) -> HTMLResponse:
    return _batch(request, who, batch_id)


async def _act(
    request: Request, who: Viewer, batch_id: int, step: str, form: Any, call: Any
) -> Response:
    """Run `call` (the step) for a batch `who` may act on; a refusal shows the batch
    again with the reason, a success goes back to it."""
    app = application(request)
    await run_in_threadpool(lambda: payment_access.acting_on_batch(app.database, who, batch_id))
    try:
        result = await run_in_threadpool(call)
    except IopError as error:
        status = status_of(error)
        if status in (403, 404):
            raise
        refused = {"step": step, "message": str(error)}
        given = {k: v for k, v in form.items() if k in ("reason", "paid_on")}
        return await run_in_threadpool(
            lambda: _batch(request, who, batch_id, status=status, refused=refused, given=given)
        )
    if isinstance(result, Response):
        return result
    return RedirectResponse(f"/payments/batches/{batch_id}?done={step}", status_code=303)


@router.post("/payments/batches/{batch_id}/attest")
async def attest(request: Request, batch_id: int, who: Person) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    return await _act(
        request,
        who,
        batch_id,
        "attest",
        form,
        lambda: attest_batch(
            app.database,
            batch_id,
            actor_name=who.name,
            today=app.clock.today(),
            now=app.clock.now(),
            origin=web_origin(request),
        ),
    )


@router.post("/payments/batches/{batch_id}/reject")
async def reject(request: Request, batch_id: int, who: Person) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    reason = form.get("reason")
    return await _act(
        request,
        who,
        batch_id,
        "reject",
        form,
        lambda: reject_batch(
            app.database,
            batch_id,
            actor_name=who.name,
            reason=reason if isinstance(reason, str) else "",
            today=app.clock.today(),
            now=app.clock.now(),
            origin=web_origin(request),
        ),
    )


def _day(value: Any, field: str) -> date:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("give a date (YYYY-MM-DD)", field=field)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date (YYYY-MM-DD)", field=field) from None


@router.post("/payments/batches/{batch_id}/paid")
async def paid(request: Request, batch_id: int, who: Person) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)
    today = app.clock.today()
    return await _act(
        request,
        who,
        batch_id,
        "paid",
        form,
        lambda: record_batch_paid(
            app.database,
            batch_id,
            paid_on=_day(form.get("paid_on"), "paid_on"),
            actor_name=who.name,
            today=today,
            now=app.clock.now(),
            origin=web_origin(request),
        ),
    )


def file_response(content: bytes, media_type: str, name: str) -> Response:
    """A file to save, never to show in the page."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/payments/batches/{batch_id}/export")
async def export(
    request: Request,
    batch_id: int,
    who: Person,
    fmt: Annotated[str, Query(alias="format")] = "pain001",
) -> Response:
    form = await request.form()
    check_csrf(request, form)
    app = application(request)

    def write() -> Response:
        found = export_batch(
            app.database,
            batch_id,
            fmt=fmt,
            actor_name=who.name,
            today=app.clock.today(),
            now=app.clock.now(),
            origin=web_origin(request),
        )
        media_type = FILES[found.format][0]
        return file_response(found.content, media_type, found.suggested_name)

    return await _act(request, who, batch_id, f"export-{fmt}", form, write)
