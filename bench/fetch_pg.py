"""fetch_pg: the fetch on PostgreSQL through two broker workers, against the bare stack's two.

A broker with two uvicorn workers on a fresh PostgreSQL database (``OUTBOUND_TEST_DATABASE_URL``
names the server, as for the test suite), one uploaded token valid for an hour; the bare stack
(``bench/bare.py``) with two workers too. wrk drives both at 32 connections in alternating 2 s
slices, then at 4 connections for latency, as ``bench/fetch.py`` does on SQLite. The fresh
fetch reads PostgreSQL on the event loop (one round trip on each worker's own autocommit
connection, ``Database.loop_read``), so this measures what that round trip costs.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench.bare import start_bare
from bench.fetch import alternate, broker_loads, prepare, ratio
from bench.servers import BenchmarkUnavailable, start_broker
from bench.wrk import require_wrk
from tests.support.servers import PG_URL_ENV, fresh_postgres_database

WORKERS = 2


def run(duration_s: float = 10.0, warmup_s: float = 2.0) -> dict[str, float]:
    """Throughput at 32 clients against the bare app's, latency at 4; PostgreSQL, 2 workers."""
    require_wrk()
    if not os.environ.get(PG_URL_ENV):
        raise BenchmarkUnavailable(
            f"{PG_URL_ENV} is not set: point it at a PostgreSQL server "
            "(postgresql://user:password@127.0.0.1:5432/postgres) and re-run `make bench`"
        )
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fetch-pg-")))
        url = stack.enter_context(fresh_postgres_database())
        bare = start_bare(tmp / "bare", workers=WORKERS)
        stack.callback(bare.stop)
        broker = start_broker(tmp / "broker", database_url=url, workers=WORKERS)
        stack.callback(broker.stop)
        body = prepare(broker)
        loads = broker_loads(broker, bare.url, bare.process.pid, body)
        del loads["noop"], loads["bare_noop"]
        for load in loads.values():
            load.drive(8, warmup_s)
        t = alternate(loads, connections=32, total_s=duration_s)
        latency = alternate(loads, connections=4, total_s=duration_s)
    fetch, base = t["fetch"], t["bare"]
    return {
        "fetch_pg_rps": round(fetch.rps, 1),
        "bare_2w_rps": round(base.rps, 1),
        "fetch_vs_bare_pg": ratio(fetch.rps, base.rps),
        "fetch_pg_p50_ms": round(latency["fetch"].p50_ms, 2),
        "fetch_pg_p99_ms": round(latency["fetch"].p99_ms, 2),
        "fetch_pg_cpu_us": round(fetch.cpu_us, 1),
        "bare_2w_cpu_us": round(base.cpu_us, 1),
    }


if __name__ == "__main__":
    print(run())
