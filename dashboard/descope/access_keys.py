"""Access keys for agents (Descope ``/v1/mgmt/accesskey/*``) and the broker's agent-call figures.

Keys are created with the management key for the signed-in user only (``userId`` = theirs) and
listed by ``boundUserId``; the cleartext comes back once, wrapped in a ``Secret``. Figures come
from the broker extension ``GET /v1/x/agents/calls/summary`` (admins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.parsing import mapping, number, text, texts, timestamp
from dashboard.descope.secret import Secret


@dataclass(frozen=True)
class AccessKey:
    """An access key as the management API describes it (never its secret)."""

    id: str
    name: str
    active: bool
    expires: datetime | None
    created: datetime | None
    last_used: datetime | None
    app_ids: tuple[str, ...]

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AccessKey:
        """Parse one key object (``expireTime`` 0 means it never expires)."""
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            active=text(data.get("status")) == "active",
            expires=timestamp(data.get("expireTime")),
            created=timestamp(data.get("createdTime")),
            last_used=timestamp(data.get("lastUsedTime")),
            app_ids=texts(data.get("appIds")),
        )


@dataclass(frozen=True)
class AppAgentCalls:
    """Agent calls to one app and how many failed, with the latest failure's outcome."""

    app_id: str
    calls: int
    failures: int
    last_failure: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AppAgentCalls:
        """Parse one entry of ``{apps:[…]}``."""
        last = mapping(data.get("lastFailure"))
        return cls(
            app_id=text(data.get("appId")),
            calls=int(number(data.get("calls")) or 0),
            failures=int(number(data.get("failures")) or 0),
            last_failure=text(last.get("outcome")),
        )


def create_access_key(
    client: DescopeClient,
    user_id: str,
    name: str,
    *,
    expire_time: int = 0,
    app_ids: Sequence[str] = (),
) -> tuple[AccessKey, Secret]:
    """A new key bound to ``user_id``; its cleartext (shown once)."""
    body: dict[str, Any] = {"name": name, "userId": user_id, "expireTime": expire_time}
    if app_ids:
        body["appIds"] = list(app_ids)
    data = mapping(
        client.call("POST", "/v1/mgmt/accesskey/create", management=True, json_body=body)
    )
    return AccessKey.from_api(mapping(data.get("key"))), Secret(text(data.get("cleartext")))


def user_access_keys(client: DescopeClient, user_id: str) -> tuple[AccessKey, ...]:
    """The keys bound to ``user_id``, newest first."""
    data = mapping(
        client.call(
            "POST",
            "/v1/mgmt/accesskey/search",
            management=True,
            json_body={"boundUserId": user_id},
        )
    )
    items = data.get("keys")
    keys = (
        [AccessKey.from_api(k) for k in items if isinstance(k, Mapping)]
        if isinstance(items, list)
        else []
    )
    return tuple(keys)


def delete_access_key(client: DescopeClient, key_id: str) -> None:
    """Delete a key for good (the sessions it was exchanged for end at once)."""
    client.call("POST", "/v1/mgmt/accesskey/delete", management=True, json_body={"id": key_id})


def agent_calls(client: DescopeClient, days: int = 7) -> tuple[AppAgentCalls, ...]:
    """Agent calls per app over the last ``days`` (the broker checks the admin role)."""
    data = mapping(
        client.call(
            "GET",
            "/v1/x/agents/calls/summary",
            as_user="session",
            params={"days": str(days)},
        )
    )
    items = data.get("apps")
    if not isinstance(items, list):
        return ()
    return tuple(AppAgentCalls.from_api(a) for a in items if isinstance(a, Mapping))
