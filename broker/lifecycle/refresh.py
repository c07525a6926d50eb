"""Refreshing a stored token, at most once at a time across threads, workers and replicas.

``refresh_token`` is the one entry point (fetch, forced fetch, the scheduler). Layers:

1. In-process single-flight (``lifecycle.flight``): a burst in one worker has one leader.
2. A database lease ``refresh:<token id>`` (``lifecycle.lease``) with an owner id and an expiry
   longer than the provider call. Waiters poll the lease; they never call the provider, and
   when the holder settles they share its outcome — a failure too.
3. A compare-and-swap on the token's ``version`` for every write (``lifecycle.transitions``).

A ``forceRefresh`` is answered by any refresh that settles after its request arrived, so
concurrent forced refreshes coalesce into one provider call. A fetch never returns an access
token that expires within the minimum validity (``refresh_margin_s``, at most half the token's
lifetime): it refreshes first or answers a typed error. Outcomes are classified in
``lifecycle.outcomes``; a permanent failure is never retried, even forced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from broker.area_settings import LifecycleSettings
from broker.context import Broker, ServiceKey
from broker.crypto import Secret
from broker.errors import (
    NEEDS_REAUTHORIZATION,
    PROVIDER_UNAVAILABLE,
    REFRESH_MISCONFIGURED,
    DescopeError,
)
from broker.lifecycle import lease, metrics
from broker.lifecycle.flight import Flights
from broker.lifecycle.outcomes import Outcome, backoff_s, classify, is_ambiguous
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.transitions import Trigger, store_failure, store_success
from broker.lifecycle.vault import unseal_part
from broker.providers.oauth_client import ProviderError, TokenGrant, refresh_grant
from broker.providers.registration import OutboundApp, find_app, resolve_app
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow, StoredToken

RefreshOutcome = Literal["fresh", "refreshed", "kept"]
# What a settled lease says happened: a refresh outcome, or "fresh" (nothing was needed).
Settled = Literal["fresh", "success", "transient", "permanent", "configuration"]
# (outcome, error, when it settled if it is a previous holder's outcome passed on)
_Settlement = tuple[Settled, str, float | None]


class ReauthorizationRequired(DescopeError):
    """The grant is dead (permanent provider error or no refresh token): the user must reconnect."""

    status = 404
    code = NEEDS_REAUTHORIZATION
    description = "Outbound app token needs re-authorization"


class ProviderUnavailable(DescopeError):
    """No token valid long enough, and the provider could not refresh it just now (transient)."""

    status = 502
    code = PROVIDER_UNAVAILABLE
    description = "Outbound app provider unavailable"

    def __init__(self, message: str = "", *, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        """Retry-After while the token backs off."""
        return {"Retry-After": str(self.retry_after_s)} if self.retry_after_s > 0 else {}


class RefreshMisconfigured(ProviderUnavailable):
    """The broker cannot call the provider for this app (an operator must fix the app)."""

    code = REFRESH_MISCONFIGURED
    description = "Outbound app misconfigured for refresh"


def min_validity(row: StoredToken, margin: int) -> int:
    """Seconds an access token must still be valid to be handed out: the margin, capped at
    half the token's lifetime (a provider issuing 30 s tokens still gets them served)."""
    issued = row.last_refresh_time or int(row.created_at or 0)
    lifetime = row.access_token_expiry - issued if row.access_token_expiry and issued else 0
    return min(margin, lifetime // 2) if lifetime > 0 else margin


def usable(row: StoredToken, now: float, margin: int) -> bool:
    """Whether the stored access token may be handed out now."""
    if row.access_token_sealed is None:
        return False
    if not row.access_token_expiry:
        return True
    return row.access_token_expiry - min_validity(row, margin) > now


def needs_refresh(row: StoredToken, now: float, margin: int) -> bool:
    """Whether a fetch must refresh first (an OAuth token not usable now)."""
    return row.kind == "oauth" and not usable(row, now, margin)


def _due(row: ManagedTokenRow, trigger: Trigger, now: float, margin: int, ahead: float) -> bool:
    if row.kind != "oauth":
        return False
    if trigger == "force" or needs_refresh(row, now, margin):
        return True
    return (
        trigger == "scheduled"
        and row.next_refresh_time is not None
        and (row.next_refresh_time <= now + ahead)
    )


@dataclass
class _Attempt:
    """One caller's pass through the engine."""

    broker: Broker
    token_id: str
    trigger: Trigger
    arrived: float
    cfg: LifecycleSettings

    @property
    def margin(self) -> int:
        return self.broker.settings.refresh_margin_s

    @property
    def lease_name(self) -> str:
        return f"refresh:{self.token_id}"

    def load(self) -> ManagedTokenRow | None:
        with self.broker.db.session() as s:
            return s.get(ManagedTokenRow, self.token_id)

    def snapshot(self) -> tuple[ManagedTokenRow | None, lease.LeaseState]:
        """The token and its lease, read in one transaction (one checkout, one commit)."""
        with self.broker.db.session() as s:
            return s.get(ManagedTokenRow, self.token_id), lease.lease_in(s, self.lease_name)

    def run(self) -> RefreshOutcome:
        """Refresh if needed, or wait for (and share) the refresh in flight."""
        db = self.broker.db
        deadline = time.monotonic() + 2 * self.cfg.lease_ttl_s
        while time.monotonic() < deadline:
            row, state = self.snapshot()
            if row is None or row.kind != "oauth":
                return "fresh"
            if self._answered_by(state):
                return self.conclude(state.settled_outcome, state.settled_error)
            if not _due(row, self.trigger, now_s(), self.margin, self.cfg.scheduler_interval_s):
                return "fresh"
            self.refuse_early(row)
            if state.held(now_s()):
                settled = self.wait(state)
                if settled is not None:
                    return self.conclude(settled.settled_outcome, settled.settled_error)
                continue  # the holder vanished without settling: take over
            owner = lease.new_owner()
            if lease.try_acquire(db, self.lease_name, owner, self.cfg.lease_ttl_s) is None:
                continue
            ended: _Settlement = ("fresh", "", None)
            try:
                ended = self.holding()
            finally:
                lease.release(db, self.lease_name, owner, *ended)
            return self.conclude(ended[0], ended[1])
        raise ProviderUnavailable(f"Token {self.token_id}: a refresh elsewhere did not settle")

    def _answered_by(self, state: lease.LeaseState) -> bool:
        """A forced refresh is answered by any refresh that settled after it arrived."""
        return (
            self.trigger == "force"
            and state.settled_outcome not in ("", "fresh")
            and state.settled_at >= self.arrived
        )

    def refuse_early(self, row: ManagedTokenRow) -> None:
        """No provider call for a dead grant, nor (on a plain fetch) while backing off."""
        if row.status == TokenStatus.NEEDS_REAUTH:
            raise ReauthorizationRequired(
                f"Token {row.id} needs re-authorization: {row.last_refresh_error}"
            )
        now = now_s()
        backing_off = (
            row.status == TokenStatus.REFRESH_FAILED and (row.next_refresh_time or 0) > now
        )
        if self.trigger == "fetch" and backing_off:
            wait = int((row.next_refresh_time or 0) - now) + 1
            error = f"Could not refresh token {row.id}: {row.last_refresh_error}"
            if row.last_refresh_error.startswith("configuration"):
                raise RefreshMisconfigured(error, retry_after_s=wait)
            raise ProviderUnavailable(error, retry_after_s=wait)

    def wait(self, seen: lease.LeaseState) -> lease.LeaseState | None:
        """Poll until the holder we saw settles (its state) or vanishes (None)."""
        metrics.LEASE_WAITS.labels(scope="database").inc()
        started = time.perf_counter()
        try:
            while True:
                time.sleep(self.cfg.lease_poll_s)
                state = lease.read_lease(self.broker.db, self.lease_name)
                if state.settled_generation >= seen.generation:
                    return state
                if not state.held(now_s()):
                    return None
        finally:
            metrics.LEASE_WAIT_SECONDS.observe(time.perf_counter() - started)

    def holding(self) -> _Settlement:
        """With the lease held: re-read, and refresh if it is still needed."""
        with self.broker.db.session() as s:  # one transaction: the token, its lease, its app
            row = s.get(ManagedTokenRow, self.token_id)
            state = lease.lease_in(s, self.lease_name)
            if row is None or self._answered_by(state):
                return _pass_through(state)
            if not _due(row, self.trigger, now_s(), self.margin, self.cfg.scheduler_interval_s):
                return "fresh", "", None
            self.refuse_early(row)
            app = resolve_app(self.broker, find_app(s, row.app_id))
        refresh = unseal_part(self.broker, row, "refresh")
        if refresh is None:
            if self.trigger != "force" and usable(row, now_s(), self.margin):
                return "fresh", "", None
            return self.fail(row, ProviderError("no_refresh_token", permanent=True))
        try:
            grant = self.call_provider(app, refresh)
        except ProviderError as exc:
            return self.fail(row, exc)
        stored = store_success(
            self.broker, row.id, row.version, app, grant, int(now_s()), self.trigger
        )
        metrics.REFRESHES.labels(outcome="success", trigger=self.trigger).inc()
        return "success", "" if stored else "a newer pair was stored first", None

    def call_provider(self, app: OutboundApp, refresh: Secret) -> TokenGrant:
        """The refresh request; an ambiguous failure is retried once with the same token."""
        if not app.registration.token_url:
            raise ProviderError("no_token_url", "the app has no token URL", permanent=False)
        try:
            return _timed_refresh(self.broker, app, refresh)
        except ProviderError as exc:
            if not is_ambiguous(exc):
                raise
        return _timed_refresh(self.broker, app, refresh)

    def fail(self, row: ManagedTokenRow, exc: ProviderError) -> _Settlement:
        """Record a failed refresh; the settled outcome for everyone who waited."""
        outcome: Outcome = classify(exc)
        error = f"{outcome}: {exc}" if outcome == "configuration" else str(exc)
        delay = backoff_s(row.failure_count + 1, self.cfg.backoff_base_s, self.cfg.backoff_max_s)
        next_time = int(now_s() + delay)
        store_failure(self.broker, row.id, row.version, outcome, error, next_time, self.trigger)
        metrics.REFRESHES.labels(outcome=outcome, trigger=self.trigger).inc()
        return outcome, error, None

    def conclude(self, settled: str, error: str) -> RefreshOutcome:
        """What a settled outcome means for this caller: a result, or a typed error."""
        if settled == "fresh":
            return "fresh"
        if settled == "success":
            return "refreshed"
        if settled == "permanent":
            raise ReauthorizationRequired(f"Token {self.token_id} needs re-authorization: {error}")
        row = self.load()
        if row is not None and usable(row, now_s(), self.margin):
            return "kept"
        message = f"Could not refresh token {self.token_id}: {error}"
        if settled == "configuration":
            raise RefreshMisconfigured(message)
        raise ProviderUnavailable(message)


def _timed_refresh(broker: Broker, app: OutboundApp, refresh: Secret) -> TokenGrant:
    started, outcome = time.perf_counter(), "success"
    try:
        return refresh_grant(broker.settings, app.registration, refresh)
    except ProviderError as exc:
        outcome = classify(exc)
        raise
    finally:
        metrics.PROVIDER_LATENCY.labels(outcome=outcome).observe(time.perf_counter() - started)


def _pass_through(state: lease.LeaseState) -> _Settlement:
    """The previous holder's outcome, passed on with its own time."""
    outcome = state.settled_outcome
    if outcome in ("success", "transient", "permanent", "configuration"):
        return outcome, state.settled_error, state.settled_at  # type: ignore[return-value]
    return "fresh", "", None


_FLIGHTS = ServiceKey("refresh.flights", lambda _: Flights[RefreshOutcome]())


def refresh_token(
    broker: Broker,
    token_id: str,
    *,
    force: bool,
    not_before: float | None = None,
    trigger: Trigger | None = None,
) -> RefreshOutcome:
    """Make the token usable (refreshing when due, or ``force``); see the module docstring.

    ``not_before`` is when the request arrived (a forced refresh is answered by any refresh
    settling after it); ``trigger`` is ``scheduled`` for the background scheduler.
    """
    chosen: Trigger = trigger or ("force" if force else "fetch")
    attempt = _Attempt(broker, token_id, chosen, not_before or now_s(), broker.settings.lifecycle)
    try:
        result = broker.service(_FLIGHTS).run((token_id, chosen), attempt.run)
    except DescopeError as exc:
        if chosen != "scheduled":
            metrics.fetches(type(exc).__name__).inc()
        raise
    if chosen != "scheduled":
        metrics.fetches(result).inc()
    return result
