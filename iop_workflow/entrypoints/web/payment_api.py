"""`/api/v1/payment-batches`: payment batches for other systems (the financial system,
the bank integration), as the token's person.

The same rules as the pages and `iop payments`: a person sees and acts on the batches
of their own municipality only (service/payment_access.py; another municipality's
batch is 404 like a missing one), an auditor reads and changes nothing (403), and a
step a rule refuses (attest by the person who prepared the batch, above the attester's
limit, a batch in the wrong state) is 409 `application/problem+json` with the CLI's
message, and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain.roles import Origin
from ...service import payment_access
from ...service.payment_batches import attest_batch, prepare_batch, reject_batch
from ...service.payment_export import export_batch
from .api import Caller
from .payment_pages import FILES, file_response
from .session import application

router = APIRouter(prefix="/api/v1", tags=["payments"])


def _api_origin(request: Request) -> Origin:
    return Origin("api", None, request.client.host if request.client else None)


class NewBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date | None = Field(
        default=None,
        description="Take the payouts released on or before this day (default: today); "
        "the batch is paid on the first banking day from it.",
    )


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the batch is sent back (kept in the audit trail).")


@router.get("/payment-batches", summary="The payment batches this person may see, newest first")
def list_payment_batches(request: Request, who: Caller) -> list[dict[str, Any]]:
    return payment_access.batches_for(application(request).database, who)


@router.post(
    "/payment-batches",
    summary="Collect the released payouts into a new batch",
    description="Every released payout of the person's municipality that is in no batch "
    "and goes to an organisation with confirmed payment details. 201 with the batch; "
    "200 with `batch` null when nothing waits. `held`: the payouts kept out, with why.",
    status_code=201,
)
def create_payment_batch(
    request: Request,
    who: Caller,
    response: Response,
    body: Annotated[NewBatch | None, Body()] = None,
) -> dict[str, Any]:
    app = application(request)
    payment_access.refuse_preparing(who)
    as_of = (body.as_of if body else None) or app.clock.today()
    app.clock.refuse_future(as_of, record="payment batch")
    result = prepare_batch(
        app.database,
        as_of=as_of,
        actor_name=who.name,
        now=app.clock.now(),
        municipality=who.municipality,
        origin=_api_origin(request),
    )
    if result.batch_id is None:
        response.status_code = 200
    return {
        "municipality": result.municipality,
        "batch": result.batch_id,
        "items": result.item_count,
        "total_ore": result.total_ore,
        "held": [h.__dict__ for h in result.held],
    }


@router.get("/payment-batches/{batch_id}", summary="One batch with its payouts")
def one_payment_batch(request: Request, batch_id: int, who: Caller) -> dict[str, Any]:
    return payment_access.batch_for(application(request).database, who, batch_id)


@router.post(
    "/payment-batches/{batch_id}/attest",
    summary="Attest a prepared batch",
    description="By someone with the attest right for the batch's municipality, who did "
    "not prepare it, for a total within their limit; otherwise 409.",
)
def attest_payment_batch(request: Request, batch_id: int, who: Caller) -> dict[str, Any]:
    app = application(request)
    payment_access.acting_on_batch(app.database, who, batch_id)
    return attest_batch(
        app.database,
        batch_id,
        actor_name=who.name,
        today=app.clock.today(),
        now=app.clock.now(),
        origin=_api_origin(request),
    )


@router.post(
    "/payment-batches/{batch_id}/reject",
    summary="Send a batch back before it is exported",
    description="Its payouts go free for a later batch.",
)
def reject_payment_batch(
    request: Request, batch_id: int, who: Caller, body: Rejection
) -> dict[str, Any]:
    app = application(request)
    payment_access.acting_on_batch(app.database, who, batch_id)
    return reject_batch(
        app.database,
        batch_id,
        actor_name=who.name,
        reason=body.reason,
        today=app.clock.today(),
        now=app.clock.now(),
        origin=_api_origin(request),
    )


@router.get(
    "/payment-batches/{batch_id}/pain001",
    summary="The batch's payment file (ISO 20022 pain.001.001.03)",
    description="Validated against the XSD. The first call for an attested batch marks "
    "it exported; every later call gives the same bytes, so a lost file can be fetched "
    "again without paying twice.",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
def payment_file(request: Request, batch_id: int, who: Caller) -> Response:
    app = application(request)
    payment_access.acting_on_batch(app.database, who, batch_id)
    found = export_batch(
        app.database,
        batch_id,
        fmt="pain001",
        actor_name=who.name,
        today=app.clock.today(),
        now=app.clock.now(),
        origin=_api_origin(request),
    )
    return file_response(found.content, FILES["pain001"][0], found.suggested_name)
