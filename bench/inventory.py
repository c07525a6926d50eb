"""inventory: the dashboard's token inventory against a serial loop with the official SDK.

One broker process (SQLite, one worker) holding 2,000 users × 5 catalog apps
(``bench.servers.seed_connections``: users through the management API, tokens through the batch
upload). Timed in the same run, over the same 10,000 connections:

* ``inventory_s``: ``dashboard.inventory.collect_inventory`` as the tokens page calls it (it picks
  the broker's bulk extension when offered; Descope's public API otherwise);
* ``inventory_sdk_s``: what a developer writes with the ``descope`` SDK and no dashboard, one call
  at a time: ``mgmt.user.search_all`` page by page, ``list_apps_with_user_token`` per user, then
  ``fetch_token`` per (user, app).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from descope import DescopeClient

from bench.servers import BrokerProcess, seed_connections, start_broker
from dashboard.descope import DescopeClient as DashboardClient
from dashboard.descope import Secret, Transport
from dashboard.inventory.collect import collect_inventory

SDK_PAGE_SIZE = 100


def dashboard_inventory(broker: BrokerProcess) -> tuple[float, int]:
    """Seconds the dashboard's inventory takes, and the connections it found."""
    transport = Transport(broker.url, broker.project_id, Secret(broker.management_key))
    try:
        started = time.perf_counter()
        inventory = collect_inventory(DashboardClient(transport))
        elapsed = time.perf_counter() - started
    finally:
        transport.close()
    if inventory.failures:
        raise RuntimeError(f"inventory failed: {inventory.failures[0].sentence}")
    return elapsed, len(inventory.connections)


def sdk_inventory(broker: BrokerProcess) -> tuple[float, int]:
    """Seconds the serial SDK loop takes, and the tokens it fetched."""
    sdk = DescopeClient(
        project_id=broker.project_id, management_key=broker.management_key, base_url=broker.url
    )
    started = time.perf_counter()
    fetched = 0
    page = 0
    while True:
        users = sdk.mgmt.user.search_all(limit=SDK_PAGE_SIZE, page=page)["users"]
        for user in users:
            user_id = user["userId"]
            apps = sdk.mgmt.outbound_application.list_apps_with_user_token(user_id)["appIds"]
            for app_id in apps:
                sdk.mgmt.outbound_application.fetch_token(app_id, user_id)
                fetched += 1
        if len(users) < SDK_PAGE_SIZE:
            break
        page += 1
    return time.perf_counter() - started, fetched


def run(users: int = 2000, apps: int = 5) -> dict[str, float]:
    """Both inventories over ``users`` × ``apps`` connections; times and their ratio."""
    with tempfile.TemporaryDirectory(prefix="bench-inventory-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            seed_connections(broker, users, apps)
            ours, found = dashboard_inventory(broker)
            theirs, fetched = sdk_inventory(broker)
        finally:
            broker.stop()
    if found != users * apps or fetched != users * apps:
        raise RuntimeError(f"expected {users * apps} connections; dashboard {found}, SDK {fetched}")
    return {
        "inventory_s": round(ours, 2),
        "inventory_sdk_s": round(theirs, 2),
        "inventory_ratio": round(theirs / ours, 1) if ours else 0.0,
    }


if __name__ == "__main__":
    print(run())
