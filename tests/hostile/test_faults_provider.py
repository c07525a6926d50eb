"""Provider faults: down, slow, 5xx, garbage JSON, wrong content type, on connect and refresh.

Every fault ends in a clear answer (an error outcome on the landing page, or a typed Descope
error on fetch), never a 500; a failed connect stores nothing, and a failed refresh loses
nothing: the stored grant is untouched and works again once the provider recovers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

import broker.providers.url_policy as url_policy
from broker.store.outbound import ManagedTokenRow
from tests.support.identity import sign_in_new_user
from tests.support.outbound import (
    connect,
    consent,
    create_demo_app,
    fetch_latest,
    outcome_of,
    start_connect,
)
from tests.support.provider import LiveProvider, start_provider
from tests.support.servers import LiveBroker

# A short client timeout for the broker under test, so "slower than the timeout" is quick.
SHORT_TIMEOUT = httpx.Timeout(1.0, connect=1.0)
SLOW_MS = 2500
FAULTS: dict[str, dict[str, Any]] = {
    "slow": {"latency_ms": SLOW_MS},
    "garbage_json": {"garbage_json": True},
    "status_503": {"token_status": 503},
}


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker's provider client times out after a second (in this process)."""
    monkeypatch.setattr(url_policy, "HTTP_TIMEOUT", SHORT_TIMEOUT)


def _rows(live: LiveBroker, app_id: str) -> list[tuple[Any, ...]]:
    with live.broker.db.session() as s:
        result = s.execute(
            select(
                ManagedTokenRow.id,
                ManagedTokenRow.access_token_sealed,
                ManagedTokenRow.refresh_token_sealed,
                ManagedTokenRow.access_token_expiry,
            ).where(ManagedTokenRow.app_id == app_id)
        )
        return [tuple(r) for r in result]


def _assert_connect_failed_cleanly(live: LiveBroker, app_id: str, landed: httpx.Response) -> None:
    assert landed.status_code == 302, landed.text
    outcome = outcome_of(landed.headers["location"])
    assert outcome["outbound"] == "error" and outcome["error"] and outcome["errorDescription"]
    assert _rows(live, app_id) == []


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_provider_fault_at_the_code_exchange_stores_nothing(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str, short_timeout: None,
    fault: dict[str, Any],
) -> None:  # fmt: skip
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    provider.set_faults(**fault)
    _assert_connect_failed_cleanly(live_broker, app_id, httpx.get(callback, timeout=30))


def test_a_real_token_answer_under_the_wrong_content_type_is_kept(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str
) -> None:
    # The code (or the rotated refresh token) is already spent at the provider: refusing a
    # readable answer because of its Content-Type would lose the grant.
    user = sign_in_new_user(live_broker)
    provider.set_faults(wrong_content_type={"value": True, "remaining": 1})
    assert connect(live_broker, user, app_id)["outbound"] == "connected"
    _expire(live_broker, app_id)
    provider.set_faults(wrong_content_type={"value": True, "remaining": 1})
    refreshed = fetch_latest(live_broker, app_id, user.user_id)
    assert refreshed.status_code == 200, refreshed.text
    assert int(refreshed.json()["token"]["accessTokenExpiry"]) > 1


def test_provider_down_at_the_code_exchange_stores_nothing(live_broker: LiveBroker) -> None:
    lonely = start_provider()
    try:
        create_demo_app(live_broker, lonely, "acme-goes-down")
        user = sign_in_new_user(live_broker)
        callback = consent(start_connect(live_broker, user, "acme-goes-down").json()["url"])
    finally:
        lonely.stop()  # connection refused from now on
    _assert_connect_failed_cleanly(live_broker, "acme-goes-down", httpx.get(callback))


def _expire(live: LiveBroker, app_id: str) -> None:
    with live.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.app_id == app_id)
            .values(access_token_expiry=1)
        )


def _assert_typed_error(answered: httpx.Response) -> None:
    assert answered.status_code != 500 and answered.status_code >= 400, answered.text
    body = answered.json()
    assert body["errorCode"] and body["errorMessage"], body


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_provider_fault_at_refresh_loses_nothing(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str, short_timeout: None,
    fault: dict[str, Any],
) -> None:  # fmt: skip
    user = sign_in_new_user(live_broker)
    assert connect(live_broker, user, app_id)["outbound"] == "connected"
    _expire(live_broker, app_id)
    before = _rows(live_broker, app_id)
    provider.set_faults(**fault)
    _assert_typed_error(fetch_latest(live_broker, app_id, user.user_id))
    (token_id, _, refresh_sealed, _), = _rows(live_broker, app_id)  # fmt: skip
    assert (token_id, refresh_sealed) == (before[0][0], before[0][2])
    provider.reset_faults()
    healed = fetch_latest(live_broker, app_id, user.user_id, forceRefresh=True)
    assert healed.status_code == 200, healed.text
    assert healed.json()["token"]["accessToken"]


def test_provider_down_at_refresh_loses_nothing(live_broker: LiveBroker) -> None:
    flaky = start_provider()
    create_demo_app(live_broker, flaky, "acme-flaky")
    user = sign_in_new_user(live_broker)
    assert connect(live_broker, user, "acme-flaky")["outbound"] == "connected"
    _expire(live_broker, "acme-flaky")
    before = _rows(live_broker, "acme-flaky")
    flaky.stop()  # connection refused from now on
    _assert_typed_error(fetch_latest(live_broker, "acme-flaky", user.user_id))
    assert _rows(live_broker, "acme-flaky")[0][2] == before[0][2]
    with live_broker.broker.db.session() as s:
        status = s.scalar(
            select(ManagedTokenRow.status).where(ManagedTokenRow.app_id == "acme-flaky")
        )
    assert status != "needs_reauth"  # a provider that is down is transient, never a dead grant
