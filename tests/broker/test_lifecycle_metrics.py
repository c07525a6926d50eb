"""/metrics: Prometheus exposition of fetches, refreshes, lease waits, latency, token statuses."""

from __future__ import annotations

import httpx

from tests.broker.test_refresh_faults import Connection
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


def _samples(live: LiveBroker) -> dict[str, float]:
    response = httpx.get(f"{live.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_count_fetches_refreshes_and_tokens_by_status(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    before = _samples(live_broker)
    conn = Connection(live_broker, provider)
    conn.fetch(forceRefresh=True)
    dead = Connection(live_broker, provider)
    dead.set_row(status="needs_reauth")
    after = _samples(live_broker)

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew('outbound_token_refreshes_total{outcome="success",trigger="force"}') == 1
    assert grew('outbound_token_fetches_total{result="refreshed"}') == 1
    assert grew('outbound_token_fetches_total{result="fresh"}') == 2  # the two first fetches
    assert grew('outbound_provider_token_request_seconds_count{outcome="success"}') == 1
    assert grew('outbound_lifecycle_events_total{kind="connected"}') == 2
    assert after['outbound_tokens{status="needs_reauth"}'] >= 1
    assert after['outbound_tokens{status="active"}'] >= 1
    assert "outbound_refresh_lease_wait_seconds_count" in after
