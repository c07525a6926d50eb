"""Management reads for the token inventory: user search with paging, tenants (reference §5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.models import User
from dashboard.descope.parsing import mapping, number, text

USER_PAGE_SIZE = 100


@dataclass(frozen=True)
class UserPage:
    """One page of a user search and the total number of matching users."""

    users: tuple[User, ...]
    total: int
    page: int
    limit: int

    @property
    def pages(self) -> int:
        """How many pages the whole search has."""
        return max(1, -(-self.total // self.limit)) if self.limit else 1


@dataclass(frozen=True)
class Tenant:
    """A tenant of the project."""

    id: str
    name: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Tenant:
        """Parse one entry of ``{tenants:[…]}``."""
        return cls(id=text(data.get("id")), name=text(data.get("name")))


def search_users(
    client: DescopeClient,
    *,
    page: int = 0,
    limit: int = USER_PAGE_SIZE,
    text_filter: str = "",
    user_ids: Sequence[str] = (),
) -> UserPage:
    """One page (numbered from 0) of ``POST /v2/mgmt/user/search``."""
    body: dict[str, Any] = {"page": page, "limit": limit}
    if text_filter:
        body["text"] = text_filter
    if user_ids:
        body["userIds"] = list(user_ids)
    data = mapping(client.call("POST", "/v2/mgmt/user/search", management=True, json_body=body))
    items = data.get("users")
    users = (
        tuple(User.from_api(u) for u in items if isinstance(u, Mapping))
        if isinstance(items, list)
        else ()
    )
    total = number(data.get("total"))
    # Older answers have no total: then this page tells whether another may follow.
    known = int(total) if total is not None else page * limit + len(users) + (len(users) == limit)
    return UserPage(users=users, total=known, page=page, limit=limit)


def list_tenants(client: DescopeClient) -> tuple[Tenant, ...]:
    """Every tenant of the project (``GET /v1/mgmt/tenant/all``)."""
    data = mapping(client.call("GET", "/v1/mgmt/tenant/all", management=True))
    items = data.get("tenants")
    if not isinstance(items, list):
        return ()
    return tuple(Tenant.from_api(t) for t in items if isinstance(t, Mapping))
