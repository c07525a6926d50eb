"""Identity objects parsed at the edge: Descope's UserResponse, JWTResponse and OTP answers.

Parsing is lenient where the wire varies (reference §4.2): optional fields may be missing or
``null``, numbers may arrive as strings, and ``refreshJwt`` may be absent on refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def _float(value: Any) -> float | None:
    """A number or numeric string (Descope sends both), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class UserTenant:
    """A user's membership of one tenant, with the roles held there."""

    tenant_id: str
    tenant_name: str
    role_names: tuple[str, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> UserTenant:
        """Parse one ``userTenants`` entry."""
        return cls(
            tenant_id=_str(data.get("tenantId")),
            tenant_name=_str(data.get("tenantName")),
            role_names=_strs(data.get("roleNames")),
        )


@dataclass(frozen=True)
class User:
    """Descope's UserResponse, the fields the dashboard uses."""

    user_id: str
    login_ids: tuple[str, ...]
    name: str
    email: str
    status: str
    role_names: tuple[str, ...]
    tenants: tuple[UserTenant, ...]

    @property
    def display_name(self) -> str:
        """The name to show: name, else email, else the first login id, else the id."""
        return self.name or self.email or next(iter(self.login_ids), "") or self.user_id

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> User:
        """Parse a UserResponse (bare from ``/v1/auth/me``, or the ``user`` of a JWTResponse)."""
        return cls(
            user_id=_str(data.get("userId")),
            login_ids=_strs(data.get("loginIds")),
            name=_str(data.get("name")),
            email=_str(data.get("email")),
            status=_str(data.get("status")) or "enabled",
            role_names=_strs(data.get("roleNames")),
            tenants=tuple(
                UserTenant.from_api(t)
                for t in data.get("userTenants") or []
                if isinstance(t, Mapping)
            ),
        )


@dataclass(frozen=True)
class AuthResult:
    """A JWTResponse: what sign-in, OTP verify and refresh answer."""

    session_jwt: str
    refresh_jwt: str | None
    user: User | None
    first_seen: bool
    session_expiration: float | None

    def __repr__(self) -> str:
        who = self.user.user_id if self.user else "?"
        return f"AuthResult(user={who!r}, session_jwt='***', refresh_jwt='***')"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AuthResult:
        """Parse a JWTResponse; ``refreshJwt`` and ``user`` may be missing (refresh)."""
        user = data.get("user")
        return cls(
            session_jwt=_str(data.get("sessionJwt")),
            refresh_jwt=_str(data.get("refreshJwt")) or None,
            user=User.from_api(user) if isinstance(user, Mapping) and user else None,
            first_seen=bool(data.get("firstSeen")),
            session_expiration=_float(data.get("sessionExpiration")),
        )


@dataclass(frozen=True)
class OtpStarted:
    """The answer to starting an email OTP: where the code went (masked)."""

    masked_email: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OtpStarted:
        """Parse ``{maskedEmail}``."""
        return cls(masked_email=_str(data.get("maskedEmail")))


@dataclass(frozen=True)
class OutboxMessage:
    """A message the embedded broker would have sent (its local outbox extension)."""

    login_id: str
    address: str
    subject: str
    code: str
    created_at: float | None

    def __repr__(self) -> str:
        return f"OutboxMessage(login_id={self.login_id!r}, subject={self.subject!r}, code='***')"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutboxMessage:
        """Parse one outbox entry."""
        return cls(
            login_id=_str(data.get("loginId")),
            address=_str(data.get("to")) or _str(data.get("address")),
            subject=_str(data.get("subject")),
            code=_str(data.get("code")),
            created_at=_float(data.get("createdAt") or data.get("createdTime")),
        )


def parse_outbox(data: Any) -> tuple[OutboxMessage, ...]:
    """Outbox entries (newest first) from ``{messages: [...]}`` or a bare list."""
    items = data.get("messages") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        return ()
    return tuple(OutboxMessage.from_api(m) for m in items if isinstance(m, Mapping))
