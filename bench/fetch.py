"""fetch: latest-token fetch of a fresh token against the bare stack and the broker's no-op.

One broker process (SQLite, one worker), one uploaded token valid for an hour (so no refresh),
and in the same run the bare stack (``bench/bare.py``: a FastAPI app with one ``async def``
route, on the same uvicorn settings: httptools, uvloop, one worker, no access log). wrk, in its
own process, drives with 32 keep-alive clients:

* ``POST /v1/mgmt/outbound/app/user/token/latest`` (the fetch, management key, JSON body);
* ``GET /v1/x/health`` (the broker's no-op: its middleware and router, no auth, no database);
* ``POST /token`` of the bare app (a token-shaped answer to a JSON body): the fetch's
  denominator; ``GET /noop`` of the bare app (a small JSON body): the health's.

The four alternate in 2 s slices, the order rotating every round, so load from elsewhere on a
shared machine falls on all alike. The bare app is the honest denominator: the broker's own
no-op carries every per-request cost of the broker, so a ratio against it moves with the thing
measured. Each server's CPU time per request (``/proc/<pid>/stat``) is reported beside the
throughput: it moves much less with the machine's load. Latency is taken at 4 clients (the
server not saturated), fetch and bare alternating the same way.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.bare import NOOP_PATH as BARE_NOOP_PATH
from bench.bare import TOKEN_PATH, start_bare
from bench.servers import BrokerProcess, fresh_token, process_tree, start_broker
from bench.wrk import LoadResult, require_wrk, run_wrk
from broker.seed import seed_bulk

FETCH_PATH = "/v1/mgmt/outbound/app/user/token/latest"
NOOP_PATH = "/v1/x/health"
APP_ID = "github"
USER_ID = "Ubenchfetch0000000000000000"
SLICE_S = 2.0  # one slice of one kind of load


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
    return checked(
        run_wrk(
            broker.url + FETCH_PATH,
            connections=connections,
            duration_s=duration_s,
            method="POST",
            body=body,
            authorization=broker.mgmt_authorization,
        ),
        "fetch",
    )


def checked(result: LoadResult, what: str) -> LoadResult:
    """``result``, or ``RuntimeError`` when any answer was not a 2xx (or none came)."""
    if result.non_2xx or not result.requests:
        raise RuntimeError(f"{what} answered {result.non_2xx} errors of {result.requests}")
    return result


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its children used, from ``/proc/<pid>``."""
    total = 0.0
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    """Requests, seconds, server CPU seconds and latencies over the slices of one load."""

    requests: int = 0
    duration_s: float = 0.0
    cpu_s: float = 0.0
    p50s: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)

    def add(self, result: LoadResult, cpu_s: float) -> None:
        """Count one slice."""
        self.requests += result.requests - result.non_2xx
        self.duration_s += result.duration_s
        self.cpu_s += cpu_s
        self.p50s.append(result.p50_ms)
        self.p99s.append(result.p99_ms)

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_us(self) -> float:
        """Server CPU microseconds per request."""
        return self.cpu_s / self.requests * 1e6 if self.requests else 0.0

    @property
    def p50_ms(self) -> float:
        """The median of the slices' medians."""
        return sorted(self.p50s)[len(self.p50s) // 2] if self.p50s else 0.0

    @property
    def p99_ms(self) -> float:
        """The median of the slices' 99th percentiles (one noisy slice does not decide)."""
        return sorted(self.p99s)[len(self.p99s) // 2] if self.p99s else 0.0


@dataclass(frozen=True)
class Load:
    """One kind of load: how to drive it for a while, and the server process it measures."""

    drive: Callable[[int, float], LoadResult]  # (connections, seconds) -> result
    pid: int


def alternate(loads: dict[str, Load], *, connections: int, total_s: float) -> dict[str, Tally]:
    """Each load for ``total_s`` in all, in ``SLICE_S`` slices, the order rotating each round."""
    tallies = {name: Tally() for name in loads}
    names = list(loads)
    rounds = max(1, round(total_s / SLICE_S))
    for n in range(rounds):
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            load = loads[name]
            before = cpu_s(load.pid)
            result = load.drive(connections, total_s / rounds)
            tallies[name].add(result, cpu_s(load.pid) - before)
    return tallies


def ratio(a: float, b: float) -> float:
    """``a / b`` to three decimals (0 when ``b`` is 0)."""
    return round(a / b, 3) if b else 0.0


def broker_loads(broker: BrokerProcess, bare_url: str, bare_pid: int, body: str) -> dict[str, Load]:
    """The fetch, the broker's no-op, and the bare app's token answer and no-op, as loads."""
    return {
        "fetch": Load(
            lambda c, s: fetch_load(broker, body, connections=c, duration_s=s),
            broker.process.pid,
        ),
        "noop": Load(
            lambda c, s: checked(
                run_wrk(broker.url + NOOP_PATH, connections=c, duration_s=s), "noop"
            ),
            broker.process.pid,
        ),
        "bare": Load(
            lambda c, s: checked(
                run_wrk(
                    bare_url + TOKEN_PATH, connections=c, duration_s=s, method="POST", body=body
                ),
                "bare",
            ),
            bare_pid,
        ),
        "bare_noop": Load(
            lambda c, s: checked(
                run_wrk(bare_url + BARE_NOOP_PATH, connections=c, duration_s=s), "bare no-op"
            ),
            bare_pid,
        ),
    }


def run(duration_s: float = 10.0, warmup_s: float = 2.0) -> dict[str, float]:
    """The fetch figures: throughput at 32 clients beside the no-op's and the bare app's,
    latency at 4 clients beside the bare app's."""
    require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        bare = start_bare(Path(tmp) / "bare")
        broker = start_broker(Path(tmp) / "broker")
        try:
            body = prepare(broker)
            loads = broker_loads(broker, bare.url, bare.process.pid, body)
            for load in loads.values():
                load.drive(4, warmup_s)
            t = alternate(loads, connections=32, total_s=duration_s)
            latency = alternate(
                {"fetch": loads["fetch"], "bare": loads["bare"]}, connections=4, total_s=duration_s
            )
        finally:
            broker.stop()
            bare.stop()
    fetch, noop, base, base_noop = t["fetch"], t["noop"], t["bare"], t["bare_noop"]
    return {
        "fetch_rps": round(fetch.rps, 1),
        "noop_rps": round(noop.rps, 1),
        "bare_rps": round(base.rps, 1),
        "bare_noop_rps": round(base_noop.rps, 1),
        "fetch_vs_bare": ratio(fetch.rps, base.rps),
        "health_vs_bare": ratio(noop.rps, base_noop.rps),
        "fetch_ratio": ratio(fetch.rps, noop.rps),
        "fetch_p50_ms": round(latency["fetch"].p50_ms, 2),
        "fetch_p99_ms": round(latency["fetch"].p99_ms, 2),
        "bare_p50_ms": round(latency["bare"].p50_ms, 2),
        "bare_p99_ms": round(latency["bare"].p99_ms, 2),
        "fetch_p99_vs_bare": ratio(latency["fetch"].p99_ms, latency["bare"].p99_ms),
        "fetch_cpu_us": round(fetch.cpu_us, 1),
        "noop_cpu_us": round(noop.cpu_us, 1),
        "bare_cpu_us": round(base.cpu_us, 1),
    }


if __name__ == "__main__":
    print(run())
