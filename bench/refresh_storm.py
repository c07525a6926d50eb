"""refresh_storm: 200 concurrent forced refreshes of one token through four broker workers.

A broker with four uvicorn workers (PostgreSQL when ``OUTBOUND_TEST_DATABASE_URL`` is set, a
fresh database on it; else SQLite) and the background scheduler on; the demo provider (strict
rotation and reuse detection) answers the refresh after 1.5 s, like a slow real provider. 200
threads fetch the same user's token with ``forceRefresh`` at once. Reports how many refresh
requests reached the provider (the goal is 1), the callers' p50/p99 latency (the goal: p99
within the provider's delay + 500 ms), and the fetch throughput of that token afterwards, with
the scheduler running. A forced refresh that arrives after the storm's refresh settled is a new
refresh, so the burst is released at a barrier.

    python -m bench.refresh_storm      # prints RESULT name=value lines
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from broker.project.credentials import new_management_key, new_project_id
from broker.readiness import BROKER_HEALTH, wait_until_up
from tests.support.outbound import CALLBACK_PATH, CLIENT_SECRET, create_demo_app
from tests.support.provider import LiveProvider, start_provider
from tests.support.servers import PG_URL_ENV, free_port, fresh_postgres_database

REPO_ROOT = Path(__file__).resolve().parents[1]
CALLERS = 200
PROVIDER_LATENCY_MS = 1500
WORKERS = 4
THROUGHPUT_CLIENTS, THROUGHPUT_S = 16, 3.0
FETCH = "/v1/mgmt/outbound/app/user/token/latest"
APP_ID, USER_ID = "acme-storm", "Ustorm0000000000000000000000"


class StormBroker:
    """``outbound broker --workers 4`` with the scheduler on, and pinned credentials."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        self.project_id, self.key = new_project_id(), new_management_key()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "broker.cli", "broker", "--port", str(port)]
        argv += ["--data-dir", str(data_dir), "--workers", str(WORKERS)]
        argv += ["--scheduler-interval", "1"]
        if database_url:
            argv += ["--database-url", database_url]
        env = {
            **os.environ,
            "OUTBOUND_PROJECT_ID": self.project_id,
            "OUTBOUND_MANAGEMENT_KEY": self.key,
            "OUTBOUND_LOG_LEVEL": "WARNING",
        }
        with (data_dir / "broker.log").open("wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_until_up(self.url + BROKER_HEALTH, process=self.process):
            self.stop()
            raise RuntimeError((data_dir / "broker.log").read_text()[-2000:])

    def mgmt_headers(self) -> dict[str, str]:
        """Authorization for management calls."""
        return {"Authorization": f"Bearer {self.project_id}:{self.key}"}

    def stop(self) -> None:
        """Stop the broker and its workers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _store_token(broker: StormBroker, provider: LiveProvider) -> None:
    create_demo_app(broker, provider, APP_ID)  # type: ignore[arg-type]
    grant = provider.client(APP_ID, CLIENT_SECRET, redirect_uri=broker.url + CALLBACK_PATH).tokens()
    body = {
        "appId": APP_ID,
        "userId": USER_ID,
        "accessToken": grant["access_token"],
        "refreshToken": grant["refresh_token"],
        "accessTokenExpiry": int(time.time()) + grant["expires_in"],
        "scopes": grant["scope"].split(),
    }
    path = "/v1/mgmt/outbound/app/user/oauthtoken/upload"
    httpx.post(broker.url + path, headers=broker.mgmt_headers(), json=body).raise_for_status()


def _storm(broker: StormBroker) -> tuple[list[float], int]:
    """Latencies (ms) of ``CALLERS`` forced fetches released together, and distinct tokens.

    The callers are ``CALLERS`` keep-alive connections opened first; the same pre-built request
    is then written to all of them in one go, and one thread reads the answers as they come
    (``selectors``), each timed from its own write to its last byte. A light client: 200 Python
    threads (or 200 httpx requests) would measure their own GIL contention on a busy machine —
    seconds of it, larger than what the broker does — rather than the broker.
    """
    host, port = broker.url.removeprefix("http://").split(":")
    body = json.dumps({"appId": APP_ID, "userId": USER_ID, "options": {"forceRefresh": True}})
    request = (
        f"POST {FETCH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: {broker.mgmt_headers()['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    sockets = [socket.create_connection((host, int(port)), timeout=60) for _ in range(CALLERS)]
    answers: dict[socket.socket, bytes] = {sock: b"" for sock in sockets}
    done: dict[socket.socket, float] = {}
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        sent: dict[socket.socket, float] = {}
        for sock in sockets:
            sent[sock] = time.perf_counter()
            sock.sendall(request)
        deadline = time.monotonic() + 60
        while len(done) < len(sockets) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                answers[sock] += sock.recv(65536)
                if _complete(answers[sock]):
                    done[sock] = time.perf_counter()
                    selector.unregister(sock)
    for sock in sockets:
        sock.close()
    if len(done) < len(sockets):
        raise RuntimeError(f"{len(sockets) - len(done)} callers got no whole answer in 60 s")
    tokens = {_access_token(answers[sock]) for sock in sockets}
    return [(done[sock] - sent[sock]) * 1000 for sock in sockets], len(tokens)


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole HTTP response (headers and ``Content-Length`` bytes)."""
    head, found, rest = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(rest) >= int(value)
    return False


def _access_token(answer: bytes) -> str:
    """The access token of a 200 answer; ``RuntimeError`` for anything else."""
    head, _, rest = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"a storm caller was answered {head.splitlines()[0]!r}: {rest[:200]!r}")
    token: str = json.loads(rest)["token"]["accessToken"]
    return token


