"""Database leases and outcome rules: exclusive, fenced, expiring, taken over from the dead."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from broker.lifecycle import lease
from broker.lifecycle.outcomes import backoff_s, classify, is_ambiguous
from broker.providers.oauth_client import ProviderError
from tests.support.servers import LiveBroker


def test_a_lease_has_one_holder_among_concurrent_claimants(live_broker: LiveBroker) -> None:
    db, name = live_broker.broker.db, f"test:{time.time_ns()}"
    owners = [lease.new_owner() for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        won = list(pool.map(lambda o: lease.try_acquire(db, name, o, 30) is not None, owners))
    assert won.count(True) == 1
    assert lease.holder(db, name) == owners[won.index(True)]


def test_release_is_fenced_by_owner_and_records_the_outcome(live_broker: LiveBroker) -> None:
    db, name = live_broker.broker.db, f"test:{time.time_ns()}"
    mine, other = lease.new_owner(), lease.new_owner()
    generation = lease.try_acquire(db, name, mine, 30)
    assert generation is not None
    assert lease.release(db, name, other, "success") is False
    assert lease.holder(db, name) == mine
    assert lease.release(db, name, mine, "transient", "temporarily_unavailable") is True
    state = lease.read_lease(db, name)
    assert state.owner is None and state.settled_generation == generation
    assert (state.settled_outcome, state.settled_error) == ("transient", "temporarily_unavailable")


def test_an_expired_lease_can_be_taken_over(live_broker: LiveBroker) -> None:
    db, name = live_broker.broker.db, f"test:{time.time_ns()}"
    assert lease.try_acquire(db, name, lease.new_owner(), -1) is not None  # already expired
    assert lease.try_acquire(db, name, lease.new_owner(), 30) is not None


def test_a_lease_held_by_a_dead_process_on_this_host_is_free(live_broker: LiveBroker) -> None:
    db, name = live_broker.broker.db, f"test:{time.time_ns()}"
    child = subprocess.run(
        [sys.executable, "-c", "from broker.lifecycle.lease import new_owner; print(new_owner())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_owner = child.stdout.strip()
    assert lease.try_acquire(db, name, dead_owner, 300) is not None
    assert lease.read_lease(db, name).held(time.time()) is False
    assert lease.try_acquire(db, name, lease.new_owner(), 30) is not None


def test_outcomes_are_classified_like_rfc_6749_errors() -> None:
    assert classify(ProviderError("invalid_grant", permanent=True)) == "permanent"
    assert classify(ProviderError("temporarily_unavailable", "HTTP 503", permanent=False)) == (
        "transient"
    )
    assert classify(ProviderError("url_refused", "private", permanent=False)) == "configuration"
    assert is_ambiguous(ProviderError("temporarily_unavailable", "ReadTimeout", permanent=False))
    assert is_ambiguous(
        ProviderError("temporarily_unavailable", "provider answered HTTP 502", permanent=False)
    )
    assert not is_ambiguous(
        ProviderError("temporarily_unavailable", "ConnectError", permanent=False)
    )
    assert not is_ambiguous(
        ProviderError("temporarily_unavailable", "provider answered HTTP 503", permanent=False)
    )


def test_backoff_is_immediate_once_then_exponential_with_jitter_and_capped() -> None:
    rng = random.Random(7)
    assert backoff_s(1, 5, 3600, rng) == 0
    delays = [backoff_s(n, 5, 3600, rng) for n in (2, 3, 4, 5)]
    for delay, nominal in zip(delays, (5, 10, 20, 40), strict=True):
        assert 0.8 * nominal <= delay <= 1.2 * nominal
    assert backoff_s(40, 5, 3600, rng) == 3600
