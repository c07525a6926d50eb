"""fetch: latest-token fetch of a fresh token against a no-op endpoint of the same server stack.

One broker process (SQLite, one worker), one uploaded token valid for an hour (so no refresh).
wrk, in its own process, drives ``POST /v1/mgmt/outbound/app/user/token/latest`` with 32
keep-alive clients for a fixed time, then ``GET /v1/x/health`` (same uvicorn, middleware and
router; no auth, no database) the same way: the practical limit of the stack. Latency is taken
in a separate run at 4 clients, where the server is not saturated.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench.servers import BrokerProcess, fresh_token, start_broker
from bench.wrk import LoadResult, require_wrk, run_wrk
from broker.seed import seed_bulk

FETCH_PATH = "/v1/mgmt/outbound/app/user/token/latest"
NOOP_PATH = "/v1/x/health"
APP_ID = "github"
USER_ID = "Ubenchfetch0000000000000000"


def prepare(broker: BrokerProcess, *, filler_tokens: int = 0) -> str:
    """Catalog apps, the fetched token and ``filler_tokens`` others; answers the request body."""
    seed_bulk(broker.settings, users=0, tokens_per_user=5)  # users=0: only the catalog apps
    filler = [fresh_token(APP_ID, f"Ufill{n:022d}") for n in range(filler_tokens)]
    broker.upload_tokens([*filler, fresh_token(APP_ID, USER_ID)])
    return json.dumps({"appId": APP_ID, "userId": USER_ID})


def fetch_load(
    broker: BrokerProcess, body: str, *, connections: int, duration_s: float
) -> LoadResult:
    """wrk on the fetch endpoint; raises when any answer was not a 2xx."""
    result = run_wrk(
        broker.url + FETCH_PATH,
        connections=connections,
        duration_s=duration_s,
        method="POST",
        body=body,
        authorization=broker.mgmt_authorization,
    )
    if result.non_2xx or not result.requests:
        raise RuntimeError(f"fetch answered {result.non_2xx} errors of {result.requests}")
    return result


def run(duration_s: float = 10.0, warmup_s: float = 2.0) -> dict[str, float]:
    """The fetch figures: throughput at 32 clients (and the no-op's), latency at 4."""
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            body = prepare(broker)
            fetch_load(broker, body, connections=4, duration_s=warmup_s)
            fetch = fetch_load(broker, body, connections=32, duration_s=duration_s)
            noop = run_wrk(broker.url + NOOP_PATH, connections=32, duration_s=duration_s)
            latency = fetch_load(broker, body, connections=4, duration_s=duration_s)
        finally:
            broker.stop()
    return {
        "fetch_rps": round(fetch.rps, 1),
        "noop_rps": round(noop.rps, 1),
        "fetch_ratio": round(fetch.rps / noop.rps, 3) if noop.rps else 0.0,
        "fetch_p50_ms": round(latency.p50_ms, 2),
        "fetch_p99_ms": round(latency.p99_ms, 2),
    }


if __name__ == "__main__":
    print(run())
