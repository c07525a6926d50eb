"""The inventory from the broker's bulk extension (``GET /v1/x/outbound/inventory``), when offered.

The extension answers token metadata only (never an access or refresh token) with the owner's
name, email and tenant, a page at a time; after the first page the rest are asked in parallel.
Whether a target offers it is learned once by asking for one row: a 404 means it does not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from functools import partial

from dashboard.descope import (
    DashboardError,
    DescopeClient,
    ManagedToken,
    NotFound,
    Unauthorized,
    mapping,
    number,
    text,
)
from dashboard.inventory.records import Connection, Failure, InventoryQuery
from dashboard.inventory.scan import Scan, Task

PATH = "/v1/x/outbound/inventory"
BULK_PAGE_SIZE = 500

_offered: dict[tuple[str, str], bool] = {}
_offered_lock = threading.Lock()


def offers_bulk_inventory(client: DescopeClient) -> bool:
    """Whether the target serves the bulk inventory extension (asked once per target)."""
    key = (client.base_url, client.project_id)
    with _offered_lock:
        known = _offered.get(key)
    if known is not None:
        return known
    try:
        client.call("GET", PATH, management=True, params={"limit": "1"})
        offered = True
    except (NotFound, Unauthorized):
        offered = False  # Descope cloud: no such endpoint
    except DashboardError:
        return False  # unknown for now (down, throttled): fan out this time, ask again later
    with _offered_lock:
        _offered[key] = offered
    return offered


def connection_from_bulk(data: Mapping[str, object]) -> Connection:
    """One entry of the extension's ``tokens`` as a Connection (metadata only)."""
    return Connection(
        token=ManagedToken.from_api(data).without_secrets(),
        user_name=text(data.get("userName")),
        user_email=text(data.get("userEmail")),
        user_login_id=text(data.get("userLoginId")),
        tenant_name=text(data.get("tenantName")),
    )


class Bulk:
    """The tasks of one bulk inventory: page 0 first, then the other pages in parallel."""

    def __init__(
        self, client: DescopeClient, query: InventoryQuery, scan: Scan, page_size: int
    ) -> None:
        self.client = client
        self.query = query
        self.scan = scan
        self.page_size = page_size

    def first_tasks(self) -> list[Task]:
        """One task per user asked for (each their own pages), or page 0 of everyone."""
        if self.query.user_ids:
            return [partial(self.page, 0, user_id) for user_id in self.query.user_ids]
        return [partial(self.page, 0, "")]

    def page(self, number_: int, user_id: str) -> Iterable[Task]:
        """One page of token metadata → the remaining pages (from page 0)."""
        params = {"page": str(number_), "limit": str(self.page_size)}
        for name, value in (
            ("appId", self.query.app_id),
            ("userText", self.query.user_text),
            ("userId", user_id),
        ):
            if value:
                params[name] = value
        try:
            data = mapping(
                self.scan.polite(
                    lambda: self.client.call("GET", PATH, management=True, params=params)
                )
            )
        except DashboardError as exc:
            self.scan.failed(
                Failure(step="inventory", sentence=f"Page {number_ + 1}: {exc}", user_id=user_id)
            )
            return []
        items = data.get("tokens")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            found = connection_from_bulk(item)
            if found.token.is_tenant_token and not self.query.include_tenants:
                continue
            self.scan.found(found)
        if number_ != 0:
            return []
        total = int(number(data.get("total")) or 0)
        pages = -(-total // self.page_size)
        return [partial(self.page, p, user_id) for p in range(1, pages)]
