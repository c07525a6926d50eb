"""The refresh engine in real broker processes: two uvicorn workers sharing PostgreSQL, and a
broker killed with SIGKILL in the middle of a refresh.

The broker runs as operators run it (``python -m broker.cli broker``) with pinned credentials;
the demo provider rotates refresh tokens and revokes a grant whose refresh token is used twice,
so any double refresh would show up as a dead grant.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from broker.project.credentials import new_management_key, new_project_id
from broker.readiness import BROKER_HEALTH, wait_until_up
from broker.store.db import Database
from broker.store.lifecycle import LeaseRow
from broker.store.outbound import ManagedTokenRow
from tests.broker.test_refresh_single_flight import refresh_calls, storm, upload_token
from tests.support.provider import LiveProvider
from tests.support.servers import (
    PG_URL_ENV,
    free_port,
    fresh_postgres_database,
    spawn,
    stop_process_group,
)


@dataclass
class BrokerProcess:
    """``outbound broker`` in a subprocess (its own process group), and its credentials."""

    url: str
    process: subprocess.Popen[bytes]
    project_id: str
    management_key: str

    def mgmt_headers(self) -> dict[str, str]:
        """Authorization for management calls."""
        return {"Authorization": f"Bearer {self.project_id}:{self.management_key}"}

    def kill(self) -> None:
        """SIGKILL the broker and all its workers, and reap it."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop gracefully (SIGINT), or kill."""
        stop_process_group(self.process, signal.SIGINT, timeout_s=20)


