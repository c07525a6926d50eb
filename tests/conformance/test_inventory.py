"""The token inventory against a live broker with a known population (tests/support/token_seed).

The fan-out path runs against the broker's Descope-compatible endpoints (the same wire as the
cloud); the bulk path against its inventory extension. A gateway imitating the cloud's edge
hides the extension and throttles on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dashboard.descope import Secret
from dashboard.descope.transport import Transport
from dashboard.inventory.bulk import offers_bulk_inventory
from dashboard.inventory.collect import Inventory, InventoryQuery, Progress, collect_inventory
from dashboard.inventory.status import TokenStatus
from tests.support.dashboard import client_of
from tests.support.gateway import Gateway, start_gateway
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker
from tests.support.token_seed import MAIL, SEEDED_STATUSES, SeededTokens, seed_tokens


@dataclass
class World:
    """A seeded broker, a cloud-like gateway in front of it, and transports to both."""

    live: LiveBroker
    seeded: SeededTokens
    gateway: Gateway
    broker: Transport
    cloud: Transport


class FakeClock:
    """A clock that only moves when slept on; records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)
            self.now += seconds


def _transport(url: str, live: LiveBroker, **kwargs: object) -> Transport:
    return Transport(url, live.project_id, Secret(live.management_key), **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def seeded_world(
    tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider
) -> Iterator[World]:
    """One seeded broker and gateway for the module (the inventory only reads)."""
    live = start_broker(tmp_path_factory.mktemp("broker"))
    gateway = start_gateway(live)
    broker, cloud = _transport(live.url, live), _transport(gateway.url, live)
    try:
        yield World(live, seed_tokens(live, shared_provider), gateway, broker, cloud)
    finally:
        broker.close()
        cloud.close()
        gateway.stop()
        live.stop()


@pytest.fixture
def world(seeded_world: World) -> Iterator[World]:
    """The seeded world, its gateway's throttling switched off after each test."""
    yield seeded_world
    seeded_world.gateway.throttled.clear()


def _pairs(inventory: Inventory, world: World) -> dict[tuple[str, str], TokenStatus]:
    return world.seeded.statuses(inventory.connections)


EVERY_TOKEN = SEEDED_STATUSES
# Once a fetch found bob's expired token cannot be renewed, the broker marks it needs_reauth.
SETTLED = {**EVERY_TOKEN, ("bob", MAIL): TokenStatus.NEEDS_REAUTH}


def test_bulk_lists_every_stored_token_with_its_owner(world: World) -> None:
    # First in the module: a fetch of bob's expired token (no refresh token) turns it into
    # needs_reauth at the broker, and the fan-out tests below fetch it.
    assert offers_bulk_inventory(client_of(world.broker))
    inventory = collect_inventory(client_of(world.broker))

    assert inventory.source == "bulk"
    assert inventory.complete
    assert _pairs(inventory, world) == EVERY_TOKEN
    ada = next(c for c in inventory.connections if c.token.user_id == world.seeded.user_id("ada"))
    assert (ada.user_email, ada.user_login_id, ada.user_name) == (
        "ada@example.test",
        "ada@example.test",
        "ada",
    )
    assert all(
        not c.token.access_token and c.token.refresh_token is None for c in inventory.connections
    )


def test_fan_out_keeps_every_token_the_bulk_lists_with_the_same_status(world: World) -> None:
    inventory = collect_inventory(client_of(world.cloud), source="fan-out")

    assert inventory.source == "fan-out"
    assert _pairs(inventory, world) in (EVERY_TOKEN, SETTLED)
    assert inventory.users_scanned == 5
    assert inventory.complete
    held = {(c.token.user_id, c.token.app_id): c.held for c in inventory.connections}
    # apps-with-user-token lists only usable tokens; bob's expired one was found by its fetch.
    assert held[(world.seeded.user_id("bob"), MAIL)] is False
    assert held[(world.seeded.user_id("ada"), MAIL)] is True
    cyd = next(c for c in inventory.connections if c.token.user_id == world.seeded.user_id("cyd"))
    assert cyd.token.last_refresh_error == (
        "The provider could not refresh this token just now; try again in a moment."
    )
    tenant = next(c for c in inventory.connections if c.token.is_tenant_token)
    assert tenant.owner_label == "Tenant Globex"


def test_fan_out_keeps_no_secret(world: World) -> None:
    inventory = collect_inventory(client_of(world.cloud), source="fan-out")

    assert inventory.connections
    assert all(not c.token.access_token.reveal() for c in inventory.connections)
    assert all(c.token.refresh_token is None for c in inventory.connections)


def test_a_cloud_target_without_the_extension_is_fanned_out(world: World) -> None:
    assert not offers_bulk_inventory(client_of(world.cloud))
    assert collect_inventory(client_of(world.cloud)).source == "fan-out"


@pytest.mark.parametrize("source", ["bulk", "fan-out"])
def test_queries_narrow_by_app_and_by_user(world: World, source: str) -> None:
    client = client_of(world.broker if source == "bulk" else world.cloud)
    by_app = collect_inventory(client, InventoryQuery(app_id=MAIL), source=source)  # type: ignore[arg-type]
    dee = world.seeded.user_id("dee")
    by_user = collect_inventory(client, InventoryQuery(user_ids=(dee,)), source=source)  # type: ignore[arg-type]
    by_text = collect_inventory(client, InventoryQuery(user_text="ada"), source=source)  # type: ignore[arg-type]

    assert {c.token.app_id for c in by_app.connections} == {MAIL}
    assert [(c.token.user_id, c.token.app_id) for c in by_user.connections] == [(dee, MAIL)]
    assert {c.user_email for c in by_text.connections} == {"ada@example.test"}
    assert len(by_text.connections) == 2


def test_progress_reports_counts_and_time_left_from_the_calling_thread(world: World) -> None:
    seen: list[tuple[Progress, str]] = []
    collect_inventory(
        client_of(world.cloud),
        source="fan-out",
        workers=2,
        on_progress=lambda p: seen.append((p, threading.current_thread().name)),
    )

    assert seen
    assert {thread for _, thread in seen} == {threading.current_thread().name}
    last = seen[-1][0]
    assert last.done == last.total > 1
    assert last.fraction == 1.0
    assert last.remaining_s == 0
    assert all(p.done <= p.total and (p.remaining_s or 0) >= 0 for p, _ in seen)


def test_cancel_stops_the_scan_and_says_so(world: World) -> None:
    cancel = threading.Event()
    inventory = collect_inventory(
        client_of(world.cloud),
        source="fan-out",
        workers=1,
        cancel=cancel,
        on_progress=lambda _: cancel.set(),
    )
    full = collect_inventory(client_of(world.cloud), source="fan-out")

    assert inventory.cancelled
    assert not inventory.complete
    assert inventory.calls < full.calls


def test_throttling_is_waited_out_then_retried(world: World) -> None:
    clock = FakeClock()
    # 30 s is longer than the transport waits by itself: the inventory backs off politely.
    world.gateway.throttle("/v1/mgmt/outbound/apps-with-user-token", 3, retry_after=30)
    inventory = collect_inventory(
        client_of(world.cloud), source="fan-out", sleep=clock.sleep, clock=clock, workers=1
    )

    assert _pairs(inventory, world) in (EVERY_TOKEN, SETTLED)
    assert not inventory.failures
    assert inventory.backoffs == 3
    assert clock.waits and all(w <= 30 for w in clock.waits)
    assert sum(clock.waits) >= 90


def test_a_short_retry_after_is_waited_by_the_transport_itself(world: World) -> None:
    transport_waits: list[float] = []
    cloud = _transport(world.gateway.url, world.live, sleep=transport_waits.append)
    world.gateway.throttle("/v2/mgmt/user/search", 1, retry_after=1)
    try:
        inventory = collect_inventory(client_of(cloud), source="fan-out")
    finally:
        cloud.close()

    assert transport_waits == [1]
    assert inventory.backoffs == 0
    assert _pairs(inventory, world) in (EVERY_TOKEN, SETTLED)


def test_throttling_that_never_ends_becomes_a_failure_not_an_abort(world: World) -> None:
    clock = FakeClock()
    world.gateway.throttle("/v1/mgmt/tenant/all", 100, retry_after=60)
    inventory = collect_inventory(
        client_of(world.cloud), source="fan-out", sleep=clock.sleep, clock=clock
    )

    steps = sorted(f.step for f in inventory.failures)
    assert steps == ["tenants"]
    assert "try again in 60 seconds" in next(
        f.sentence for f in inventory.failures if f.step == "tenants"
    )
    assert len(inventory.connections) == 6  # every user's token; the tenant's is missing
