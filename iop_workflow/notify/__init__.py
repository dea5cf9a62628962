"""Notifications: the outbox rows delivered by e-mail and Microsoft Teams through apprise.

See docs/notifications.md. The flows call `deliver_pending` after their own work; the
CLI (`iop notify ...`, entrypoints/cli/notify_commands.py) calls the same functions.
"""

from __future__ import annotations

from .delivery import DeliveryReport, deliver_pending
from .errors import NotificationConfigError
from .preview import PreviewItem, list_notifications, preview
from .targets import Targets, load_targets, parse_targets

__all__ = [
    "DeliveryReport",
    "NotificationConfigError",
    "PreviewItem",
    "Targets",
    "deliver_pending",
    "list_notifications",
    "load_targets",
    "parse_targets",
    "preview",
]
