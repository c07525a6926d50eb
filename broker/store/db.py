"""The engine, sessions and migrations: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Executable, Row, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """The declarative base every broker table derives from."""


def now_s() -> float:
    """Wall-clock Unix seconds (one place, so tests can reason about time)."""
    return time.time()


def make_engine(url: str) -> Engine:
    """An engine tuned for the broker: WAL and busy timeout on SQLite, a pool on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._loop_conn: Connection | None = None

    @property
    def is_sqlite(self) -> bool:
        """Whether the backing store is SQLite (single machine)."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._factory() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def loop_read(self, query: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        """The rows of a read run on the event loop, through a connection of its own.

        The fetch of a fresh token (the broker's hot path, docs/performance.md) runs on the
        event loop, so it must never wait for a pool checkout behind worker threads, and it
        pays no checkout, pre-ping, ``BEGIN`` or ``ROLLBACK`` per request: the connection is
        held by this process (opened on first use, so each uvicorn worker has its own) in
        autocommit, so every read sees the latest commit. Only the loop's thread calls this.
        A failed read drops the connection (the next one reconnects) and raises.
        """
        conn = self._loop_conn
        if conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._loop_conn = conn
        try:
            return conn.execute(query, params).all()
        except DBAPIError:
            self._loop_conn = None
            conn.invalidate()
            raise

    def dispose(self) -> None:
        """Close the loop's connection and the pooled ones."""
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None
        self.engine.dispose()
