"""The signed-in session: a typed, verified JWT pair and its lifecycle, free of Streamlit.

``Session`` is replaced whole on refresh. ``needs_refresh(now, leeway)`` is the pure predicate
the keeper fragment asks (tested with a fixed clock); ``call_refreshing`` retries a call once
after a 401, with a refreshed session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from dashboard.descope import auth
from dashboard.descope.errors import SessionExpired, Unauthorized
from dashboard.descope.keys import KeySet
from dashboard.descope.models import AuthResult, User
from dashboard.descope.transport import Transport
from dashboard.settings import Secret

T = TypeVar("T")
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


def refresh_session(transport: Transport, keys: KeySet, session: Session, *, now: float) -> Session:
    """A new Session from the refresh JWT (keeping it when the answer has none)."""
    result = auth.refresh(transport, session.refresh_jwt.reveal())
    return open_session(
        keys, result, now=now, refresh_jwt=session.refresh_jwt.reveal(), user=session.user
    )


def restore_session(transport: Transport, keys: KeySet, refresh_jwt: str, *, now: float) -> Session:
    """A Session from a remembered refresh JWT alone (after a reload or an OAuth round trip)."""
    try:
        keys.verify(refresh_jwt, drn="DSR")
    except Unauthorized as exc:
        raise SessionExpired() from exc
    result = auth.refresh(transport, refresh_jwt)
    user = result.user or auth.me(transport, refresh_jwt)
    return open_session(keys, result, now=now, refresh_jwt=refresh_jwt, user=user)


def call_refreshing(
    session: Session,
    call: Callable[[Session], T],
    renew: Callable[[Session], Session],
) -> T:
    """Run ``call``; after a 401 (other than an ended session), renew once and run it again."""
    try:
        return call(session)
    except SessionExpired:
        raise
    except Unauthorized:
        return call(renew(session))
