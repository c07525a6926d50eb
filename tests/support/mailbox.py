"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives: the tests' mailbox.

``start_mailbox()`` returns a running ``Mailbox``; ``mailbox.url`` is what ``OUTBOUND_SMTP_URL``
should be. It can require a login (``credentials=``), refuse every recipient (``refuse``), or
hold each message until ``release()`` (a slow server). The module-scoped ``mailbox`` fixture
is one server per test module; tests tell their messages apart by recipient.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from broker.crypto import Secret
from tests.support.servers import free_port

CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class _Handler:
    received: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse: bool = False
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        while not self.gate.is_set():  # a slow server: the broker's send waits here
            await asyncio.sleep(0.05)
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 Message accepted"


@dataclass
class Mailbox:
    """A running SMTP server and what it received."""

    port: int
    handler: _Handler
    controller: Controller
    credentials: tuple[str, str] | None = None

    @property
    def url(self) -> str:
        """``smtp://[user:password@]127.0.0.1:port`` (credentials percent-encoded)."""
        auth = ""
        if self.credentials:
            user, password = (quote(part, safe="") for part in self.credentials)
            auth = f"{user}:{password}@"
        return f"smtp://{auth}127.0.0.1:{self.port}"

    @property
    def logins(self) -> list[tuple[str, str]]:
        """The (user, password) pairs clients logged in with."""
        return self.handler.logins

    def messages_to(self, address: str) -> list[EmailMessage]:
        """Every message received for ``address``, oldest first."""
        return [m for m in self.handler.received if address in str(m["To"])]

    def latest_code(self, address: str, timeout_s: float = 10) -> str:
        """The six-digit code in the newest message to ``address`` (waits for one to arrive)."""
        deadline = time.monotonic() + timeout_s
        while not self.messages_to(address):
            if time.monotonic() > deadline:
                raise AssertionError(f"no email reached {address}")
            time.sleep(0.05)
        body = self.messages_to(address)[-1].get_content()
        found = CODE.search(body)
        assert found, body
        return found.group(1)

    def refuse(self, on: bool = True) -> None:
        """Answer 550 to every recipient (or stop doing so)."""
        self.handler.refuse = on

    def hold(self) -> None:
        """Keep the next messages waiting in DATA until ``release()``."""
        self.handler.gate.clear()

    def release(self) -> None:
        """Let held messages through."""
        self.handler.gate.set()

    def stop(self) -> None:
        """Stop the server."""
        self.release()
        self.controller.stop()


def start_mailbox(credentials: tuple[str, str] | None = None) -> Mailbox:
    """An SMTP server on a free loopback port; with ``credentials``, AUTH is required."""
    handler = _Handler()
    extra: dict[str, Any] = {}
    if credentials:

        def authenticate(
            server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
        ) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False)
            pair = (data.login.decode(), data.password.decode())
            handler.logins.append(pair)
            return AuthResult(success=pair == credentials)

        extra = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    return Mailbox(port=port, handler=handler, controller=controller, credentials=credentials)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    """One loopback SMTP server for the test module."""
    box = start_mailbox()
    try:
        yield box
    finally:
        box.stop()


# The three ways a broker can be set up for email codes, as tests parametrize over them.
DELIVERY_MODES = ("demo mode", "smtp", "no mail server")


def delivery(mode: str, mailbox: Mailbox) -> tuple[dict[str, Any], dict[str, str]]:
    """Broker settings and dashboard environment for one of ``DELIVERY_MODES``."""
    if mode == "demo mode":
        return {"demo_mode": True}, {"OUTBOUND_DEMO_MODE": "1"}
    if mode == "smtp":
        return {"smtp_url": Secret(mailbox.url)}, {}
    return {}, {}
