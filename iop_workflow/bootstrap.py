"""The composition root: the one place that builds what the product runs on.

The CLI (`entrypoints.cli.support`), the flows (`orchestration.runtime`) and `deployments/` take the
settings, the product database and the clock from `app()`: one `Settings` read from the
environment, one `Database` (one engine) for it, one clock, for the life of the process.
A test builds its own with `build(Settings(...))`.

Databases that are deliberately not the product's own (the copy `iop simulate` walks,
the demo's file, `iop db info` looking at a file it must not create, the migrations'
environment) are built where they are needed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from .adapters.db import Database, default_database_url
from .clock import SYSTEM_CLOCK, Clock
from .config import Settings, document_folder, get_settings

if TYPE_CHECKING:
    from .adapters.document_store import DocumentStore
    from .notify.targets import Targets


@dataclass(frozen=True)
class App:
    """What one process runs on. `clock` gives the moment and the system's day (a service
    given no clock still frees it on a sandbox database, `service.system_day`)."""

    settings: Settings
    database: Database
    clock: Clock = SYSTEM_CLOCK

    @cached_property
    def targets(self) -> Targets | None:
        """The notification targets of `settings.apprise_config` (None when unset),
        loaded on first use: a broken configuration must not stop a command that sends
        nothing. Raises `NotificationConfigError` when the configuration is broken."""
        from .notify.targets import load_targets

        return load_targets(self.settings)

    @cached_property
    def documents(self) -> DocumentStore:
        """The document store of `settings` (a folder; `config.document_folder`)."""
        from .adapters.document_store import folder_store

        return folder_store(document_folder(self.settings))


def build(settings: Settings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> App:
    """A new App on `settings` (default: the environment, read now). Not shared: each
    call builds its own database engine."""
    settings = Settings() if settings is None else settings
    return App(settings=settings, database=Database(default_database_url(settings)), clock=clock)


_lock = threading.Lock()  # flow tasks run in threads: build the process's App once
_current: App | None = None


def app() -> App:
    """The process's App, on `config.get_settings()`: built on first use, then the same
    one, until the settings are read anew (`get_settings.cache_clear()`, as tests do)."""
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current.settings is not settings:
            _current = build(settings)
        return _current
