"""Email over SMTP: where ``OUTBOUND_SMTP_URL`` points, one message per call, a clear error.

The URL names the server and, optionally, the account:

- ``smtps://[user:password@]host[:port]`` — TLS from the first byte (port 465 by default);
- ``smtp://[user:password@]host[:port]`` — STARTTLS whenever the server offers it (port 587 by
  default). A code is a key to an account: without STARTTLS, a message (and a login) goes only
  to a loopback server (a local relay on this machine), and the send fails otherwise.

Certificates are verified against the system's trust store. ``smtplib`` blocks, so callers run
it off the event loop: the OTP routes are plain ``def`` endpoints, which FastAPI runs in its
thread pool (tests/broker/test_identity_mail.py proves the broker keeps answering meanwhile).
Every failure — refused, unreachable, timed out, rejected recipient — is ``EmailNotSent``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from broker.config import StartupRefused, is_loopback_host
from broker.crypto import Secret
from broker.errors import EmailNotSent, InvalidArguments

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
TIMEOUT_S = 15.0
DEFAULT_SENDER = "Outbound Dashboard <no-reply@localhost>"


@dataclass(frozen=True)
class SmtpServer:
    """A parsed ``OUTBOUND_SMTP_URL``; the password stays a Secret."""

    implicit_tls: bool
    host: str
    port: int
    username: str
    password: Secret

    @classmethod
    def from_url(cls, url: Secret) -> SmtpServer:
        """Parse the URL; StartupRefused (no secret in its text) when it cannot be used."""
        try:
            parts = urlsplit(url.reveal().strip())
            port = parts.port
        except ValueError as exc:  # a port that is not a number, or out of range
            raise StartupRefused("OUTBOUND_SMTP_URL has an invalid port.") from exc
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise StartupRefused(
                "OUTBOUND_SMTP_URL must look like smtp://[user:password@]host[:port] or smtps://…"
            )
        return cls(
            implicit_tls=parts.scheme == "smtps",
            host=parts.hostname,
            port=port or DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username or ""),
            password=Secret(unquote(parts.password or "")),
        )

    @property
    def label(self) -> str:
        """``host:port``, for messages and logs (never the credentials)."""
        return f"{self.host}:{self.port}"

    def _open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_S, context=context)
        client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S)
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif not is_loopback_host(self.host):
            client.close()
            raise EmailNotSent(
                f"The mail server {self.label} offers no STARTTLS; a code is not sent across "
                "the network in clear (use smtps://, or a relay on this machine)."
            )
        return client

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; EmailNotSent when the server does not accept it for every recipient."""
        try:
            with self._open() as client:
                if self.username:
                    client.login(self.username, self.password.reveal())
                refused = client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise EmailNotSent(
                f"The mail server {self.label} did not take the message ({type(exc).__name__})."
            ) from exc
        if refused:
            raise EmailNotSent(f"The mail server {self.label} refused the recipient.")


def code_message(sender: str, to: str, code: str, ttl_s: int) -> EmailMessage:
    """The sign-in code email: the code, how long it lasts, what to do if it was not you."""
    message = EmailMessage()
    try:
        message["From"] = sender or DEFAULT_SENDER
        message["To"] = to
    except ValueError as exc:  # a line break in an address: a header injection, never sent
        raise InvalidArguments("The email address cannot be used") from exc
    message["Subject"] = "Your sign-in code"
    message.set_content(
        f"Your sign-in code is {code}\n\n"
        f"It works once, for {ttl_s // 60} minutes.\n"
        "If you did not ask for it, ignore this email: nobody can sign in without the code.\n"
    )
    return message
