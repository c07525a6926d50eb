"""The scan that replaces the inventory against Descope's cloud keeps every token.

The cloud is stood in for by the broker in strict mode (``--strict-descope``: no ``/v1/x/``,
no extension fields, Descope's error codes only), with a gateway in front that throttles on
demand. ``apps-with-user-token`` lists only usable tokens; the scan still finds the ones an
admin looks for: needs a reconnect, expired for good, provider unavailable.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from dashboard.descope import Secret
from dashboard.descope.transport import Transport
from dashboard.inventory.bulk import offers_bulk_inventory
from dashboard.inventory.collect import Inventory, collect_inventory
from dashboard.inventory.status import TokenStatus
from tests.support.dashboard import client_of
from tests.support.gateway import Gateway, start_gateway
from tests.support.outbound import fetch_latest
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker
from tests.support.token_seed import CAL, MAIL, SEEDED_STATUSES, SeededTokens, seed_tokens


@dataclass
class Cloud:
    """A seeded strict broker, a throttling gateway in front, and a transport to the gateway."""

    live: LiveBroker
    seeded: SeededTokens
    gateway: Gateway
    transport: Transport


@pytest.fixture(scope="module")
def cloud(
    tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider
) -> Iterator[Cloud]:
    """Seeded as tests/support/token_seed says, plus ada's acme-mail grant refused for good."""
    provider = shared_provider
    live = start_broker(tmp_path_factory.mktemp("strict"), strict_descope=True)
    gateway = start_gateway(live)
    transport = Transport(gateway.url, live.project_id, Secret(live.management_key))
    try:
        seeded = seed_tokens(live, provider)
        provider.reset_faults()
        provider.set_faults(refresh_error="invalid_grant")
        dead = fetch_latest(live, MAIL, seeded.user_id("ada"), forceRefresh=True)
        # Strict: Descope's generic 404 code, not the broker's own E111505.
        assert (dead.status_code, dead.json()["errorCode"]) == (404, "E011006")
        provider.set_faults(token_status=503)  # back to the seed's failing refreshes
        yield Cloud(live, seeded, gateway, transport)
    finally:
        transport.close()
        gateway.stop()
        live.stop()


def _statuses(inventory: Inventory, cloud: Cloud) -> dict[tuple[str, str], TokenStatus]:
    return cloud.seeded.statuses(inventory.connections)


def test_the_cloud_scan_finds_needs_reauth_and_expired_tokens(cloud: Cloud) -> None:
    assert not offers_bulk_inventory(client_of(cloud.transport))
    ada, bob = cloud.seeded.user_id("ada"), cloud.seeded.user_id("bob")
    listed = httpx.get(
        f"{cloud.live.url}/v1/mgmt/outbound/apps-with-user-token",
        params={"userId": ada},
        headers=cloud.live.mgmt_headers(),
    ).json()
    assert listed == {"appIds": [CAL]}  # the cloud's list alone loses ada's dead grant

    inventory = collect_inventory(client_of(cloud.transport))

    assert inventory.source == "fan-out"
    assert inventory.complete
    # Everything seeded (bob's expired token included), and ada's mail grant needing a reconnect.
    assert _statuses(inventory, cloud) == {
        **SEEDED_STATUSES,
        ("ada", MAIL): TokenStatus.NEEDS_REAUTH,
    }
    by_pair = {(c.token.user_id, c.token.app_id): c for c in inventory.connections}
    assert by_pair[(ada, MAIL)].held is False and by_pair[(bob, MAIL)].held is False
    assert by_pair[(ada, CAL)].held is True
    assert by_pair[(ada, MAIL)].token.last_refresh_error == (
        "The provider no longer accepts this connection: the user has to connect again."
    )
    # No extension field came back: the statuses were read from Descope's own fields.
    assert all(
        c.token.status in (None, "needs_reauth", "expired", "refresh_failed")
        for c in inventory.connections
    )
    assert by_pair[(ada, CAL)].token.status is None


def test_the_cloud_scan_waits_out_retry_after_and_still_keeps_every_token(cloud: Cloud) -> None:
    waits: list[float] = []
    now = [1000.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    cloud.gateway.throttle("/v1/mgmt/outbound/app/user/token/latest", 4, retry_after=20)
    try:
        inventory = collect_inventory(
            client_of(cloud.transport), workers=4, sleep=sleep, clock=lambda: now[0]
        )
    finally:
        cloud.gateway.throttled.clear()

    assert inventory.backoffs == 4
    assert sum(waits) >= 20 and all(w <= 20 for w in waits)
    statuses = _statuses(inventory, cloud)
    assert statuses[("ada", MAIL)] == TokenStatus.NEEDS_REAUTH
    assert len(statuses) == 7 and not inventory.failures
