"""Alembic environment: runs on the connection the broker hands over, or on the configured URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from broker.store import models  # noqa: F401  (registers every table on Base.metadata)
from broker.store.db import Base

target_metadata = Base.metadata


def run() -> None:
    """Run migrations online on the given connection (or a URL for `alembic` CLI use)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("ALEMBIC_DB_URL") or context.config.get_main_option("sqlalchemy.url")
    assert url, "set sqlalchemy.url (alembic -x) or pass a connection"
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
