"""Shared test set-up: a clean environment for every test, and small factories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a developer's IOP_* settings."""
    import os

    for key in list(os.environ):
        if key.startswith("IOP_"):
            monkeypatch.delenv(key)
    from iop_workflow.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
