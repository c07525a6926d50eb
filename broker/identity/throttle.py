"""Throttling of guessing and of costly requests, counted atomically in the database.

Attempts are counted per bucket in a fixed window: per login id (known or not, so the answer
never tells which ids exist, reference §11) and per client address. Each attempt *takes* a
place first, in one statement that increments the counter and returns it (an upsert with
``RETURNING``, on SQLite and PostgreSQL alike), and only then is the password or code checked:
sixty concurrent guesses cannot all read "9 failures so far" and all be evaluated. Once a bucket
is over its limit, attempts get 429 ``E130429`` with ``Retry-After`` until the window ends.

* Sign-in (password, code verify): a failure keeps its place; a success clears the login id's
  bucket and gives the address its place back; an error that is not a failure gives both back.
* Sign-ups and code sends are counted whatever their outcome (they hash, create users, send
  mail), per login id and per address.
* Wrong management keys are counted per address; a valid key is never refused.

Password hashing is bounded apart from counting: each argon2id hash takes 64 MiB, so at most
``hash_memory_mib // 64`` run at once per process, a few more wait, the rest get 429 at once.

Limits come from ``BrokerSettings.throttle`` (a ``ThrottlePolicy``), so tests and operators can
choose small or large numbers.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.area_settings import ThrottlePolicy
from broker.context import Broker, ServiceKey, broker_of
from broker.errors import RateLimited, Unauthorized
from broker.identity.passwords import HASH_MEMORY_MIB
from broker.store.db import Database, now_s
from broker.store.identity import ThrottleCounter


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

    def signup_buckets(self, login_id: str, address: str) -> tuple[Bucket, Bucket]:
        """The per-login-id and per-address buckets of sign-ups (every attempt counts)."""
        return self._counted(
            "signup",
            login_id,
            address,
            self.policy.signups_per_login,
            self.policy.signups_per_address,
        )

    def code_buckets(self, login_id: str, address: str) -> tuple[Bucket, Bucket]:
        """The per-login-id and per-address buckets of one-time codes sent."""
        return self._counted(
            "send", login_id, address, self.policy.codes_per_login, self.policy.codes_per_address
        )

    def _counted(
        self, kind: str, login_id: str, address: str, per_login: int, per_address: int
    ) -> tuple[Bucket, Bucket]:
        login, addr = self.sign_in_buckets(kind, login_id, address)
        return Bucket(login.key, per_login), Bucket(addr.key, per_address)

    def take(self, *buckets: Bucket) -> None:
        """Count one attempt in each bucket, atomically; 429 when any is now over its limit."""
        t = now_s()
        waits: list[float] = []
        with self._db.session() as s:
            for bucket in buckets:
                count, window_start = self._increment(s, bucket.key, t)
                if count > bucket.limit:
                    waits.append(window_start + self.policy.window_s - t)
        if waits:
            raise RateLimited(math.ceil(max(waits)))

    def _increment(self, s: Session, key: str, t: float) -> tuple[int, float]:
        # One statement: the row lock (PostgreSQL) or write lock (SQLite) makes it atomic.
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        stale = ThrottleCounter.window_start <= t - self.policy.window_s
        stmt = (
            insert(ThrottleCounter)
            .values(bucket=key, window_start=t, failures=1)
            .on_conflict_do_update(
                index_elements=["bucket"],
                set_={
                    "failures": case((stale, 1), else_=ThrottleCounter.failures + 1),
                    "window_start": case((stale, t), else_=ThrottleCounter.window_start),
                },
            )
            .returning(ThrottleCounter.failures, ThrottleCounter.window_start)
        )
        count, window_start = s.execute(stmt).one()
        return int(count), float(window_start)

    def give_back(self, *buckets: Bucket) -> None:
        """Return the place an attempt took (it was not a failure)."""
        with self._db.session() as s:
            s.execute(
                update(ThrottleCounter)
                .where(
                    ThrottleCounter.bucket.in_([b.key for b in buckets]),
                    ThrottleCounter.failures > 0,
                )
                .values(failures=ThrottleCounter.failures - 1)
            )

    @contextmanager
    def attempt(self, kind: str, login_id: str, address: str) -> Iterator[None]:
        """Guard one sign-in attempt: a place taken first (429 when over), kept on 401."""
        login, addr = self.sign_in_buckets(kind, login_id, address)
        self.take(login, addr)
        try:
            yield
        except Unauthorized:
            raise
        except BaseException:
            self.give_back(login, addr)
            raise
        self.forget(login)
        self.give_back(addr)

    def forget(self, bucket: Bucket) -> None:
        """Clear a bucket (a login id's failures after its successful sign-in)."""
        with self._db.session() as s:
            s.execute(delete(ThrottleCounter).where(ThrottleCounter.bucket == bucket.key))


class HashSlots:
    """At most ``slots`` password hashes at once; ``waiting`` more may queue, others get 429."""

    def __init__(self, slots: int, waiting: int, wait_s: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._max_in_flight = slots + waiting
        self._wait_s = wait_s

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold one slot for the duration of a hash."""
        with self._lock:
            if self._in_flight >= self._max_in_flight:
                raise RateLimited(1, "Too many password checks at once; retry shortly")
            self._in_flight += 1
        try:
            if not self._slots.acquire(timeout=self._wait_s):
                raise RateLimited(1, "Too many password checks at once; retry shortly")
            try:
                yield
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._in_flight -= 1


def _hash_slots(broker: Broker) -> HashSlots:
    policy = throttle_of(broker).policy
    return HashSlots(
        max(1, policy.hash_memory_mib // HASH_MEMORY_MIB), policy.hash_waiting, policy.hash_wait_s
    )


THROTTLE = ServiceKey("throttle", lambda broker: Throttle(broker.db, broker.settings.throttle))
HASH_SLOTS = ServiceKey("hash_slots", _hash_slots)


def throttle_of(broker: Broker) -> Throttle:
    """The broker's throttle, created on first use."""
    return broker.service(THROTTLE)


def hash_slots(broker: Broker) -> HashSlots:
    """The broker's bound on concurrent password hashes, sized to the policy's memory."""
    return broker.service(HASH_SLOTS)


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
        throttle.take(throttle.management_bucket(client_address(request)))
    return False
