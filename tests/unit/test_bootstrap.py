"""The composition root: one Settings, one Database, one clock per process; every IOP_
variable a field of `Settings`; one decorator mapping errors to exit codes."""

from __future__ import annotations

import inspect
import re
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from iop_workflow import bootstrap
from iop_workflow.clock import SYSTEM_CLOCK, Clock
from iop_workflow.config import Settings, debug_enabled, get_settings
from iop_workflow.domain.errors import (
    InvalidInput,
    IopError,
    NotFound,
    RuleViolation,
    StaleUpdate,
)

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "iop_workflow", ROOT / "flows", ROOT / "deployments"]
# `${NAME}` placeholders of the apprise YAML named in docstrings: not settings.
PLACEHOLDERS = {"IOP_SMTP_PASSWORD", "IOP_TEAMS_WORKFLOW", "IOP_TEAMS_SIGNATURE"}


def _python_files() -> list[Path]:
    return sorted(p for folder in SOURCES for p in folder.rglob("*.py"))


def test_build_makes_the_database_of_its_settings_and_the_system_clock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    app = bootstrap.build(Settings(database_url=url))
    assert app.settings.database_url == url
    assert app.database.url.render_as_string(hide_password=False) == url
    assert app.clock is SYSTEM_CLOCK
    assert app.targets is None  # no IOP_APPRISE_CONFIG: nothing is sent
    fixed = Clock(fixed_day=app.clock.today())
    assert bootstrap.build(Settings(database_url=url), clock=fixed).clock is fixed
    app.database.dispose()


def test_the_process_builds_its_app_once_until_the_settings_are_read_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_url = f"sqlite:///{tmp_path / 'first.db'}"
    monkeypatch.setenv("IOP_DATABASE_URL", first_url)
    get_settings.cache_clear()
    found: list[bootstrap.App] = []
    threads = [threading.Thread(target=lambda: found.append(bootstrap.app())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app = bootstrap.app()
    assert all(a is app for a in found)
    assert app.settings is get_settings()
    assert app.database.url.render_as_string(hide_password=False) == first_url

    monkeypatch.setenv("IOP_DATABASE_URL", f"sqlite:///{tmp_path / 'second.db'}")
    assert bootstrap.app() is app  # the settings were read once: the same App
    get_settings.cache_clear()
    again = bootstrap.app()
    assert again is not app
    assert again.database.url.database == str(tmp_path / "second.db")


def test_the_cli_and_the_flows_take_the_database_and_clock_of_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iop_workflow.entrypoints.cli import support as cli_support
    from iop_workflow.orchestration import runtime

    monkeypatch.setenv("IOP_DATABASE_URL", f"sqlite:///{tmp_path / 'iop.db'}")
    get_settings.cache_clear()
    app = bootstrap.app()
    assert cli_support.database() is app.database
    assert runtime.database() is app.database
    assert cli_support.clock() is app.clock
    assert runtime.clock() is app.clock
    assert runtime.business_day(None) == app.clock.today()


def test_every_iop_variable_the_code_names_is_a_settings_field() -> None:
    named = {
        name
        for path in _python_files()
        for name in re.findall(r"\bIOP_[A-Z][A-Z0-9_]*\b", path.read_text(encoding="utf-8"))
    }
    fields = {f"IOP_{field.upper()}" for field in Settings.model_fields}
    assert {"IOP_DATABASE_URL", "IOP_DEBUG", "IOP_PREFECT_PORT"} <= fields
    assert named - PLACEHOLDERS - fields == set()


def test_only_config_reads_an_iop_variable_from_the_environment() -> None:
    read = re.compile(
        r"""environ(\.get\(|\[)\s*["']IOP_|["']IOP_\w+["']\s+(not\s+)?in\s+\S*environ|getenv\(\s*["']IOP_"""
    )
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if read.search(line)
    ]
    assert readers == []


@pytest.mark.parametrize(
    ("value", "on"), [(None, False), ("", False), ("1", True), ("0", True), ("yes", True)]
)
def test_iop_debug_is_on_for_any_non_empty_value_as_always(
    value: str | None, on: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is not None:
        monkeypatch.setenv("IOP_DEBUG", value)
    get_settings.cache_clear()
    assert Settings().debug is on
    assert debug_enabled() is on


def test_iop_debug_is_read_even_when_another_setting_is_invalid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IOP_PREFECT_PORT", "not a port")
    monkeypatch.setenv("IOP_DEBUG", "1")
    get_settings.cache_clear()
    assert debug_enabled() is True


def _command_raising(error: BaseException) -> typer.Typer:
    from iop_workflow.entrypoints.cli.support import handles_errors

    cli = typer.Typer()

    @cli.command()
    @handles_errors
    def command(name: str, count: int = 1) -> None:
        """Help of the command itself."""
        raise error

    assert list(inspect.signature(command).parameters) == ["name", "count"]
    assert command.__doc__ == "Help of the command itself."
    return cli


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (InvalidInput("bad day"), 2, "error: bad day\n"),
        (NotFound("no such agreement"), 4, "error: no such agreement\n"),
        (RuleViolation("not now"), 3, "error: refused: not now\n"),
        (StaleUpdate("agreement 7"), 3, f"error: refused: {StaleUpdate('agreement 7')}\n"),
        (IopError("broken"), 1, "error: broken\n"),
        (
            KeyError("x"),
            1,
            "error: unexpected KeyError: 'x' (set IOP_DEBUG=1 for details)\n",
        ),
        (typer.Exit(3), 3, ""),
    ],
)
def test_handles_errors_maps_each_error_to_its_exit_code_and_message(
    error: BaseException, code: int, message: str
) -> None:
    result = CliRunner().invoke(_command_raising(error), ["anna", "--count", "2"])
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr == message


def test_handles_errors_lets_an_unexpected_error_through_with_iop_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IOP_DEBUG", "1")
    get_settings.cache_clear()
    result = CliRunner().invoke(_command_raising(KeyError("x")), ["anna"])
    assert isinstance(result.exception, KeyError)


def test_the_commands_take_the_decorator_not_the_context_manager() -> None:
    folder = ROOT / "iop_workflow" / "entrypoints" / "cli"
    for name in ("main.py", "flow_commands.py", "notify_commands.py", "step_commands.py"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "with handled()" not in text, name
        assert "@handles_errors" in text, name
