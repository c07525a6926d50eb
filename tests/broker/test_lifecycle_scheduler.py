"""The background scheduler: proactive and keep-alive refresh, one leader, dead grants skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from broker.area_settings import LifecycleSettings
from broker.lifecycle import lease
from broker.lifecycle.scheduler import LEASE_NAME, Scheduler
from tests.broker.test_refresh_faults import Connection
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _wait_for(check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "the scheduler did not act"
        time.sleep(0.1)
    return found


def test_the_scheduler_refreshes_a_token_nearing_expiry_without_any_fetch(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider
) -> None:
    live = make_broker(
        scheduler_enabled=True, lifecycle=LifecycleSettings(scheduler_interval_s=0.2)
    )
    conn = Connection(live, provider)
    now = int(time.time())  # an hour-long token inside the 60 s margin
    conn.set_row(
        access_token_expiry=now + 50, last_refresh_time=now - 3550, next_refresh_time=now - 10
    )
    refreshed = _wait_for(lambda: conn.events("refreshed"))
    assert refreshed[0]["detail"]["trigger"] == "scheduled"
    assert conn.calls() == 1
    token = conn.fetch().json()["token"]  # the fetch finds it fresh: no provider call
    assert int(token["accessTokenExpiry"]) > now + 3000 and conn.calls() == 1
    assert int(token["nextRefreshTime"]) > now + 3000


def test_an_idle_token_is_refreshed_on_its_keep_alive_cadence(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    conn = Connection(live_broker, provider)
    conn.set_row(next_refresh_time=int(time.time()) - 1)  # the cadence is due; token still valid
    assert conn.token_id in _sweep(live_broker)
    assert conn.calls() == 1
    assert conn.events("refreshed")[0]["detail"]["trigger"] == "scheduled"


def test_a_failed_token_is_retried_after_its_backoff_and_dead_grants_are_skipped(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    failing, dead = Connection(live_broker, provider), Connection(live_broker, provider)
    provider.set_faults(token_status={"value": 503, "remaining": 1})
    assert failing.fetch(forceRefresh=True).status_code == 200  # kept; refresh_failed
    past = int(time.time()) - 1
    failing.set_row(next_refresh_time=past)
    dead.set_row(status="needs_reauth", next_refresh_time=past)
    swept = _sweep(live_broker)
    assert failing.token_id in swept and dead.token_id not in swept
    assert failing.fetch().json()["token"]["status"] == "active"
    assert len(failing.events("recovered")) == 1
    assert dead.calls() == 2  # the failed attempt and the retry: none for the dead grant


def _sweep(live: LiveBroker) -> list[str]:
    from broker.lifecycle.scheduler import due_tokens

    due = due_tokens(live.broker, time.time() + 1, 1000)
    Scheduler(live.broker).sweep()
    return due


def test_one_scheduler_leads_across_processes_and_hands_over_when_it_stops(
    live_broker: LiveBroker,
) -> None:
    db = live_broker.broker.db
    first, second = Scheduler(live_broker.broker), Scheduler(live_broker.broker)
    first.tick()
    second.tick()
    assert lease.holder(db, LEASE_NAME) == first.owner
    first.tick()  # the leader renews
    assert lease.holder(db, LEASE_NAME) == first.owner
    first.stop()
    second.tick()
    assert lease.holder(db, LEASE_NAME) == second.owner
    second.stop()


def test_a_switched_off_scheduler_never_sweeps(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    conn = Connection(live_broker, provider)
    conn.set_row(next_refresh_time=int(time.time()) - 1)
    assert live_broker.broker.settings.scheduler_enabled is False
    scheduler = Scheduler(live_broker.broker)
    scheduler.tick()  # leads, but the sweep is switched off
    scheduler.stop()
    assert conn.calls() == 0
