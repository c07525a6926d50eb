"""The demo provider's directory: its people, their passwords, and the scopes it knows."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

ScopeName = Literal["profile", "email", "calendar.read", "calendar.write", "offline_access"]
SCOPES: dict[ScopeName, str] = {
    "profile": "Read your name and account id.",
    "email": "Read your email address.",
    "calendar.read": "See the events on your calendar.",
    "calendar.write": "Create and change events on your calendar.",
    "offline_access": "Stay connected when you are away (a refresh token).",
}
DEFAULT_SCOPE = "profile"
DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class DemoUser:
    """A person with an Acme Calendar account."""

    id: str
    name: str
    email: str

    def get_user_id(self) -> str:
        """The subject (``sub``) of the tokens issued for this person (Authlib's user protocol)."""
        return self.id


USERS: tuple[DemoUser, ...] = (
    DemoUser("acme-user-1001", "Alex Rivera", "alex@acme.test"),
    DemoUser("acme-user-1002", "Sam Chen", "sam@acme.test"),
    DemoUser("acme-user-1003", "Jordan Patel", "jordan@acme.test"),
    # The dashboard's demo accounts (broker/seed.py): its sign-in hint lands on the same person.
    DemoUser("acme-user-1004", "Dana Developer", "dana@acme.test"),
    DemoUser("acme-user-1005", "Ada Admin", "admin@acme.test"),
)
DEFAULT_USER = USERS[0]


def user_by_id(user_id: str) -> DemoUser | None:
    """The demo user with this id, if any."""
    return next((u for u in USERS if u.id == user_id), None)


def user_by_email(email: str) -> DemoUser | None:
    """The demo user with this email (case-insensitive), if any."""
    wanted = email.strip().lower()
    return next((u for u in USERS if u.email == wanted), None)


def sign_in(email: str, password: str) -> DemoUser | None:
    """The demo user these credentials belong to (every demo account's password is ``demo``)."""
    user = user_by_email(email)
    if user is None or not hmac.compare_digest(password.encode(), DEMO_PASSWORD.encode()):
        return None
    return user
