"""Where the product database is when none is configured: never where `iop` happens to
be started (issue 8).

Every `iop` here runs as a subprocess without IOP_DATABASE_URL and with HOME,
XDG_DATA_HOME and the data folder in this test's temporary folder; the checkout and
installed cases run a copy of the package. Nothing can reach the project's own
var/iop.db or the user's home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runner import iop_command

from iop_workflow.config import checkout_root, data_folder, database_location

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IOP_", "XDG_"))}
    env |= {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    return env | extra


def _iop(command: list[str], cwd: Path, env: dict[str, str], *args: str) -> str:
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, encoding="utf-8", timeout=180
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
    return done.stdout


def _info(command: list[str], cwd: Path, env: dict[str, str]) -> Any:
    return json.loads(_iop(command, cwd, env, "db", "info", "--json"))


def test_iop_uses_the_same_database_from_any_working_folder(tmp_path: Path) -> None:
    env = _env(tmp_path, IOP_DATA_DIR=str(tmp_path / "data"))
    here, there = tmp_path / "here", tmp_path / "there" / "deeper"
    expected = tmp_path / "data" / "iop.db"

    before = _info(iop_command(), here, env)
    assert (before["file"], before["exists"], before["source"]) == (str(expected), False, "default")
    assert "IOP_DATA_DIR" in before["reason"]
    _iop(iop_command(), here, env, "db", "upgrade")
    _iop(iop_command(), here, env, "import", str(EXAMPLES / "mjolby.yaml"))

    listed = json.loads(_iop(iop_command(), there, env, "agreements", "--json"))
    info = _info(iop_command(), there, env)
    assert info["file"] == str(expected) and info["exists"]
    assert info["agreements"] == len(listed) > 0
    assert info["revision"]["up_to_date"] and info["revision"]["current"]
    text = _iop(iop_command(), there, env, "db", "info")
    assert f"file        {expected}" in text and "at head" in text
    assert not (here / "var").exists() and not (there / "var").exists()

    # IOP_DATABASE_URL wins over the default, from wherever.
    other = tmp_path / "other.db"
    env_url = env | {"IOP_DATABASE_URL": f"sqlite:///{other}"}
    _iop(iop_command(), here, env_url, "db", "upgrade")
    info = _info(iop_command(), there, env_url)
    assert (info["file"], info["source"], info["agreements"]) == (str(other), "IOP_DATABASE_URL", 0)
    assert json.loads(_iop(iop_command(), here, env_url, "agreements", "--json")) == []
    assert "set by IOP_DATABASE_URL" in _iop(iop_command(), there, env_url, "db", "info")


def _copy_package(parent: Path) -> list[str]:
    """The package copied into `parent` (with a pyproject.toml beside it); the command
    that runs the copy's CLI."""
    parent.mkdir(parents=True)
    shutil.copytree(
        ROOT / "iop_workflow", parent / "iop_workflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", parent / "pyproject.toml")
    return [sys.executable, "-m", "iop_workflow.entrypoints.cli"]


def test_a_checkout_uses_its_var_folder_and_an_installed_package_the_user_data_folder(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "checkout"
    command = _copy_package(checkout)
    env = _env(tmp_path, PYTHONPATH=str(checkout))
    first = _info(command, tmp_path / "a", env)
    assert first["file"] == str(checkout / "var" / "iop.db"), "runs the copy, not the project"
    assert first["source"] == "default" and str(checkout) in first["reason"]
    _iop(command, tmp_path / "a", env, "db", "upgrade")
    assert json.loads(_iop(command, tmp_path / "b", env, "agreements", "--json")) == []
    second = _info(command, tmp_path / "b", env)
    assert second["file"] == first["file"] and second["exists"]

    site = tmp_path / "lib" / "site-packages"
    command = _copy_package(site)  # a pyproject.toml beside it does not make it a checkout
    env = _env(tmp_path, PYTHONPATH=str(site))
    installed = _info(command, tmp_path / "a", env)
    assert installed["file"] == str(tmp_path / "xdg" / "iop-workflow" / "iop.db")
    assert "XDG_DATA_HOME" in installed["reason"]
    del env["XDG_DATA_HOME"]
    home = _info(command, tmp_path / "b", env)
    assert home["file"] == str(tmp_path / "home" / ".local" / "share" / "iop-workflow" / "iop.db")


def test_the_rule_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "iop_workflow").mkdir(parents=True)
    assert checkout_root(project / "iop_workflow") is None  # no pyproject.toml
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    assert checkout_root(project / "iop_workflow") == project
    monkeypatch.delenv("IOP_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    user = data_folder(package_dir=tmp_path / "site-packages" / "iop_workflow")
    assert user.where == str(tmp_path / "home" / ".local" / "share" / "iop-workflow")
    assert data_folder(package_dir=project / "iop_workflow").where == str(project / "var")
    monkeypatch.setenv("IOP_DATABASE_URL", " postgresql+psycopg://iop:secret@db.example/iop ")
    assert database_location().where == "postgresql+psycopg://iop:secret@db.example/iop"


def test_db_info_hides_the_password_of_an_unreachable_server(tmp_path: Path) -> None:
    url = "postgresql+psycopg://iop:s3cret-pw@127.0.0.1:1/iop"
    done = subprocess.run(
        [*iop_command(), "db", "info"],
        cwd=tmp_path,
        env=_env(tmp_path, IOP_DATABASE_URL=url),
        capture_output=True,
        encoding="utf-8",
        timeout=180,
    )
    assert done.returncode == 1, done
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert "iop:***@127.0.0.1:1/iop" in done.stderr and "IOP_DATABASE_URL" in done.stderr
