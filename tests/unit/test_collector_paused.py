"""A run pauses Python's cycle collector while it works and leaves it as it found it,
however the run ends: a process that serves the web for months must not be left
collecting nothing after one failed run."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from iop_workflow.service.setwise import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_paused_during_the_run_and_resumed_after_it() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failed_run_resumes_the_collector() -> None:
    gc.enable()
    with pytest.raises(RuntimeError, match="the run failed"), collector_paused():
        raise RuntimeError("the run failed")
    assert gc.isenabled()


def test_a_collector_paused_before_the_run_stays_paused() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_two_runs_at_once_resume_it_when_the_first_one_ends() -> None:
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    second.__exit__(None, None, None)
    assert not gc.isenabled()  # the first run still works
    first.__exit__(None, None, None)
    assert gc.isenabled()
