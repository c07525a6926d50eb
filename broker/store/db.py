"""The engine, sessions and migrations: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from pydantic_core import from_json
from sqlalchemy import Connection, Dialect, Engine, Select, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    """The declarative base every broker table derives from."""


def now_s() -> float:
    """Wall-clock Unix seconds (one place, so tests can reason about time)."""
    return time.time()


# PostgreSQL connections one broker deployment may hold in all (its workers' pools together),
# well under the server's default ``max_connections`` of 100, which other clients share.
PG_CONNECTION_BUDGET = 60
PG_MAX_PER_WORKER = 30


def make_engine(url: str, workers: int = 1) -> Engine:
    """An engine tuned for the broker: WAL and busy timeout on SQLite, a pool on PostgreSQL
    sized so ``workers`` processes together stay within ``PG_CONNECTION_BUDGET``; JSON columns
    read by pydantic's parser (a token row has three: ≈1 µs each by ``json.loads``, ≈0.15 µs
    by ``from_json``, the same values)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=40,
            json_deserializer=from_json,
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
    per_worker = max(6, min(PG_MAX_PER_WORKER, PG_CONNECTION_BUDGET // max(1, workers)))
    return create_engine(
        url,
        pool_size=per_worker // 3,
        max_overflow=per_worker - per_worker // 3,
        pool_pre_ping=True,
        json_deserializer=from_json,
    )


@dataclass(frozen=True)
class _Prepared:
    """A query compiled once for one dialect, and how to bind it and read its rows."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' order for a positional paramstyle
    names: tuple[str, ...]
    # (index, processor) of the columns whose type converts the driver's value (JSON, booleans)
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]
    tuple_type: Any  # the named tuple of ``names``

    @classmethod
    def of(cls, query: Select[Any], dialect: Dialect) -> _Prepared:
        compiled = query.compile(dialect=dialect)
        columns = list(query.selected_columns)
        names = tuple(c.key or "" for c in columns)
        processors = [c.type.result_processor(dialect, None) for c in columns]
        return cls(
            sql=compiled.string,
            order=tuple(compiled.positiontup or ()) if compiled.positional else None,
            names=names,
            conversions=tuple((i, f) for i, f in enumerate(processors) if f is not None),
            tuple_type=namedtuple("Record", names),
        )

    def bind(self, params: dict[str, Any]) -> Any:
        """The driver's parameters: a tuple in order, or the mapping itself."""
        return tuple(params[name] for name in self.order) if self.order is not None else params

    def record(self, row: Sequence[Any]) -> Any:
        """One driver row as a named tuple of converted values (only the columns whose type
        converts are touched: most of a token row is text and integers, as the driver gives)."""
        values = list(row)
        for i, convert in self.conversions:
            values[i] = convert(values[i])
        return self.tuple_type._make(values)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, workers: int = 1) -> None:
        self.url = url
        self.engine = make_engine(url, workers)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        self._loop_conn: Connection | None = None
        self._loop_cursor: Any = None  # the driver's cursor on it, reused by every read
        self._prepared: dict[Select[Any], _Prepared] = {}

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

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (the newest Alembic revision unless a test names an
        older one, to write data a later migration must carry)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def loop_read(self, query: Select[Any], params: dict[str, Any]) -> list[Any]:
        """The rows of a read run on the event loop, through a connection of its own.

        The fetch of a fresh token (the broker's hot path, docs/performance.md) runs on the
        event loop, so it must never wait for a pool checkout behind worker threads, and it
        pays no checkout, pre-ping, ``BEGIN`` or ``ROLLBACK`` per request: the connection is
        held by this process (opened on first use, so each uvicorn worker has its own) in
        autocommit, so every read sees the latest commit. The statement is compiled once per
        query and run on the driver's cursor; each row is a named tuple of the selected
        columns, converted by the columns' own types; one driver cursor serves every read (a
        new psycopg cursor per read cost ≈15 µs of CPU, a third of the read). Only the loop's
        thread calls this. A failed read drops the connection (the next one reconnects) and
        raises SQLAlchemy's error (so the app's handlers answer it as for any other query).
        """
        conn = self._loop_conn
        if conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._loop_conn = conn
            self._loop_cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        prepared = self._prepared.get(query)
        if prepared is None:
            prepared = self._prepared[query] = _Prepared.of(query, self.engine.dialect)
        bound = prepared.bind(params)
        try:
            self._loop_cursor.execute(prepared.sql, bound)
            rows = self._loop_cursor.fetchall()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            self._loop_conn = self._loop_cursor = None
            conn.invalidate()
            raise DBAPIError.instance(
                prepared.sql, bound, exc, self.engine.dialect.loaded_dbapi.Error
            ) from exc
        return [prepared.record(row) for row in rows]

    def dispose(self) -> None:
        """Close the loop's connection and the pooled ones."""
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = self._loop_cursor = None
        self.engine.dispose()
