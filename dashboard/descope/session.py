"""The signed-in session: a typed, verified JWT pair and its lifecycle, free of Streamlit.

``Session`` is replaced whole on refresh. ``needs_refresh(now, leeway)`` is the pure predicate
the keeper fragment asks (tested with a fixed clock); ``open_session`` verifies a sign-in answer
into one. The client (``client.py``) owns the calls that start, renew and end it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dashboard.descope.errors import SessionExpired
from dashboard.descope.keys import KeySet
from dashboard.descope.models import AuthResult, User
from dashboard.descope.secret import Secret

REFRESH_LEEWAY_S = 60.0


def _project_roles(claims: dict[str, Any]) -> tuple[str, ...]:
    """The project-level roles (Descope's top-level ``roles`` claim), and only those.

    Roles held inside a tenant (``tenants.<id>.roles``) grant rights in that tenant only; the
    dashboard has no tenant-scoped view, so they grant nothing here (docs/security.md).
    """
    roles = [r for r in claims.get("roles") or [] if isinstance(r, str)]
    return tuple(dict.fromkeys(roles))


@dataclass(frozen=True)
class Session:
    """A verified session JWT, its refresh JWT, when it expires, who it is, its project roles."""

    session_jwt: Secret
    refresh_jwt: Secret
    expires_at: float
    user: User
    roles: tuple[str, ...]
    obtained_at: float

    def needs_refresh(self, now: float, leeway: float = REFRESH_LEEWAY_S) -> bool:
        """Whether the session JWT expires within ``leeway`` seconds of ``now``."""
        return now >= self.renews_at(leeway)

    def renews_at(self, leeway: float = REFRESH_LEEWAY_S) -> float:
        """When the keeper will renew it (Unix seconds)."""
        return self.expires_at - leeway

    def has_any_role(self, roles: Iterable[str]) -> bool:
        """Whether the session JWT carries one of ``roles`` at project level."""
        return not set(roles).isdisjoint(self.roles)


def open_session(
    keys: KeySet,
    result: AuthResult,
    *,
    now: float,
    refresh_jwt: str | None = None,
    user: User | None = None,
) -> Session:
    """Verify a JWTResponse and make it a Session (the old refresh JWT/user when not sent)."""
    claims = keys.verify(result.session_jwt)
    refresh = result.refresh_jwt or refresh_jwt
    who = result.user or user
    if not refresh or who is None:
        raise SessionExpired("The sign-in answer was incomplete; please sign in again.")
    keys.verify(refresh, drn="DSR")
    return Session(
        session_jwt=Secret(result.session_jwt),
        refresh_jwt=Secret(refresh),
        expires_at=float(claims["exp"]),
        user=who,
        roles=_project_roles(claims),
        obtained_at=now,
    )