@dataclass
class Deployment:
    """Where brokers keep their state, shared by every broker started on it."""

    data_dir: Path
    database_url: str | None
    project_id: str
    management_key: str

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL the brokers use."""
        return self.database_url or f"sqlite:///{self.data_dir / 'broker.db'}"

    def start(self, workers: int) -> BrokerProcess:
        """Start a broker on a free port (background refresh off) and wait until it answers."""
        port = free_port()
        argv = [sys.executable, "-m", "broker.cli", "broker", "--port", str(port)]
        argv += ["--data-dir", str(self.data_dir), "--workers", str(workers), "--no-scheduler"]
        if self.database_url:
            argv += ["--database-url", self.database_url]
        env = {
            **os.environ,
            "OUTBOUND_PROJECT_ID": self.project_id,
            "OUTBOUND_MANAGEMENT_KEY": self.management_key,
            "OUTBOUND_LOG_LEVEL": "WARNING",
        }
        process = spawn(argv, self.data_dir / f"broker-{port}.log", env)
        url = f"http://127.0.0.1:{port}"
        live = BrokerProcess(url, process, self.project_id, self.management_key)
        if not wait_until_up(url + BROKER_HEALTH, process=process):
            live.stop()
            raise RuntimeError((self.data_dir / f"broker-{port}.log").read_text()[-2000:])
        return live


def _deployment(tmp: Path, database_url: str | None) -> Deployment:
    tmp.mkdir(parents=True, exist_ok=True)
    return Deployment(tmp, database_url, new_project_id(), new_management_key())


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """A broker with two uvicorn worker processes on a fresh PostgreSQL database."""
    if not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
    with fresh_postgres_database() as url:
        live = _deployment(tmp_path_factory.mktemp("workers"), url).start(workers=2)
        try:
            yield live
        finally:
            live.stop()


def _lease_waits_across_processes(live: BrokerProcess) -> float:
    text = httpx.get(f"{live.url}/metrics").text
    line = next(
        (
            x
            for x in text.splitlines()
            if x.startswith('outbound_refresh_lease_waits_total{scope="database"}')
        ),
        "",
    )
    return float(line.split()[-1]) if line else 0.0


def test_200_forced_refreshes_through_two_workers_reach_the_provider_once(
    two_workers: BrokerProcess, provider: LiveProvider
) -> None:
    app_id, user_id, grant = upload_token(two_workers, provider)  # type: ignore[arg-type]
    provider.reset_stats()
    provider.set_faults(latency_ms={"value": 1500, "remaining": 1})
    answers = storm([two_workers], app_id, user_id, 200, forceRefresh=True)  # type: ignore[list-item]
    assert {a.status_code for a in answers} == {200}
    tokens = {a.json()["token"]["accessToken"] for a in answers}
    assert len(tokens) == 1 and grant["access_token"] not in tokens
    assert refresh_calls(provider) == 1
    assert provider.stats()["reuse_detected"] == 0
    assert _lease_waits_across_processes(two_workers) >= 1  # the other worker waited on the DB
    # The grant is alive: the new refresh token is active, and one more refresh works.
    assert provider.introspect(answers[0].json()["token"]["refreshToken"])["active"] is True
    again = storm([two_workers], app_id, user_id, 1, forceRefresh=True)[0]  # type: ignore[list-item]
    assert again.status_code == 200 and again.json()["token"]["accessToken"] not in tokens
    assert refresh_calls(provider) == 2


def test_200_fetches_of_an_expired_token_through_two_workers_refresh_it_once(
    two_workers: BrokerProcess, provider: LiveProvider
) -> None:
    app_id, user_id, _ = upload_token(two_workers, provider, expired=True)  # type: ignore[arg-type]
    provider.reset_stats()
    provider.set_faults(latency_ms={"value": 500, "remaining": 1})
    answers = storm([two_workers], app_id, user_id, 200)  # type: ignore[list-item]
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["token"]["accessToken"] for a in answers}) == 1
    assert refresh_calls(provider) == 1 and provider.stats()["reuse_detected"] == 0
    refresh = answers[0].json()["token"]["refreshToken"]
    assert provider.introspect(refresh)["active"] is True
    again = storm([two_workers], app_id, user_id, 1, forceRefresh=True)[0]  # type: ignore[list-item]
    assert again.status_code == 200 and refresh_calls(provider) == 2


def _wait_for(check: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_broker_killed_mid_refresh_loses_no_refresh_token(
    backend: str, provider: LiveProvider, tmp_path: Path
) -> None:
    """SIGKILL while the provider delays the refresh answer. The request dies with the broker
    before the provider processed it (the demo provider drops a request whose client went
    away), so the stored refresh token is still the live one; the restarted broker takes over
    the dead holder's lease at once and refreshes with it. (Had the provider rotated the token
    after the kill, nothing could have been kept: see the lost_response fault test.)"""
    if backend == "postgres" and not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
    with fresh_postgres_database() if backend == "postgres" else _no_database() as url:
        deployment = _deployment(tmp_path / "state", url)
        first = deployment.start(workers=1)
        db = Database(deployment.db_url)
        try:
            app_id, user_id, grant = upload_token(first, provider, expired=True)  # type: ignore[arg-type]
            with db.session() as s:
                token_id = s.scalar(
                    select(ManagedTokenRow.id).where(ManagedTokenRow.user_id == user_id)
                )
            provider.reset_stats()
            provider.set_faults(latency_ms={"value": 2000, "remaining": 1})
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(storm, [first], app_id, user_id, 1)
                _wait_for(lambda: _lease_owner(db, f"refresh:{token_id}") is not None)
                killed_at = time.monotonic()
                first.kill()
                with pytest.raises(httpx.HTTPError):
                    pending.result()
            time.sleep(max(0.0, killed_at + 2.5 - time.monotonic()))  # the delay has run out
            assert provider.introspect(grant["refresh_token"])["active"] is True
            assert _lease_owner(db, f"refresh:{token_id}") is not None  # the dead holder's
            second = deployment.start(workers=1)
            try:
                answer = storm([second], app_id, user_id, 1)[0]  # type: ignore[list-item]
            finally:
                second.stop()
            assert answer.status_code == 200, answer.text
            token = answer.json()["token"]
            assert token["accessToken"] != grant["access_token"]
            assert provider.introspect(token["refreshToken"])["active"] is True
            assert provider.introspect(grant["refresh_token"])["status"] == "rotated"
            assert provider.stats()["reuse_detected"] == 0
        finally:
            first.stop()
            db.dispose()


def _lease_owner(db: Database, name: str) -> str | None:
    with db.session() as s:
        row = s.get(LeaseRow, name)
        return row.owner if row is not None else None


class _no_database:
    """Stands in for ``fresh_postgres_database`` on SQLite (the data folder holds the file)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None
