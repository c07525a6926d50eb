"""The background scheduler: proactive and keep-alive refresh, and webhook delivery.

Every broker process runs one scheduler thread (unless switched off: ``--no-scheduler`` /
``OUTBOUND_SCHEDULER=0``), but only the holder of the database lease ``scheduler`` works, so
one process across all workers and replicas sweeps. A sweep (every ``scheduler_interval_s``)
refreshes, through the same single-flight engine as fetches, at most ``scheduler_batch``
tokens whose ``next_refresh_time`` falls before the next sweep: tokens nearing expiry (the
refresh margin), idle tokens on their template's keep-alive cadence, and failed tokens whose
backoff has elapsed; ``scheduler_concurrency`` at a time. Dead grants are never swept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

from sqlalchemy import select

from broker.context import Broker
from broker.errors import DescopeError
from broker.lifecycle import lease, metrics
from broker.lifecycle.refresh import refresh_token
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.webhooks import deliver_due
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow

log = logging.getLogger("broker.scheduler")

LEASE_NAME = "scheduler"


def due_tokens(broker: Broker, horizon: float, limit: int) -> list[str]:
    """Ids of live OAuth grants whose next refresh falls before ``horizon``, soonest first."""
    row = ManagedTokenRow
    with broker.db.session() as s:
        ids = s.scalars(
            select(row.id)
            .where(
                row.kind == "oauth",
                row.status != TokenStatus.NEEDS_REAUTH.value,
                row.refresh_token_sealed.is_not(None),
                row.next_refresh_time.is_not(None),
                row.next_refresh_time <= horizon,
            )
            .order_by(row.next_refresh_time)
            .limit(limit)
        ).all()
    return list(ids)


class Scheduler:
    """One process's scheduler thread; works only while it holds the ``scheduler`` lease."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.cfg = broker.settings.lifecycle
        self.owner = lease.new_owner()
        self.tick_s = min(1.0, self.cfg.scheduler_interval_s)
        self.lease_ttl_s = max(30.0, 3 * self.cfg.scheduler_interval_s)
        self._stop = threading.Event()
        self._last_sweep = 0.0
        self._thread = threading.Thread(target=self._loop, name="outbound-scheduler", daemon=True)

    def start(self) -> Scheduler:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and give the lease up."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(30)
        lease.release(self.broker.db, LEASE_NAME, self.owner, "stopped")

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")

    def tick(self) -> None:
        """Renew (or take) the lease; as leader, sweep when due and deliver webhooks."""
        db = self.broker.db
        if lease.try_acquire(db, LEASE_NAME, self.owner, self.lease_ttl_s) is None:
            return
        sweep_due = time.monotonic() - self._last_sweep >= self.cfg.scheduler_interval_s
        if self.broker.settings.scheduler_enabled and sweep_due:
            self._last_sweep = time.monotonic()
            self.sweep()
        if self.cfg.webhook_urls:
            deliver_due(self.broker)

    def sweep(self) -> int:
        """Refresh the tokens due before the next sweep; answers how many were attempted."""
        horizon = now_s() + self.cfg.scheduler_interval_s
        ids = due_tokens(self.broker, horizon, self.cfg.scheduler_batch)
        metrics.SCHEDULER_RUNS.inc()
        if ids:
            with ThreadPoolExecutor(self.cfg.scheduler_concurrency) as pool:
                list(pool.map(self._refresh, ids))
        return len(ids)

    def _refresh(self, token_id: str) -> None:
        # A failure is recorded on the token (status, error, backoff) and as an event.
        with suppress(DescopeError):
            refresh_token(self.broker, token_id, force=False, trigger="scheduled")


def lifecycle_lifespan(broker: Broker) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan running the scheduler while the app serves (when enabled)."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        wanted = broker.settings.scheduler_enabled or broker.settings.lifecycle.webhook_urls
        scheduler = Scheduler(broker).start() if wanted else None
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()

    return lifespan
