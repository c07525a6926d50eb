"""The token inventory across users: every connection's token metadata, failures beside it.

Against a target that offers the broker's bulk extension it reads pages of metadata; against
Descope cloud it fans out over the public API (search users → apps with a token → latest
token). Either way the calls overlap on a bounded thread pool over the one pooled transport,
progress is reported with counts and time left, a ``threading.Event`` cancels, throttling is
waited out politely, and no access or refresh token is kept in the result.

Usage::

    inventory = collect_inventory(client, InventoryQuery(app_id="github"),
                                  on_progress=print, cancel=threading.Event())
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from dashboard.descope import (
    USER_PAGE_SIZE,
    DescopeClient,
)
from dashboard.inventory.bulk import BULK_PAGE_SIZE, Bulk, offers_bulk_inventory
from dashboard.inventory.fanout import FanOut
from dashboard.inventory.records import (
    Connection,
    Failure,
    Inventory,
    InventoryQuery,
    Progress,
    Source,
)
from dashboard.inventory.scan import DEFAULT_WORKERS, ProgressCallback, Scan

__all__ = [
    "Connection",
    "Failure",
    "Inventory",
    "InventoryQuery",
    "Progress",
    "collect_inventory",
]


def collect_inventory(
    client: DescopeClient,
    query: InventoryQuery | None = None,
    *,
    source: Source | None = None,
    workers: int = DEFAULT_WORKERS,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    page_size: int | None = None,
) -> Inventory:
    """Collect the connections matching ``query``; ``source`` forces the bulk or fan-out path.

    ``sleep`` and ``clock`` are the seams for waiting out throttling (tests count the waits).
    """
    query = query or InventoryQuery()
    chosen: Source = source or ("bulk" if offers_bulk_inventory(client) else "fan-out")
    scan = Scan(workers=workers, on_progress=on_progress, cancel=cancel, sleep=sleep, clock=clock)
    if chosen == "bulk":
        plan: Bulk | FanOut = Bulk(client, query, scan, page_size or BULK_PAGE_SIZE)
    else:
        plan = FanOut(client, query, scan, page_size or USER_PAGE_SIZE)
    finished = scan.run(plan.first_tasks())
    connections = sorted(
        scan.connections, key=lambda c: (c.owner_label.lower(), c.token.app_id, c.token.id)
    )
    users = scan.users_scanned or len({c.token.user_id for c in connections if c.token.user_id})
    return Inventory(
        connections=tuple(connections),
        failures=tuple(scan.failures),
        source=chosen,
        collected_at=datetime.now(UTC),
        users_scanned=users,
        calls=scan.calls,
        backoffs=scan.backoffs,
        cancelled=not finished,
        elapsed_s=clock() - scan.started,
    )
