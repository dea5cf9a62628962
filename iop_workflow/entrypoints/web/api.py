"""`/api/v1`: agreements for other systems (the diarium, the financial system).

A bearer token from `iop tokens create NAME` acts as that person: the same
authorization as their pages. Errors are `application/problem+json` with the CLI's
message: 400/422 bad input, 401 no or a dead token, 403 role, 404 not found or not
yours, 409 refused by a rule or stale.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from ...domain.roles import Origin
from ...service import acting, search
from ...service.access import Viewer
from ...service.identity import viewer_for_token
from ...service.views import agreement_audit, agreement_timeline
from .session import application

router = APIRouter(prefix="/api/v1", tags=["agreements"])
_bearer = HTTPBearer(auto_error=False, description="A token from `iop tokens create NAME`")


def token_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Viewer:
    app = application(request)
    found = None
    if credentials is not None:
        found = viewer_for_token(app.database, credentials.credentials, now=app.clock.now())
    if found is None:
        raise HTTPException(
            401,
            "a live bearer token is needed (iop tokens create NAME)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


Caller = Annotated[Viewer, Depends(token_viewer)]


def _api_origin(request: Request) -> Origin:
    return Origin("api", None, request.client.host if request.client else None)


@router.get("/agreements", summary="The agreements this person may see")
def list_agreements(
    request: Request,
    who: Caller,
    state: str | None = None,
    municipality: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found: dict[str, Any] = search.agreement_list(
        application(request).database,
        who,
        state=state,
        municipality=municipality,
        page=page,
        per_page=per_page,
    )
    return found


@router.get("/agreements/{ref:path}/timeline", summary="Its deadlines with their statuses")
def timeline(request: Request, ref: str, who: Caller) -> list[dict[str, Any]]:
    app = application(request)
    seen = acting.seen(app.database, who, ref)
    return agreement_timeline(app.database, str(seen["id"]), app.clock.today())


@router.get("/agreements/{ref:path}/audit", summary="Its audit trail")
def audit(request: Request, ref: str, who: Caller) -> list[dict[str, Any]]:
    app = application(request)
    seen = acting.seen(app.database, who, ref)
    return agreement_audit(app.database, str(seen["id"]))


@router.get("/agreements/{ref:path}/payouts", summary="Its payouts, each with its gate")
def payouts(request: Request, ref: str, who: Caller) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = acting.seen(application(request).database, who, ref)["payouts"]
    return found


@router.post(
    "/agreements/{ref:path}/steps/{trigger}",
    summary="Fire a step as the token's person",
    description="The body is the step's typed input (`iop steps TRIGGER` describes it), "
    'e.g. {"year": 2027} for a follow-up step. `expected_version` (optional): the '
    "agreement's version the caller read; another version answers 409.",
)
def fire(
    request: Request,
    ref: str,
    trigger: str,
    who: Caller,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    app = application(request)
    data = dict(body or {})
    expected = data.pop("expected_version", None)
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        from ...domain.errors import InvalidInput

        raise InvalidInput("must be a whole number", field="expected_version")
    result = acting.act(
        app.database,
        who,
        ref,
        trigger,
        data=data,
        expected_version=expected,
        today=app.clock.today(),
        now=app.clock.now(),
        origin=_api_origin(request),
        clock=app.clock,
    )
    return {
        "agreement_id": result.agreement_id,
        "diarienummer": result.diarienummer,
        "state": result.state,
        "changes": [
            {
                "entity": c.entity,
                "entity_key": c.entity_key,
                "trigger": c.trigger,
                "from": c.from_state,
                "to": c.to_state,
            }
            for c in result.changes
        ],
    }


# Last: `ref` may hold slashes (a diarienummer, "OSN 2024/0087"), so the routes with a
# suffix must be tried first.
@router.get("/agreements/{ref:path}", summary="One agreement, whole")
def one_agreement(request: Request, ref: str, who: Caller) -> dict[str, Any]:
    return acting.seen(application(request).database, who, ref)
