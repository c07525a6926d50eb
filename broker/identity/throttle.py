"""Throttling of guessing: failed sign-ins, OTP verifies and management keys, kept in the database.

Failures are counted per bucket in a fixed window: per login id (known or not, so the answer
never tells which ids exist, reference §11) and per client address. Once a bucket holds
``limit`` failures, further attempts get 429 ``E130429`` with ``Retry-After`` until the window
ends. Counters live in the database, so every worker process and replica sees the same count.

Limits come from ``BrokerSettings.extra["throttle"]`` (a dict of ``ThrottlePolicy`` fields), so
tests and operators can choose small or large numbers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from broker.auth import broker_of
from broker.context import Broker
from broker.errors import RateLimited, Unauthorized
from broker.store.db import Database, now_s
from broker.store.identity import ThrottleCounter


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures each kind of bucket may hold within ``window_s`` seconds."""

    login_failures: int = 10
    address_failures: int = 100
    management_failures: int = 30
    window_s: int = 900

    @classmethod
    def from_settings(cls, extra: dict[str, Any]) -> ThrottlePolicy:
        """The policy from ``settings.extra["throttle"]``; defaults for what is not given."""
        return cls(**extra.get("throttle", {}))


@dataclass(frozen=True)
class Bucket:
    """One counter and the number of failures it may hold."""

    key: str
    limit: int


class Throttle:
    """Counts failures per bucket and refuses attempts once a bucket is full."""

    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self._db = db
        self.policy = policy

    def sign_in_buckets(self, kind: str, login_id: str, address: str) -> tuple[Bucket, Bucket]:
        """The per-login-id and per-address buckets of one kind of sign-in (``pwd``, ``otp``)."""
        login_digest = hashlib.sha256(login_id.strip().lower().encode()).hexdigest()
        return (
            Bucket(f"{kind}:login:{login_digest}", self.policy.login_failures),
            Bucket(f"{kind}:addr:{address}", self.policy.address_failures),
        )

    def management_bucket(self, address: str) -> Bucket:
        """The per-address bucket of failed management keys."""
        return Bucket(f"mgmt:addr:{address}", self.policy.management_failures)

    def check(self, *buckets: Bucket) -> None:
        """429 when any bucket already holds its limit of failures in the current window."""
        t = now_s()
        with self._db.session() as s:
            rows = s.scalars(
                select(ThrottleCounter).where(ThrottleCounter.bucket.in_([b.key for b in buckets]))
            ).all()
        limits = {b.key: b.limit for b in buckets}
        waits = [
            r.window_start + self.policy.window_s - t
            for r in rows
            if r.failures >= limits[r.bucket] and r.window_start + self.policy.window_s > t
        ]
        if waits:
            raise RateLimited(math.ceil(max(waits)))

    def failed(self, *buckets: Bucket) -> None:
        """Count one failure in each bucket (a new window starts when the old one is over)."""
        t = now_s()
        with self._db.session() as s:
            insert = sqlite_insert if self._db.is_sqlite else pg_insert
            stale = ThrottleCounter.window_start <= t - self.policy.window_s
            for bucket in buckets:
                stmt = insert(ThrottleCounter).values(bucket=bucket.key, window_start=t, failures=1)
                s.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["bucket"],
                        set_={
                            "failures": case((stale, 1), else_=ThrottleCounter.failures + 1),
                            "window_start": case((stale, t), else_=ThrottleCounter.window_start),
                        },
                    )
                )

    @contextmanager
    def attempt(self, kind: str, login_id: str, address: str) -> Iterator[None]:
        """Guard one sign-in attempt: 429 when over, a failure counted on 401, reset on success."""
        login, addr = self.sign_in_buckets(kind, login_id, address)
        self.check(login, addr)
        try:
            yield
        except Unauthorized:
            self.failed(login, addr)
            raise
        self.forget(login)

    def forget(self, bucket: Bucket) -> None:
        """Clear a bucket (a login id's failures after its successful sign-in)."""
        with self._db.session() as s:
            s.execute(delete(ThrottleCounter).where(ThrottleCounter.bucket == bucket.key))


def throttle_of(broker: Broker) -> Throttle:
    """The broker's throttle, created on first use."""
    throttle = broker.services.get("throttle")
    if throttle is None:
        policy = ThrottlePolicy.from_settings(broker.settings.extra)
        throttle = broker.services.setdefault("throttle", Throttle(broker.db, policy))
    assert isinstance(throttle, Throttle)
    return throttle


def client_address(request: Request) -> str:
    """The caller's address as the server sees it."""
    return request.client.host if request.client else "unknown"


def management_key_ok(request: Request, key: str | None) -> bool:
    """Whether ``key`` is a live management key; wrong keys count per address, 429 when over.

    A valid key is never refused, so a guesser on a shared address cannot lock out the
    dashboard; with 256-bit keys the count only stops noise, not a feasible search.
    """
    broker = broker_of(request)
    if key and broker.management_keys.is_valid(key):
        return True
    if key:
        throttle = throttle_of(broker)
        bucket = throttle.management_bucket(client_address(request))
        throttle.check(bucket)
        throttle.failed(bucket)
    return False
