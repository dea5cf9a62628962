"""The HTTP status of each service-layer error: the CLI's exit codes, as HTTP. Shared by
the error handlers (app.py) and the pages that show a refusal on the form."""

from __future__ import annotations

from ...domain.errors import InvalidInput, IopError, NotFound, NotPermitted, StaleUpdate
from ...service.access import ReadOnly


def status_of(error: IopError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotPermitted | ReadOnly):
        return 403
    if isinstance(error, StaleUpdate):
        return 409
    return 409  # refused by a rule
