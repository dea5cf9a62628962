"""Errors of the notification layer."""

from __future__ import annotations

from ..domain.errors import IopError


class NotificationConfigError(IopError):
    """The apprise configuration cannot be used as it stands; the message names no secret."""
