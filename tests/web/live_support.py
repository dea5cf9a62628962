"""What the real-browser walks share: a free loopback port, a real SMTP server
(aiosmtpd) that keeps what it receives, an apprise file sending e-mail to it, and the
web application served by uvicorn in a thread whose log must hold no traceback."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller

from iop_workflow.bootstrap import App
from iop_workflow.entrypoints.web.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """A real SMTP server (aiosmtpd) on loopback; keeps every message it is given."""

    port: int
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in str(m["To"])]


@contextmanager
def running_inbox() -> Iterator[Inbox]:
    box = Inbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def apprise_file(folder: Path, inbox: Inbox) -> Path:
    path = folder / "apprise.yaml"
    path.write_text(
        "version: 1\nurls:\n"
        f'  - "mailto://127.0.0.1:{inbox.port}?from=IOP Mjölby <iop@example.com>":\n'
        "      tag: email\n",
        encoding="utf-8",
    )
    return path


@dataclass
class WebServer:
    url: str
    app: App
    log: io.StringIO


@contextmanager
def serving(app: App, port: int) -> Iterator[WebServer]:
    """`app` served on 127.0.0.1:`port` until the block ends; then its log is checked."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "fastapi")]
    for logger in loggers:
        logger.addHandler(handler)
    server = uvicorn.Server(
        uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="info")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web server did not start"
    try:
        yield WebServer(f"http://127.0.0.1:{port}", app, log)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for logger in loggers:
            logger.removeHandler(handler)
        assert "Traceback" not in log.getvalue(), log.getvalue()
