"""One filtered page of the inventory, with the broker's KPIs of everything the filter keeps.

With 100,000 tokens the tokens page cannot ship every row to the browser: it asks the broker's
inventory extension (``GET /v1/x/outbound/inventory``) for the page on screen, filtered and
counted by the database. ``fetch_inventory_page`` is that call; a target without the extension
(Descope's cloud: ``offers_bulk_inventory`` is false) has no server-side paging, and the page
falls back to ``collect_inventory``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from dashboard.descope import (
    DescopeClient,
    mapping,
    number,
)
from dashboard.inventory.bulk import PATH, connection_from_bulk
from dashboard.inventory.records import Connection

PAGE_SIZE = 100
EXPORT_PAGE_SIZE = 2000  # the endpoint's largest page
# The broker's ``status`` values a page may be filtered by (``broker.outbound.inventory_query``).
STATUSES = ("active", "expiring", "expired", "refresh_failed", "needs_reauth")
# Its finer ``detail`` values: the dashboard's own statuses (``TokenStatus``) but ``revoked``.
DETAILS = (
    "needs_reauth",
    "refresh_failed",
    "expired",
    "no_refresh_token",
    "refresh_due",
    "expiring_soon",
    "active",
)


@dataclass(frozen=True)
class PageQuery:
    """Which page, how large, and the filters (empty means "any"; texts are "contains")."""

    page: int = 0
    limit: int = PAGE_SIZE
    app_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    user_text: str = ""
    tenant_text: str = ""
    scope_text: str = ""
    user_id: str = ""
    with_kpis: bool = True
    soon_s: int | None = None  # the "expiring soon" window of ``details`` (default 24 h)
    margin_s: int | None = None  # the refresh margin (default the broker's)

    def params(self) -> dict[str, str | Sequence[str]]:
        """The query string of the call."""
        params: dict[str, str | Sequence[str]] = {
            "page": str(self.page),
            "limit": str(self.limit),
        }
        if self.with_kpis:
            params["kpis"] = "true"
        for name, many in (
            ("appId", self.app_ids),
            ("status", self.statuses),
            ("detail", self.details),
        ):
            if many:
                params[name] = list(many)
        for name, value in (
            ("userText", self.user_text),
            ("tenantText", self.tenant_text),
            ("scopeText", self.scope_text),
            ("userId", self.user_id),
        ):
            if value.strip():
                params[name] = value.strip()
        for name, seconds in (("soonS", self.soon_s), ("marginS", self.margin_s)):
            if seconds is not None:
                params[name] = str(seconds)
        return params


def _counts(value: object) -> dict[str, int]:
    return {str(k): int(number(v) or 0) for k, v in mapping(value).items()}


@dataclass(frozen=True)
class InventoryKpis:
    """The broker's numbers over every token the filter keeps (not only the page)."""

    connections: int
    users: int
    healthy: int
    failing: int
    expiring_24h: int
    ending_24h: int
    without_refresh_token: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_app: dict[str, int] = field(default_factory=dict)
    by_detail: dict[str, int] = field(default_factory=dict)  # the finer statuses the page shows

    @classmethod
    def from_api(cls, data: Mapping[str, object]) -> InventoryKpis:
        """From the answer's ``kpis`` object."""

        def count(name: str) -> int:
            return int(number(data.get(name)) or 0)

        return cls(
            connections=count("connections"),
            users=count("users"),
            healthy=count("healthy"),
            failing=count("failing"),
            expiring_24h=count("expiring24h"),
            ending_24h=count("ending24h"),
            without_refresh_token=count("withoutRefreshToken"),
            by_status=_counts(data.get("byStatus")),
            by_app=_counts(data.get("byApp")),
            by_detail=_counts(data.get("byDetail")),
        )

    @property
    def healthy_share(self) -> float | None:
        """Healthy over all connections; None when there are none."""
        return self.healthy / self.connections if self.connections else None


@dataclass(frozen=True)
class InventoryPage:
    """One page of connections (metadata only), how many match, and the KPIs if asked."""

    connections: tuple[Connection, ...]
    total: int
    page: int
    limit: int
    kpis: InventoryKpis | None

    @property
    def pages(self) -> int:
        """How many pages of ``limit`` the matching connections fill (at least 1)."""
        return max(1, -(-self.total // self.limit)) if self.limit else 1


def fetch_inventory_page(client: DescopeClient, query: PageQuery) -> InventoryPage:
    """The page ``query`` asks for; raises ``DashboardError`` (one sentence) on failure."""
    data = mapping(client.call("GET", PATH, management=True, params=query.params()))
    items = data.get("tokens")
    connections = tuple(
        connection_from_bulk(item)
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping)
    )
    kpis = data.get("kpis")
    return InventoryPage(
        connections=connections,
        total=int(number(data.get("total")) or 0),
        page=int(number(data.get("page")) or 0),
        limit=int(number(data.get("limit")) or query.limit),
        kpis=InventoryKpis.from_api(mapping(kpis)) if isinstance(kpis, Mapping) else None,
    )


def fetch_every_page(
    client: DescopeClient, query: PageQuery, page_size: int = EXPORT_PAGE_SIZE
) -> tuple[Connection, ...]:
    """Every connection ``query``'s filters keep, page after page (the CSV export of a filtered
    view: asked for on a click, never on a run); raises ``DashboardError`` on failure."""
    found: list[Connection] = []
    asked = replace(query, page=0, limit=page_size, with_kpis=False)
    while True:
        page = fetch_inventory_page(client, asked)
        found += page.connections
        if not page.connections or asked.page + 1 >= page.pages:
            return tuple(found)
        asked = replace(asked, page=asked.page + 1)
