"""Prometheus metrics of the token lifecycle, served at ``/metrics``.

Counters and histograms live in this process; with several uvicorn workers ``outbound broker``
sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder under the data folder) before the workers
start, and the scrape then merges every worker's values (prometheus_client multiprocess mode).
``outbound_tokens`` is not a process value: it is counted from the database at scrape time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from broker.lifecycle.status import status_sql
from broker.lifecycle.status_names import STATUSES
from broker.store.db import Database, now_s

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

FETCHES = Counter(
    "outbound_token_fetches", "Token fetches answered by the refresh engine, by result", ["result"]
)


@cache
def fetches(result: str) -> Counter:
    """``FETCHES`` of one ``result``, bound once per process (the fetch's hot path counts every
    answer: ``labels`` takes a lock and a lookup each time, ≈1 µs)."""
    return FETCHES.labels(result=result)


REFRESHES = Counter(
    "outbound_token_refreshes",
    "Refresh attempts sent to providers, by outcome and trigger",
    ["outcome", "trigger"],
)
LEASE_WAITS = Counter(
    "outbound_refresh_lease_waits", "Callers that waited for another holder's refresh", ["scope"]
)
LEASE_WAIT_SECONDS = Histogram(
    "outbound_refresh_lease_wait_seconds", "Time spent waiting for a refresh in flight"
)
PROVIDER_LATENCY = Histogram(
    "outbound_provider_token_request_seconds",
    "Latency of refresh requests to providers' token endpoints",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS = Counter("outbound_lifecycle_events", "Lifecycle events recorded, by kind", ["kind"])
WEBHOOKS = Counter(
    "outbound_webhook_deliveries", "Webhook delivery attempts, by result", ["result"]
)
SCHEDULER_RUNS = Counter("outbound_scheduler_sweeps", "Scheduler sweeps run by the leader")


def count_by_status(db: Database, margin_s: int) -> dict[str, int]:
    """Stored tokens per status (``status.status_sql``), in one query."""
    status = status_sql(int(now_s()), margin_s)
    with db.session() as s:
        found = s.execute(select(status, func.count()).group_by(status)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({str(name): int(n) for name, n in found})
    return counts


class TokenStatusCollector(Collector):
    """``outbound_tokens{status}``: stored tokens by lifecycle status, read at scrape time."""

    def __init__(self, db: Database, margin_s: int) -> None:
        self.db = db
        self.margin_s = margin_s

    def collect(self) -> Iterator[Metric]:
        """One gauge sample per status."""
        family = GaugeMetricFamily("outbound_tokens", "Stored tokens by status", labels=["status"])
        for status, count in sorted(count_by_status(self.db, self.margin_s).items()):
            family.add_metric([status], count)
        yield family


def render(db: Database, margin_s: int) -> tuple[bytes, str]:
    """The exposition text (every worker's values when in multiprocess mode) and its type."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        parts = [generate_latest(registry)]
    else:
        parts = [generate_latest(REGISTRY)]
    status_registry = CollectorRegistry()
    status_registry.register(TokenStatusCollector(db, margin_s))
    parts.append(generate_latest(status_registry))
    return b"".join(parts), CONTENT_TYPE_LATEST


def prepare_multiprocess(data_dir: Path) -> None:
    """Before uvicorn starts several workers: a fresh shared folder for their metric values."""
    folder = data_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(folder.resolve())
