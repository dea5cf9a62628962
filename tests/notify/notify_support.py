"""Real receivers for the notification tests: an SMTP server and an HTTPS endpoint.

Nothing is mocked: apprise talks SMTP to aiosmtpd and HTTPS (self-signed) to a
`http.server`, and the tests read what arrived.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://iop.mjolby.example"
DNR = "OSN 2024/0087"  # its 2026 report is due 2027-03-31
ORGANISATION = "leila.haddad@samtalsjouren.example"
OFFICER = "anna.berg@mjolby.example"
MANAGER = "karin.lund@mjolby.example"
SECRETARY = "per.sandberg@mjolby.example"
REMINDER_DAY = date(2027, 3, 1)  # 30 days before the report is due


def at(day: date, hour: int = 6) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def email_config(port: int) -> str:
    return f"""
version: 1
urls:
  - "mailto://127.0.0.1:{port}?from=IOP Mjölby <iop@example.com>":
      tag: email
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Received:
    rcpt_tos: list[str]
    mail_from: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Mailbox:
    """An SMTP server on a loopback port; `start()` and `stop()` may be called again."""

    port: int
    received: list[Received] = field(default_factory=list)
    tls: ssl.SSLContext | None = None
    password: str | None = None  # with a password: AUTH required, only this one accepted
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.received.append(
            Received(list(envelope.rcpt_tos), str(envelope.mail_from), envelope.content)
        )
        return "250 OK"

    def _authenticate(self, *args: Any) -> AuthResult:
        *_, mechanism, data = args
        ok = self.password is not None and getattr(data, "password", b"") == (
            self.password.encode()
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> Mailbox:
        auth: dict[str, Any] = {}
        if self.password is not None:
            auth = {"authenticator": self._authenticate, "auth_required": True}
            auth["auth_require_tls"] = self.tls is not None
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, tls_context=self.tls, **auth
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


@dataclass
class TeamsEndpoint:
    """An HTTPS server standing in for Power Automate: it keeps every JSON body posted."""

    cert: tuple[Path, Path]
    fail_first: int = 0  # answer 500 to this many requests first
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    server: HTTPServer | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> TeamsEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                if endpoint.fail_first > 0:
                    endpoint.fail_first -= 1
                    self.send_response(500)
                else:
                    endpoint.posts.append((self.path, body))
                    self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self.cert)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def cards(self) -> list[dict[str, Any]]:
        return [body["attachments"][0]["content"] for _, body in self.posts]
