"""inventory_100k: the tokens page's data with 100,000 tokens over 20,000 users, server-side.

One broker process (SQLite, one worker) holding 20,000 users × 5 catalog apps, made by
``outbound seed``'s ``broker.seed.seed_bulk`` (catalog apps through the management API, users
and tokens in bulk through the store; not timed in the figure, reported as
``inventory_100k_seed_s``). Then, timed, what the
tokens page asks for with server-side paging (``dashboard.inventory.page.fetch_inventory_page``,
the broker's inventory extension filtering, paging and counting in the database):

* ``inventory_100k_first_s``: the first page (100 rows) with the KPIs of all 100,000 tokens;
* ``inventory_100k_filter_s``: a filter typed (one user's name, status ``active``): that page
  with the KPIs of what the filter keeps;
* ``inventory_100k_s``: both, one after the other — the inventory reaching the dashboard.

Each answer is checked (totals, KPIs, the filtered user's rows), so a wrong answer fails the
benchmark rather than being timed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.servers import BrokerProcess, start_broker
from broker.seed import seed_bulk
from dashboard.descope import DescopeClient, Secret, Transport
from dashboard.inventory.page import InventoryPage, PageQuery, fetch_inventory_page

PREFIX = "seeded"


def _timed(transport: Transport, query: PageQuery) -> tuple[float, InventoryPage]:
    started = time.perf_counter()
    page = fetch_inventory_page(DescopeClient(transport), query)
    return time.perf_counter() - started, page


def measure(broker: BrokerProcess, users: int, apps: int) -> dict[str, float]:
    """The timed page loads against a seeded broker; raises when an answer is wrong."""
    transport = Transport(broker.url, broker.project_id, Secret(broker.management_key))
    try:
        first_s, first = _timed(transport, PageQuery())
        wanted = f"{PREFIX}-{users // 2:06d}"
        filter_s, filtered = _timed(transport, PageQuery(user_text=wanted, statuses=("active",)))
    finally:
        transport.close()
    expected = users * apps
    if first.total != expected or first.kpis is None or first.kpis.connections != expected:
        raise RuntimeError(f"first page: total {first.total}, kpis {first.kpis}; want {expected}")
    if first.kpis.users != users or len(first.connections) != min(expected, first.limit):
        raise RuntimeError(f"first page: {first.kpis.users} users, {len(first.connections)} rows")
    emails = {c.user_email for c in filtered.connections}
    if filtered.total != apps or emails != {f"{wanted}@example.test"}:
        raise RuntimeError(f"filter {wanted!r}: total {filtered.total}, owners {sorted(emails)}")
    return {
        "inventory_100k_s": round(first_s + filter_s, 2),
        "inventory_100k_first_s": round(first_s, 2),
        "inventory_100k_filter_s": round(filter_s, 2),
    }


def run(users: int = 20_000, apps: int = 5) -> dict[str, float]:
    """Seed ``users`` × ``apps`` tokens, then time the first page and a filtered page."""
    with tempfile.TemporaryDirectory(prefix="bench-inventory-100k-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            started = time.perf_counter()
            seed_bulk(broker.settings, users=users, tokens_per_user=apps, prefix=PREFIX)
            seed_s = time.perf_counter() - started
            figures = measure(broker, users, apps)
        finally:
            broker.stop()
    return {**figures, "inventory_100k_seed_s": round(seed_s, 1)}


if __name__ == "__main__":
    print(run())
