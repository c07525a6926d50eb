"""memory: the broker's resident memory idle and with 100,000 stored tokens; fetch at that size.

One broker process (SQLite, one worker). ``rss_idle_mb`` is read from ``/proc/<pid>/status``
after start-up and one fetch (imports and pools warmed, nothing stored). Then 100,000 tokens
(20,000 users × 5 catalog apps) go in through the batch upload, wrk drives the fetch endpoint
at 32 clients, and ``rss_100k_mb`` is the larger of the readings after the upload and after the
load (the broker keeps no token in memory; this checks that stays true).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.fetch import fetch_load, prepare
from bench.servers import fresh_token, start_broker
from bench.wrk import require_wrk
from broker.seed import CATALOG_APPS


def run(tokens: int = 100_000, duration_s: float = 10.0) -> dict[str, float]:
    """RSS idle and with ``tokens`` stored, and fetch throughput at that size."""
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            body = prepare(broker)
            fetch_load(broker, body, connections=1, duration_s=1)
            idle = broker.rss_mb()
            apps = list(CATALOG_APPS)
            users = max(1, tokens // len(apps))
            stored = [fresh_token(app, f"Umem{n:023d}") for n in range(users) for app in apps][
                :tokens
            ]
            broker.upload_tokens(stored)
            after_upload = broker.rss_mb()
            load = fetch_load(broker, body, connections=32, duration_s=duration_s)
            after_load = broker.rss_mb()
        finally:
            broker.stop()
    return {
        "rss_idle_mb": round(idle, 1),
        "rss_100k_mb": round(max(after_upload, after_load), 1),
        "fetch_rps_100k": round(load.rps, 1),
    }


if __name__ == "__main__":
    print(run())