def _throughput(broker: StormBroker, duration_s: float = THROUGHPUT_S) -> float:
    """Fetches per second of the (fresh) token with ``THROUGHPUT_CLIENTS`` threads."""
    body = {"appId": APP_ID, "userId": USER_ID}
    deadline = time.monotonic() + duration_s
    with httpx.Client(timeout=30) as http:

        def loop(_: int) -> int:
            done = 0
            while time.monotonic() < deadline:
                http.post(broker.url + FETCH, headers=broker.mgmt_headers(), json=body)
                done += 1
            return done

        with ThreadPoolExecutor(THROUGHPUT_CLIENTS) as pool:
            total = sum(pool.map(loop, range(THROUGHPUT_CLIENTS)))
    return total / duration_s


def run() -> dict[str, float]:
    """Run the storm; answers the figures."""
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storm-")))
        url = stack.enter_context(fresh_postgres_database()) if os.environ.get(PG_URL_ENV) else None
        provider = start_provider()
        stack.callback(provider.stop)
        broker = StormBroker(work, url)
        stack.callback(broker.stop)
        _store_token(broker, provider)
        _throughput(broker, 1.0)  # warm both workers up (imports, pools, caches)
        provider.reset_stats()
        provider.set_faults(latency_ms={"value": PROVIDER_LATENCY_MS, "remaining": 1})
        latencies, distinct = _storm(broker)
        latencies.sort()
        calls = provider.stats()["token_calls"].get("refresh_token", 0)
        rps = _throughput(broker)
    return {
        "storm_provider_calls": float(calls),
        "storm_provider_delay_ms": float(PROVIDER_LATENCY_MS),
        "storm_p50_ms": statistics.median(latencies),
        "storm_p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "storm_distinct_tokens": float(distinct),
        "storm_fetch_rps_scheduler_on": rps,
    }


def main() -> None:
    """Print ``RESULT name=value`` lines."""
    figures: dict[str, Any] = run()
    for name, value in figures.items():
        print(f"RESULT {name}={value:.1f}", flush=True)


if __name__ == "__main__":
    main()
