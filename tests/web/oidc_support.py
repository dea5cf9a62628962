"""A real OpenID Connect provider for the browser tests: oidc-provider (Node) on loopback.

    with running_oidc_provider([ACCOUNT], "http://127.0.0.1:8000/auth/callback") as idp:
        idp.issuer, idp.client_id, idp.client_secret

Accounts are {"sub", "email", "name", "password"}; the sign-in form takes the sub or the
email in `login`. The provider and its form are tests/web_support/oidc_provider.mjs.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "web_support"
STARTUP_SECONDS = 30


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    _log: list[str] = field(default_factory=list, repr=False)

    def log_text(self) -> str:
        """Everything the provider printed (stdout and stderr), so tests can assert on it."""
        return "".join(self._log)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_node_deps() -> None:
    if not (SUPPORT / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([str(ROOT / "scripts" / "ensure-node-deps")], check=True)


@contextlib.contextmanager
def running_oidc_provider(
    accounts: list[dict[str, str]],
    redirect_uri: str,
    *,
    client_id: str = "iop-web",
    client_secret: str | None = None,
) -> Iterator[OidcProvider]:
    ensure_node_deps()
    port = free_port()
    secret = client_secret or secrets.token_urlsafe(24)
    config = {
        "port": port,
        "clients": [
            {"client_id": client_id, "client_secret": secret, "redirect_uris": [redirect_uri]}
        ],
        "accounts": accounts,
    }
    with tempfile.TemporaryDirectory(prefix="iop-oidc-") as tmp:
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps(config))
        proc = subprocess.Popen(
            ["node", str(SUPPORT / "oidc_provider.mjs"), str(config_path)],
            cwd=SUPPORT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        idp = OidcProvider(f"http://127.0.0.1:{port}", client_id, secret)
        ready = threading.Event()

        # A reader thread, so the pipe never fills and the log is complete at any time.
        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                idp._log.append(line)
                if line.startswith("READY "):
                    ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not ready.wait(0.1):
                if proc.poll() is not None or time.monotonic() > deadline:
                    reader.join(2)
                    raise RuntimeError(
                        f"the OIDC provider did not start (exit {proc.poll()}):\n" + idp.log_text()
                    )
            yield idp
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            reader.join(5)
