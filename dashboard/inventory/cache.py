"""Inventories kept per target and query, shared by every session of the process.

The key is ``(base URL, project id, InventoryQuery)``, never a token; what is kept holds token
metadata only (``collect_inventory`` drops secrets). Fresh by construction: entries go stale
after ``max_age_s`` (the tokens page rescans on its own then, ``ui/tokens.py``); actions on one
token update the entry in place; every other action of the dashboard that changes tokens or apps
(connect, disconnect, app edits) calls ``forget_inventories()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from dashboard.inventory.records import Connection, Inventory, InventoryQuery

CacheKey = tuple[str, str, InventoryQuery]
# A change to a kept inventory's connections (after an action on a token).
Change = Callable[[tuple[Connection, ...]], tuple[Connection, ...]]
DEFAULT_MAX_AGE_S = 30.0


class InventoryCache:
    """A small thread-safe store of inventories with an age limit."""

    def __init__(
        self, max_age_s: float = DEFAULT_MAX_AGE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[CacheKey, tuple[float, Inventory]] = {}

    def get(self, key: CacheKey) -> Inventory | None:
        """The inventory kept for ``key``, unless it is missing or too old."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry[0] > self.max_age_s:
                return None
            return entry[1]

    def age_s(self, key: CacheKey) -> float | None:
        """Seconds since ``key`` was scanned, or None when nothing is kept for it."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else self._clock() - entry[0]

    def put(self, key: CacheKey, inventory: Inventory) -> None:
        """Keep ``inventory`` for ``key`` (a cancelled one is not kept)."""
        if inventory.cancelled:
            return
        with self._lock:
            self._entries[key] = (self._clock(), inventory)

    def drop(self, key: CacheKey) -> None:
        """Forget ``key`` (the refresh button)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget every inventory."""
        with self._lock:
            self._entries.clear()

    def update_all(self, change: Change) -> None:
        """Apply ``change`` to every kept inventory (after an action on a token)."""
        with self._lock:
            for key, (stamp, inventory) in list(self._entries.items()):
                changed = replace(inventory, connections=change(inventory.connections))
                self._entries[key] = (stamp, changed)


def replacing(updated: Connection) -> Change:
    """A change that puts ``updated`` in place of the connection with the same token id."""
    return lambda rows: tuple(updated if c.token.id == updated.token.id else c for c in rows)


def removing(keep: Callable[[Connection], bool]) -> Change:
    """A change that keeps only the connections for which ``keep`` is true."""
    return lambda rows: tuple(c for c in rows if keep(c))


def cache_key(base_url: str, project_id: str, query: InventoryQuery) -> CacheKey:
    """The key of an inventory: the target and the query, nothing secret."""
    return (base_url, project_id, query)


SHARED = InventoryCache()


def forget_inventories() -> None:
    """After a connect, disconnect or app change: every view of tokens scans anew."""
    SHARED.clear()
