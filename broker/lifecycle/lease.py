"""Named leases in the database: one holder at a time across threads, workers and replicas.

Acquire is one atomic statement on both backends, one round trip: ``INSERT … ON CONFLICT DO
UPDATE SET owner = me … WHERE owner IS NULL OR expires_at < now OR owner = me RETURNING
generation`` — on PostgreSQL the conflicting row is locked and the condition re-checked on its
newest version (READ COMMITTED), on SQLite the write lock serialises them; either way at most
one caller sees a changed row. Only when that finds the lease held is it read, to take it over
from a dead owner (one more conditional update).
Release is fenced by owner, and records the outcome for the callers who waited.

Owner ids are ``host:pid:random``: a lease whose owner is a dead process on this host is free
at once (a broker killed mid-refresh does not block its successor until the expiry).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.store.db import Database, now_s
from broker.store.lifecycle import LeaseRow

HOST = socket.gethostname()


def new_owner() -> str:
    """A fresh owner id for one holder (``host:pid:random``)."""
    return f"{HOST}:{os.getpid()}:{secrets.token_hex(6)}"


def _owner_is_dead(owner: str | None) -> bool:
    """Whether ``owner`` names a process on this host that no longer runs."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class LeaseState:
    """A snapshot of one lease row."""

    owner: str | None
    expires_at: float
    generation: int
    settled_generation: int
    settled_at: float
    settled_outcome: str
    settled_error: str

    def held(self, now: float) -> bool:
        """Whether someone holds it right now (not released, not expired, owner alive)."""
        return bool(self.owner) and self.expires_at > now and not _owner_is_dead(self.owner)


FREE = LeaseState(None, 0.0, 0, 0, 0.0, "", "")


def lease_in(session: Session, name: str) -> LeaseState:
    """The current state of lease ``name`` read in ``session`` (``FREE`` when it never existed;
    fresh from the database, not from the session's identity map)."""
    row = session.get(LeaseRow, name, populate_existing=True)
    if row is None:
        return FREE
    return LeaseState(
        row.owner,
        row.expires_at,
        row.generation,
        row.settled_generation,
        row.settled_at,
        row.settled_outcome,
        row.settled_error,
    )


def read_lease(db: Database, name: str) -> LeaseState:
    """The current state of lease ``name`` (``FREE`` when it never existed)."""
    with db.session() as s:
        return lease_in(s, name)


def try_acquire(db: Database, name: str, owner: str, ttl_s: float) -> int | None:
    """Take lease ``name`` for ``ttl_s`` if it is free (or already ours); its generation or None."""
    now = now_s()
    taken = {"owner": owner, "expires_at": now + ttl_s, "acquired_at": now}
    free = or_(LeaseRow.owner.is_(None), LeaseRow.expires_at < now, LeaseRow.owner == owner)
    insert = sqlite_insert if db.is_sqlite else pg_insert
    with db.session() as s:
        generation = s.execute(
            insert(LeaseRow)
            .values(name=name, generation=1, **taken)
            .on_conflict_do_update(
                index_elements=["name"],
                set_={**taken, "generation": LeaseRow.generation + 1},
                where=free,
            )
            .returning(LeaseRow.generation)
        ).scalar_one_or_none()
    if generation is None:
        stale = read_lease(db, name)
        if stale.owner and stale.owner != owner and _owner_is_dead(stale.owner):
            generation = _take(db, name, LeaseRow.owner == stale.owner, taken)
    return int(generation) if generation is not None else None


def _take(
    db: Database, name: str, condition: ColumnElement[bool], taken: dict[str, object]
) -> int | None:
    """Lease ``name`` taken over where ``condition`` still holds; its generation or None."""
    with db.session() as s:
        result = s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, condition)
            .values(**taken, generation=LeaseRow.generation + 1)
            .returning(LeaseRow.generation)
        )
        return result.scalar_one_or_none()


def release(
    db: Database,
    name: str,
    owner: str,
    outcome: str,
    error: str = "",
    settled_at: float | None = None,
) -> bool:
    """Give lease ``name`` up if we still hold it, recording how the guarded work ended
    (``settled_at``: when it ended, if earlier than now — an outcome passed on unchanged)."""
    with db.session() as s:
        result = s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.owner == owner)
            .values(
                owner=None,
                expires_at=0.0,
                settled_generation=LeaseRow.generation,
                settled_at=settled_at or now_s(),
                settled_outcome=outcome,
                settled_error=error[:500],
            )
            .returning(LeaseRow.name)
        )
        return result.scalar_one_or_none() is not None


def holder(db: Database, name: str) -> str | None:
    """Who holds lease ``name`` now (None when free)."""
    with db.session() as s:
        row = s.scalar(select(LeaseRow).where(LeaseRow.name == name))
        if row is None or not row.owner or row.expires_at <= now_s():
            return None
        return row.owner
