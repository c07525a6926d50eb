"""Real servers on loopback for tests: the broker (in-process uvicorn thread) and fresh databases."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from broker.config import BrokerSettings
from broker.context import Broker, bootstrap

PG_URL_ENV = "OUTBOUND_TEST_DATABASE_URL"
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThreadedServer:
    """Runs an ASGI app with uvicorn in a daemon thread; ``stop()`` shuts it down cleanly."""

    def __init__(self, app: FastAPI | Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadedServer:
        """Start and wait until the socket accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(15)


def spawn(
    argv: list[str], log_path: Path, env: Mapping[str, str] | None = None, *, cwd: Path = REPO_ROOT
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group (``stop_process_group`` stops it), its output
    (stdout and stderr) into ``log_path``; ``env``, when given, is its whole environment."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process_group(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 15
) -> None:
    """Stop a program started with ``start_new_session=True``: ``sig`` to its process group,
    then SIGKILL to the group if it has not exited after ``timeout_s``."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new empty database on the test PostgreSQL server, dropped afterwards."""
    admin_url = os.environ[PG_URL_ENV]
    name = f"outbound_test_{secrets.token_hex(6)}"
    engine_url = admin_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(engine_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}'"
                )
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@dataclass
class LiveBroker:
    """A broker answering on loopback, with the credentials to call it."""

    url: str
    broker: Broker
    server: ThreadedServer
    data_dir: Path

    @property
    def project_id(self) -> str:
        """The local project id."""
        return self.broker.project_id

    @property
    def management_key(self) -> str:
        """The management key in clear (tests only)."""
        return self.broker.management_key.reveal()

    def mgmt_headers(self) -> dict[str, str]:
        """Authorization for management calls (``Bearer pid:key``)."""
        return {"Authorization": f"Bearer {self.project_id}:{self.management_key}"}

    def user_headers(self, jwt: str) -> dict[str, str]:
        """Authorization for user calls (``Bearer pid:jwt``)."""
        return {"Authorization": f"Bearer {self.project_id}:{jwt}"}

    def project_headers(self) -> dict[str, str]:
        """Authorization for sign-in calls (``Bearer pid``)."""
        return {"Authorization": f"Bearer {self.project_id}"}

    def stop(self) -> None:
        """Stop serving and close the database pool."""
        self.server.stop()
        self.broker.db.dispose()


def start_broker(
    data_dir: Path, database_url: str | None = None, *, port: int | None = None, **settings: Any
) -> LiveBroker:
    """Bootstrap a broker in ``data_dir`` and serve it on ``port`` (default: a free one)."""
    from broker.app import create_app

    port = port or free_port()
    config = BrokerSettings(
        data_dir=data_dir,
        database_url=database_url,
        port=port,
        scheduler_enabled=settings.pop("scheduler_enabled", False),
        **settings,
    )
    broker = bootstrap(config)
    server = ThreadedServer(create_app(broker), port=port).start()
    return LiveBroker(url=server.url, broker=broker, server=server, data_dir=data_dir)
