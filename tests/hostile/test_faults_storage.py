"""Storage faults: a locked SQLite file and a PostgreSQL server that drops the broker's sessions.

A request that cannot reach the database waits (SQLite's busy timeout) or fails with a Descope
503 (``E011009``, which the SDKs retry), never a 500 traceback; nothing half-written is left
behind, and the broker serves again as soon as the database does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, event, text

from tests.support.servers import PG_URL_ENV, LiveBroker

BUSY_TIMEOUT_MS = 300


def _create_user(live: LiveBroker, login_id: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/mgmt/user/create",
        headers=live.mgmt_headers(),
        json={"loginId": login_id},
        timeout=30,
    )


def _user_exists(live: LiveBroker, login_id: str) -> bool:
    found = httpx.get(
        f"{live.url}/v1/mgmt/user", headers=live.mgmt_headers(), params={"loginId": login_id}
    )
    return found.status_code == 200


@contextmanager
def _write_lock(live: LiveBroker) -> Iterator[None]:
    """Another process's writer holding the SQLite file's write lock."""
    holder = sqlite3.connect(live.data_dir / "broker.db", timeout=5, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def sqlite_broker(make_broker: Callable[..., LiveBroker]) -> LiveBroker:
    """A SQLite broker whose busy timeout is short, so a held lock outlasts it quickly."""
    live = make_broker()
    engine = live.broker.db.engine

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    engine.dispose()  # reconnect with the listener above applied after the broker's own
    return live


def test_a_write_waits_for_a_briefly_held_sqlite_lock(sqlite_broker: LiveBroker) -> None:
    with _write_lock(sqlite_broker):
        answers: list[httpx.Response] = []
        writer = threading.Thread(
            target=lambda: answers.append(_create_user(sqlite_broker, "patient@example.test"))
        )
        writer.start()
        time.sleep(BUSY_TIMEOUT_MS / 3000)
    writer.join(30)
    assert answers and answers[0].status_code == 200, answers
    assert _user_exists(sqlite_broker, "patient@example.test")


def test_a_write_past_the_busy_timeout_is_a_descope_503_and_leaves_nothing(
    sqlite_broker: LiveBroker,
) -> None:
    with _write_lock(sqlite_broker):
        refused = _create_user(sqlite_broker, "locked-out@example.test")
        reads = httpx.get(
            f"{sqlite_broker.url}/v1/mgmt/tenant/all", headers=sqlite_broker.mgmt_headers()
        )
    assert refused.status_code == 503, refused.text
    assert refused.json()["errorCode"] == "E011009"
    assert reads.status_code == 200  # WAL: readers are not blocked by the writer
    assert not _user_exists(sqlite_broker, "locked-out@example.test")
    assert _create_user(sqlite_broker, "locked-out@example.test").status_code == 200


@pytest.mark.postgres
def test_terminated_postgres_sessions_are_replaced_on_the_next_request(
    make_broker: Callable[..., LiveBroker],
) -> None:
    if not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
    live = make_broker(backend="postgres")
    for i in range(5):  # fill the pool with live sessions
        assert _create_user(live, f"before-{i}@example.test").status_code == 200
    database = live.broker.db.engine.url.database
    admin = create_engine(
        os.environ[PG_URL_ENV].replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar()
    admin.dispose()
    assert killed and killed >= 1
    statuses = [_create_user(live, f"after-{i}@example.test").status_code for i in range(5)]
    assert statuses == [200] * 5
    assert all(_user_exists(live, f"before-{i}@example.test") for i in range(5))
