"""Sign-in sessions: minting the DS/DSR pair and checking a session was not logged out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.errors import TokenExpiredByLogout, Unauthorized
from broker.identity.users import user_response
from broker.store.db import now_s
from broker.store.identity import RefreshSession, User, UserTenant


@dataclass(frozen=True)
class IssuedSession:
    """A freshly minted session JWT and refresh JWT with their expiries (Unix seconds)."""

    session_jwt: str
    refresh_jwt: str
    session_exp: int
    refresh_exp: int


def _claims_for(broker: Broker, user: User, tenants: list[UserTenant]) -> dict[str, Any]:
    return {
        "iss": broker.project_id,
        "sub": user.id,
        "roles": list(user.role_names or []),
        "permissions": [],
        "tenants": {
            t.tenant_id: {"roles": list(t.role_names or []), "permissions": []} for t in tenants
        },
    }


def start_session(broker: Broker, user_id: str, amr: list[str]) -> IssuedSession:
    """Open a new sign-in session for ``user_id`` and mint its DS/DSR pair."""
    t = int(now_s())
    sid = secrets.token_urlsafe(16)
    with broker.db.session() as s:
        s.add(
            RefreshSession(
                id=sid,
                user_id=user_id,
                created_at=t,
                expires_at=t + broker.settings.refresh_ttl_s,
                amr=amr,
            )
        )
    return mint_pair(
        broker, user_id, sid=sid, amr=amr, refresh_exp=t + broker.settings.refresh_ttl_s
    )


def mint_pair(
    broker: Broker, user_id: str, *, sid: str, amr: list[str], refresh_exp: int
) -> IssuedSession:
    """Mint a session JWT (short) and a refresh JWT (the session's lifetime) for ``sid``."""
    t = int(now_s())
    with broker.db.session() as s:
        user = s.get(User, user_id)
        if user is None or user.status != "enabled":
            raise Unauthorized("User is not active")
        tenants = list(s.scalars(select(UserTenant).where(UserTenant.user_id == user_id)))
        base = _claims_for(broker, user, tenants)
    session_exp = t + broker.settings.session_ttl_s
    common = {**base, "iat": t, "amr": amr, "sid": sid}
    # A jti makes every minted token distinct, even two refreshes within one second.
    session_jwt = broker.signing.mint(
        {**common, "exp": session_exp, "drn": "DS", "jti": secrets.token_urlsafe(12)}
    )
    refresh_jwt = broker.signing.mint(
        {**common, "exp": refresh_exp, "drn": "DSR", "jti": secrets.token_urlsafe(12)}
    )
    return IssuedSession(session_jwt, refresh_jwt, session_exp, refresh_exp)


def check_session_live(broker: Broker, claims: dict[str, Any]) -> None:
    """401 unless the JWT's sign-in session is live and its user active (one indexed read).

    Every route a user's JWT opens goes through here, so deactivating a user, or ending its
    sessions (logout, a new password, a role taken away), shuts every door at once.
    """
    sid = claims.get("sid")
    if not isinstance(sid, str):
        raise Unauthorized("Invalid token: no session")
    with broker.db.session() as s:
        row = s.execute(
            select(RefreshSession.user_id, RefreshSession.revoked_at, User.status)
            .join(User, User.id == RefreshSession.user_id)
            .where(RefreshSession.id == sid)
        ).first()
    if row is None or row.user_id != claims.get("sub"):
        raise Unauthorized("Invalid token: unknown session")
    if row.revoked_at is not None:
        raise TokenExpiredByLogout("Token expired by logout")
    if row.status != "enabled":
        raise Unauthorized("User is not active")


def end_session(broker: Broker, sid: str) -> None:
    """Log out one session."""
    with broker.db.session() as s:
        row = s.get(RefreshSession, sid)
        if row is not None and row.revoked_at is None:
            row.revoked_at = now_s()


def end_all_sessions(broker: Broker, user_id: str) -> None:
    """Log out every session of a user."""
    with broker.db.session() as s:
        revoke_sessions(s, user_id)


def revoke_sessions(s: Session, user_id: str) -> None:
    """End every live session of ``user_id`` inside the caller's transaction (one UPDATE)."""
    s.execute(
        update(RefreshSession)
        .where(RefreshSession.user_id == user_id, RefreshSession.revoked_at.is_(None))
        .values(revoked_at=now_s())
    )


def jwt_response(
    broker: Broker, user_id: str, issued: IssuedSession, *, first_seen: bool
) -> dict[str, Any]:
    """Descope's JWTResponse for a freshly minted pair (reference §4.2)."""
    with broker.db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise Unauthorized("User no longer exists")
        body = user_response(s, user)
    return {
        "sessionJwt": issued.session_jwt,
        "refreshJwt": issued.refresh_jwt,
        "cookieDomain": "",
        "cookiePath": "/",
        "cookieMaxAge": max(0, issued.refresh_exp - int(now_s())),
        "cookieExpiration": issued.refresh_exp,
        "cookieName": "DSR",
        "user": body,
        "firstSeen": first_seen,
        "sessionExpiration": issued.session_exp,
    }


def sign_in(broker: Broker, user_id: str, amr: list[str]) -> dict[str, Any]:
    """Open a session for a user who proved who they are; the JWTResponse to answer with."""
    with broker.db.session() as s:
        user = s.get(User, user_id)
        if user is None or user.status != "enabled":
            raise Unauthorized("User is not active")
        first_seen = user.last_login_time is None
        user.last_login_time = int(now_s())
    return jwt_response(broker, user_id, start_session(broker, user_id, amr), first_seen=first_seen)


def refresh(broker: Broker, claims: dict[str, Any]) -> dict[str, Any]:
    """A new session JWT for a live refresh JWT's session; the refresh JWT stays valid."""
    with broker.db.session() as s:
        row = s.get(RefreshSession, claims["sid"])
        if row is None:
            raise Unauthorized("Invalid token: unknown session")
        amr, refresh_exp = list(row.amr), int(row.expires_at)
    issued = mint_pair(
        broker, str(claims["sub"]), sid=claims["sid"], amr=amr, refresh_exp=refresh_exp
    )
    return jwt_response(broker, str(claims["sub"]), issued, first_seen=False)
