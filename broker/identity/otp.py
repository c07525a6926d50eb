"""Email one-time codes: emailed, kept as a keyed digest, single use, few tries.

A code reaches its person one of two ways, and no other (docs/security.md, "Email codes and
demo mode"):

- through the SMTP server of ``OUTBOUND_SMTP_URL`` (``broker/project/mail.py``); a send that
  fails withdraws the code and answers 502 ``E061202``, so no code is ever live but lost;
- in demo mode only (``outbound up``, loopback only), into the local outbox, sealed at rest,
  which ``GET /v1/x/outbox`` opens to the holder of the management key.

With neither, asking for a code answers 501 ``E061201`` — for every login id alike, before any
lookup, so the answer still does not tell which ids exist.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.crypto import keyed_digest
from broker.errors import (
    TOO_MANY_OTP_ATTEMPTS,
    WRONG_OTP_CODE,
    EmailNotConfigured,
    EmailNotSent,
    Unauthorized,
)
from broker.project.mail import SmtpServer, code_message
from broker.store.db import now_s
from broker.store.identity import OtpCode, OutboxMessage

CODE_DIGITS = 6
CODE_TTL_S = 300
MAX_ATTEMPTS = 5
OUTBOX_KEEP_S = 24 * 3600
OUTBOX_LATEST = 10


class WrongCode(Unauthorized):
    """The code is wrong, expired or already used (401 E061102)."""

    code = WRONG_OTP_CODE
    description = "Invalid OTP code"


class TooManyAttempts(Unauthorized):
    """The code was guessed at too often and is burnt (401 E061103)."""

    code = TOO_MANY_OTP_ATTEMPTS
    description = "Too many OTP attempts"


@dataclass(frozen=True)
class VerifiedCode:
    """A code that matched; ``pending_user`` holds a sign-up's details, else None."""

    pending_user: dict[str, Any] | None


def mask_email(email: str) -> str:
    """``a***@example.com``: enough for a person to recognise the address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{email[:1]}***"


def _digest(broker: Broker, login_id: str, code: str) -> str:
    return keyed_digest(broker.ring.subkey("digest:otp-code"), f"{login_id}\x00{code}")


def require_delivery(broker: Broker) -> None:
    """Raise EmailNotConfigured unless a code can reach its person (SMTP, or the demo outbox)."""
    if broker.settings.smtp_url is None and not broker.settings.demo_mode:
        raise EmailNotConfigured(
            "This server cannot send email: set OUTBOUND_SMTP_URL (the demo of "
            "`outbound up` keeps codes in a local outbox instead)."
        )


def send_code(
    broker: Broker, login_id: str, email: str, pending_user: dict[str, Any] | None = None
) -> str:
    """Issue a new code for ``login_id`` (replacing any earlier one) and deliver it."""
    require_delivery(broker)
    settings = broker.settings
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    digest = _digest(broker, login_id, code)
    message = code_message(settings.smtp_from, email, code, CODE_TTL_S)
    t = now_s()
    with broker.db.session() as s:
        row = s.get(OtpCode, login_id)
        if row is None:
            row = OtpCode(login_id=login_id, created_at=t)
            s.add(row)
        row.digest = digest
        row.expires_at = t + CODE_TTL_S
        row.attempts = 0
        row.pending_user = pending_user
        row.created_at = t
        if settings.smtp_url is None:  # demo mode (require_delivery): the local outbox
            _into_outbox(broker, s, login_id, email, code, t)
    if settings.smtp_url is not None:
        # Sent after the commit: the SMTP exchange never holds a database transaction open.
        try:
            SmtpServer.from_url(settings.smtp_url).send(message)
        except EmailNotSent:
            _withdraw(broker, login_id, digest)
            raise
    return mask_email(email)


def _into_outbox(
    broker: Broker, s: Session, login_id: str, email: str, code: str, t: float
) -> None:
    message_id = secrets.token_hex(12)
    s.add(
        OutboxMessage(
            id=message_id,
            login_id=login_id,
            channel="email",
            address=email,
            subject="Your sign-in code",
            code_sealed=broker.ring.seal(code, context=f"outbox:{message_id}"),
            created_at=t,
        )
    )
    s.execute(delete(OutboxMessage).where(OutboxMessage.created_at < t - OUTBOX_KEEP_S))


def _withdraw(broker: Broker, login_id: str, digest: str) -> None:
    """Drop the code that could not be sent (unless a newer request replaced it meanwhile)."""
    with broker.db.session() as s:
        s.execute(delete(OtpCode).where(OtpCode.login_id == login_id, OtpCode.digest == digest))


def verify_code(broker: Broker, login_id: str, code: str) -> VerifiedCode:
    """Consume the live code of ``login_id`` if ``code`` matches; 401 E061102 / E061103 if not.

    The try is counted before the code is compared, in one statement, and a match is consumed
    by a delete that only one request can win: concurrent guesses get no extra tries, and two
    requests with the right code do not both sign in.
    """
    t = now_s()
    with broker.db.session() as s:
        row = s.execute(
            update(OtpCode)
            .where(OtpCode.login_id == login_id, OtpCode.expires_at > t)
            .values(attempts=OtpCode.attempts + 1)
            .returning(OtpCode.attempts, OtpCode.digest, OtpCode.pending_user)
        ).first()
        if row is None:
            raise WrongCode("Invalid or expired code")
        burnt = row.attempts >= MAX_ATTEMPTS
        matched = row.attempts <= MAX_ATTEMPTS and hmac.compare_digest(
            row.digest, _digest(broker, login_id, code.strip())
        )
        if matched or burnt:
            consumed = s.execute(
                delete(OtpCode).where(OtpCode.login_id == login_id, OtpCode.digest == row.digest)
            )
            if matched and getattr(consumed, "rowcount", 0) == 1:
                return VerifiedCode(pending_user=row.pending_user)
    # Raised after the commit above, so the attempt count (or the burnt code) is kept.
    if burnt:
        raise TooManyAttempts("Too many attempts; request a new code")
    raise WrongCode("Invalid or expired code")


def latest_messages(broker: Broker, login_id: str) -> list[dict[str, Any]]:
    """The newest outbox messages for ``login_id``, codes opened, newest first."""
    with broker.db.session() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.login_id == login_id)
            .order_by(OutboxMessage.created_at.desc())
            .limit(OUTBOX_LATEST)
        ).all()
    return [
        {
            "id": r.id,
            "loginId": r.login_id,
            "channel": r.channel,
            "to": r.address,
            "subject": r.subject,
            "code": broker.ring.unseal(r.code_sealed, context=f"outbox:{r.id}"),
            "createdTime": int(r.created_at),
        }
        for r in rows
    ]
