"""fetch: latest-token fetch of a fresh token against a no-op endpoint of the same server stack.

One broker process (SQLite, one worker), one uploaded token valid for an hour (so no refresh).
wrk, in its own process, drives ``POST /v1/mgmt/outbound/app/user/token/latest`` with 32
keep-alive clients, and ``GET /v1/x/health`` (same uvicorn, middleware and router; no auth, no
database) the same way: the practical limit of the stack. The two alternate in 2 s slices,
fetch–no-op then no-op–fetch, so load from elsewhere on a shared machine falls on both alike.
The broker's CPU time per request (``/proc/<pid>/stat``) is reported beside the throughput: it
moves much less with the machine's load. Latency is taken in a separate run at 4 clients, where
the server is not saturated.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.servers import BrokerProcess, fresh_token, start_broker
from bench.wrk import LoadResult, require_wrk, run_wrk
from broker.seed import seed_bulk

FETCH_PATH = "/v1/mgmt/outbound/app/user/token/latest"
NOOP_PATH = "/v1/x/health"
APP_ID = "github"
USER_ID = "Ubenchfetch0000000000000000"
SLICE_S = 2.0  # one alternation of fetch and no-op load


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


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    """Requests, seconds and broker CPU seconds summed over the slices of one kind of load."""

    requests: int = 0
    duration_s: float = 0.0
    cpu_s: float = 0.0

    def add(self, result: LoadResult, cpu_s: float) -> None:
        """Count one slice."""
        self.requests += result.requests - result.non_2xx
        self.duration_s += result.duration_s
        self.cpu_s += cpu_s

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_us(self) -> float:
        """Broker CPU microseconds per request."""
        return self.cpu_s / self.requests * 1e6 if self.requests else 0.0


def run(duration_s: float = 10.0, warmup_s: float = 2.0) -> dict[str, float]:
    """The fetch figures: throughput at 32 clients (and the no-op's), latency at 4."""
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        try:
            body = prepare(broker)
            pid = broker.process.pid
            fetch_load(broker, body, connections=4, duration_s=warmup_s)
            slices = max(1, round(duration_s / SLICE_S))
            tallies = {"fetch": Tally(), "noop": Tally()}
            for n in range(slices):
                for kind in ("fetch", "noop") if n % 2 == 0 else ("noop", "fetch"):
                    before = cpu_s(pid)
                    if kind == "fetch":
                        result = fetch_load(
                            broker, body, connections=32, duration_s=duration_s / slices
                        )
                    else:
                        result = run_wrk(
                            broker.url + NOOP_PATH, connections=32, duration_s=duration_s / slices
                        )
                    tallies[kind].add(result, cpu_s(pid) - before)
            latency = fetch_load(broker, body, connections=4, duration_s=duration_s)
        finally:
            broker.stop()
    fetch, noop = tallies["fetch"], tallies["noop"]
    return {
        "fetch_rps": round(fetch.rps, 1),
        "noop_rps": round(noop.rps, 1),
        "fetch_ratio": round(fetch.rps / noop.rps, 3) if noop.rps else 0.0,
        "fetch_p50_ms": round(latency.p50_ms, 2),
        "fetch_p99_ms": round(latency.p99_ms, 2),
        "fetch_cpu_us": round(fetch.cpu_us, 1),
        "noop_cpu_us": round(noop.cpu_us, 1),
    }


if __name__ == "__main__":
    print(run())
