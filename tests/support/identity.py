"""Users and their JWTs for tests, made straight through the broker's store and session service."""

from __future__ import annotations

from dataclasses import dataclass

from broker.identity.sessions import start_session
from broker.project.credentials import new_id
from broker.store.db import now_s
from broker.store.identity import LoginId, User
from tests.support.servers import LiveBroker


@dataclass(frozen=True)
class SignedInUser:
    """A user with a live sign-in session."""

    user_id: str
    login_id: str
    session_jwt: str
    refresh_jwt: str


def sign_in_new_user(
    live: LiveBroker, login_id: str | None = None, roles: list[str] | None = None
) -> SignedInUser:
    """Create an enabled user and open a session for it, bypassing the sign-in endpoints."""
    user_id = new_id("U")
    login = login_id or f"{user_id.lower()}@example.test"
    t = int(now_s())
    with live.broker.db.session() as s:
        s.add(
            User(
                id=user_id,
                name=login.split("@")[0],
                email=login if "@" in login else "",
                role_names=roles or [],
                custom_attributes={},
                created_time=t,
                modified_time=t,
            )
        )
        s.flush()
        s.add(LoginId(login_id=login, user_id=user_id))
    return new_session(live, user_id, login)


def new_session(live: LiveBroker, user_id: str, login_id: str) -> SignedInUser:
    """Open another session for an existing user (as a fresh sign-in would)."""
    issued = start_session(live.broker, user_id, ["pwd"])
    return SignedInUser(user_id, login_id, issued.session_jwt, issued.refresh_jwt)
