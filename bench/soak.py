"""``make soak``: mixed load with provider faults; at the end no connection may be lost.

A real broker (two workers on PostgreSQL when ``OUTBOUND_TEST_DATABASE_URL`` is set, else one on
SQLite) and the demo provider, each in its own process on loopback. ``CLIENTS`` threads take
operations from a ticker at a fixed rate (``RATE`` per second): connect flows, fetches, forced
refreshes, disconnects; every ``FAULT_EVERY_S`` seconds a provider fault is switched on for a
few token calls (5xx, 429, latency, garbage JSON). Each operation holds its user's lock, so the
expected state (connected or not) is exact. An error is *expected* when it is a clean refusal
(a typed Descope error or an ``outbound=error`` outcome, never a 500) of an operation that
called the provider while a fault was live; anything else is *unexpected*.

At the end every user who should be connected must fetch a token and call the provider's API
with it; one who cannot is a *lost* connection. Prints ``RESULT name=value`` lines and rewrites
the figures block of docs/reliability.md.

    python -m bench.soak                 # 90 s (the recorded run)
    python -m bench.soak --duration 300  # the longest allowed run (5 minutes)
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import httpx

from bench.connect import APP_ID, LANDING, _demo_app, _signed_in_user, landing_outcome
from bench.servers import REPO_ROOT, BrokerProcess, ProviderProcess, start_broker, start_provider
from tests.support.servers import PG_URL_ENV, fresh_postgres_database

REPORT = REPO_ROOT / "docs" / "reliability.md"
BEGIN = "<!-- soak:begin (written by `make soak`; edit outside these markers) -->"
END = "<!-- soak:end -->"
MAX_DURATION_S = 300.0
USERS = 16
CLIENTS = 6
RATE = 20.0  # operations per second, all clients together
FAULT_EVERY_S = 7.0
# Errors stay "expected" this long after the provider reports its faults spent (in-flight calls).
FAULT_GRACE_S = 3.0
FAULTS: tuple[dict[str, Any], ...] = (
    {"token_status": {"value": 503, "remaining": 2}},
    {"token_status": {"value": 429, "remaining": 1}},
    {"latency_ms": {"value": 1500, "remaining": 2}},
    {"garbage_json": {"value": True, "remaining": 1}},
)
# (operation, weight): connects are the costliest, fetches the commonest.
MIX = (("connect", 3), ("fetch", 6), ("force_refresh", 3), ("disconnect", 1))


@dataclass
class Tally:
    """What the clients did and saw (shared by the client threads)."""

    operations: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    faults: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, error: str | None, fault_live: bool, touches_provider: bool) -> None:
        """Count one operation and classify its error, if any."""
        with self.lock:
            self.operations[op] += 1
            if error is None:
                return
            clean = not error.startswith(("500", "transport"))
            if clean and fault_live and touches_provider:
                self.expected[op] += 1
            else:
                self.unexpected.append(f"{op}: {error}")


@dataclass
class Soak:
    """The servers, the users and what each user should have."""

    broker: BrokerProcess
    provider: ProviderProcess
    jwts: list[str]
    user_ids: list[str]
    connected: list[bool]
    locks: list[threading.Lock]
    tally: Tally = field(default_factory=Tally)
    fault_until: float = 0.0

    def fault_live(self) -> bool:
        """Whether a provider fault is on, or was until moments ago (calls still in flight)."""
        return time.monotonic() < self.fault_until

    def mgmt_headers(self) -> dict[str, str]:
        """Authorization for management calls."""
        return {"Authorization": self.broker.mgmt_authorization}

    def fetch(self, http: httpx.Client, i: int, force: bool = False) -> httpx.Response:
        """``user/token/latest`` for user ``i`` (a forced refresh when ``force``)."""
        return http.post(
            self.broker.url + "/v1/mgmt/outbound/app/user/token/latest",
            headers=self.mgmt_headers(),
            json={
                "appId": APP_ID,
                "userId": self.user_ids[i],
                "options": {"forceRefresh": True} if force else None,
            },
        )


def _connect_flow(soak: Soak, http: httpx.Client, i: int) -> str | None:
    """Connect → consent → callback for user ``i``; None when connected, else what went wrong."""
    started = http.post(
        soak.broker.url + "/v1/outbound/oauth/connect",
        headers={"Authorization": f"Bearer {soak.broker.project_id}:{soak.jwts[i]}"},
        json={"appId": APP_ID, "options": {"redirectUrl": LANDING}},
    )
    if started.status_code != 200:
        return _error_of(started)
    consent = http.get(started.json()["url"])
    if consent.status_code not in (302, 303):
        return f"consent answered {consent.status_code}"
    landed = http.get(consent.headers["location"])
    bearer = f"Bearer {soak.broker.project_id}:{soak.jwts[i]}"
    outcome = landing_outcome(http, soak.broker.url, bearer, landed)
    if landed.status_code != 302 or outcome != "connected":
        return f"{landed.status_code} outbound={outcome}"
    return None


def _error_of(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        code = response.json().get("errorCode", "no errorCode")
    except ValueError:
        code = "non-JSON body"
    return f"{response.status_code} {code}"


def _operate(soak: Soak, http: httpx.Client, op: str, i: int) -> None:
    """One operation on user ``i`` (its lock held), checked against the expected state."""
    fault_at_start = soak.fault_live()
    error, touches_provider = _operation(soak, http, op, i)
    soak.tally.record(op, error, fault_at_start or soak.fault_live(), touches_provider)


def _operation(soak: Soak, http: httpx.Client, op: str, i: int) -> tuple[str | None, bool]:
    """Do ``op``; (what went wrong or None, whether it called the provider's token endpoint)."""
    if op == "connect":
        error = _connect_flow(soak, http, i)
        soak.connected[i] = soak.connected[i] or error is None
        return error, True
    if op == "disconnect":
        answered = http.delete(
            soak.broker.url + "/v1/mgmt/outbound/user/tokens",
            headers=soak.mgmt_headers(),
            params={"appId": APP_ID, "userId": soak.user_ids[i]},
        )
        if answered.status_code == 200:
            soak.connected[i] = False
        return _error_of(answered), False
    answered = soak.fetch(http, i, force=op == "force_refresh")
    error = _error_of(answered)
    if not soak.connected[i] and error == "404 E111504":
        error = None  # "not connected" is the right answer for a user without a token
    elif soak.connected[i] and error is None and not answered.json()["token"]["accessToken"]:
        error = "200 without an access token"
    return error, soak.connected[i] and op == "force_refresh"


def _client(soak: Soak, work: Queue[tuple[str, int] | None]) -> None:
    with httpx.Client(timeout=30) as http:
        while True:
            try:
                item = work.get(timeout=1)
            except Empty:
                continue
            if item is None:
                return
            op, i = item
            with soak.locks[i]:
                try:
                    _operate(soak, http, op, i)
                except httpx.HTTPError as exc:
                    soak.tally.record(op, f"transport {type(exc).__name__}", False, False)


def _inject_fault(soak: Soak, http: httpx.Client, rng: random.Random) -> None:
    soak.fault_until = float("inf")  # before the switch flips: no call may see it unannounced
    http.post(soak.provider.url + "/admin/faults", json=rng.choice(FAULTS)).raise_for_status()
    soak.tally.faults += 1


def _watch_faults(soak: Soak, http: httpx.Client) -> None:
    """Once the provider reports every fault spent, start the grace period."""
    if (
        soak.fault_until == float("inf")
        and not http.get(soak.provider.url + "/admin/faults").json()
    ):
        soak.fault_until = time.monotonic() + FAULT_GRACE_S


def _drive(soak: Soak, duration_s: float, seed: int) -> None:
    """The ticker: one operation every ``1/RATE`` s for ``duration_s``, faults on schedule."""
    rng = random.Random(seed)
    ops = [op for op, weight in MIX for _ in range(weight)]
    work: Queue[tuple[str, int] | None] = Queue(maxsize=CLIENTS * 4)
    clients = [threading.Thread(target=_client, args=(soak, work)) for _ in range(CLIENTS)]
    for thread in clients:
        thread.start()
    started = time.monotonic()
    next_fault = started + FAULT_EVERY_S
    with httpx.Client(timeout=10) as admin:
        tick = 0
        while (now := time.monotonic()) < started + duration_s:
            if now >= next_fault:
                _inject_fault(soak, admin, rng)
                next_fault += FAULT_EVERY_S
            if tick % int(RATE) == 0:
                _watch_faults(soak, admin)
            work.put((rng.choice(ops), rng.randrange(len(soak.jwts))))
            tick += 1
            time.sleep(max(0.0, started + tick / RATE - time.monotonic()))
        admin.delete(soak.provider.url + "/admin/faults").raise_for_status()
    for _ in clients:
        work.put(None)
    for thread in clients:
        thread.join()


def _lost_connections(soak: Soak) -> tuple[int, int]:
    """(connections that should exist, those that cannot fetch a usable token)."""
    expected = lost = 0
    with httpx.Client(timeout=30) as http:
        for i, connected in enumerate(soak.connected):
            answered = soak.fetch(http, i)
            if not connected:
                if answered.status_code != 404:
                    soak.tally.unexpected.append(f"final: user {i} has a token it should not")
                continue
            expected += 1
            token = answered.json().get("token", {}) if answered.status_code == 200 else {}
            api = http.get(
                soak.provider.url + "/api/me",
                headers={"Authorization": f"Bearer {token.get('accessToken', '')}"},
            )
            if api.status_code != 200:
                lost += 1
    return expected, lost


def run(duration_s: float = 90.0, seed: int = 9) -> dict[str, Any]:
    """The soak: figures as a dict (also printed as ``RESULT`` lines)."""
    duration_s = min(duration_s, MAX_DURATION_S)
    pg_url = os.environ.get(PG_URL_ENV)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database()) if pg_url else None
        workers = 2 if database_url else 1
        broker = start_broker(Path(tmp) / "broker", database_url=database_url, workers=workers)
        stack.callback(broker.stop)
        provider = start_provider(Path(tmp) / "provider")
        stack.callback(provider.stop)
        _demo_app(broker, provider)
        users = [_signed_in_user(broker, n) for n in range(USERS)]
        user_ids = [
            broker.mgmt("GET", "/v1/mgmt/user", params={"loginId": f"connect-{n}@bench.test"})[
                "user"
            ]["userId"]
            for n in range(USERS)
        ]
        soak = Soak(
            broker=broker,
            provider=provider,
            jwts=users,
            user_ids=user_ids,
            connected=[False] * USERS,
            locks=[threading.Lock() for _ in range(USERS)],
        )
        started = time.monotonic()
        _drive(soak, duration_s, seed)
        elapsed = time.monotonic() - started
        expected_connections, lost = _lost_connections(soak)
    tally = soak.tally
    return {
        "backend": f"postgresql, {workers} workers" if database_url else "sqlite, 1 worker",
        "duration_s": round(elapsed, 1),
        "operations": sum(tally.operations.values()),
        **{f"operations_{op}": tally.operations[op] for op, _ in MIX},
        "provider_faults_injected": tally.faults,
        "errors_expected": sum(tally.expected.values()),
        "errors_unexpected": len(tally.unexpected),
        "connections_expected": expected_connections,
        "connections_lost": lost,
        "unexpected_samples": tally.unexpected[:5],
    }


def _write_report(figures: dict[str, Any], command: str) -> None:
    lines = [
        BEGIN,
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `{command}`, "
        f"{figures['backend']}, {os.cpu_count()} CPUs.",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in figures.items() if k not in {"backend"}),
        END,
    ]
    text = REPORT.read_text() if REPORT.exists() else f"# Reliability\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    REPORT.write_text(head + "\n".join(lines) + tail)


def main() -> None:
    """Run the soak, print its figures, update docs/reliability.md; exit 1 if anything was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=90.0, help="seconds (at most 300)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    figures = run(args.duration, args.seed)
    for name, value in figures.items():
        print(f"RESULT {name}={value}")
    _write_report(figures, f"python -m bench.soak --duration {args.duration:g}")
    failed = figures["errors_unexpected"] or figures["connections_lost"]
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
