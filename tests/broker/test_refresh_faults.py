"""Each demo-provider fault switch: outcome, status, event and error, with counted provider calls.

Every 200 answer is checked against minimum validity: no expired (or about to expire) access
token is ever handed out.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from broker.store.outbound import ManagedTokenRow, OutboundAppRow
from tests.support.identity import sign_in_new_user
from tests.support.outbound import connect, create_demo_app, fetch_latest
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker


class Connection:
    """One connected token and the calls a test makes about it."""

    def __init__(self, live: LiveBroker, provider: LiveProvider) -> None:
        self.live, self.provider = live, provider
        self.app_id = f"acme-{secrets.token_hex(4)}"
        create_demo_app(live, provider, self.app_id)
        self.user = sign_in_new_user(live)
        self.token_id = connect(live, self.user, self.app_id)["tokenId"]
        self.first = self.fetch().json()["token"]
        provider.reset_stats()

    def fetch(self, **options: Any) -> httpx.Response:
        """Fetch the latest token; a 200 must carry a token valid beyond the margin."""
        response = fetch_latest(
            self.live, self.app_id, self.user.user_id, withRefreshToken=True, **options
        )
        if response.status_code == 200:
            expiry = int(response.json()["token"]["accessTokenExpiry"])
            assert expiry == 0 or expiry > time.time() + 10, "a stale token was handed out"
        return response

    def set_row(self, **values: Any) -> None:
        """Write token columns directly (expire it, end its backoff)."""
        with self.live.broker.db.session() as s:
            s.execute(
                update(ManagedTokenRow).where(ManagedTokenRow.id == self.token_id).values(**values)
            )

    def expire(self) -> None:
        """Make the stored access token expired."""
        self.set_row(access_token_expiry=int(time.time()) - 5)

    def calls(self) -> int:
        """Refresh requests that reached the provider since the connection was made."""
        return int(self.provider.stats()["token_calls"].get("refresh_token", 0))

    def events(self, *kinds: str) -> list[dict[str, Any]]:
        """This token's lifecycle events (optionally of some kinds)."""
        params: dict[str, Any] = {"tokenId": self.token_id}
        if kinds:
            params["kind"] = ",".join(kinds)
        response = httpx.get(
            f"{self.live.url}/v1/x/events", headers=self.live.mgmt_headers(), params=params
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events


@pytest.fixture
def conn(live_broker: LiveBroker, provider: LiveProvider) -> Connection:
    """A fresh connection on the module's broker."""
    return Connection(live_broker, provider)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_provider_error_status_is_transient_backs_off_and_recovers_once(
    conn: Connection, status: int
) -> None:
    conn.provider.set_faults(token_status=status)
    conn.expire()
    first = conn.fetch()
    assert first.status_code == 502 and first.json()["errorCode"] == "E111506"
    second = conn.fetch()  # the first retry is immediate…
    assert second.status_code == 502
    third = conn.fetch()  # …then the token backs off: no provider call
    assert third.status_code == 502 and int(third.headers["Retry-After"]) >= 1
    assert conn.calls() == 2
    listed = conn.fetch(forceRefresh=False)
    assert listed.status_code == 502
    assert len(conn.events("refresh_failed")) == 1
    conn.provider.reset_faults()
    conn.set_row(next_refresh_time=int(time.time()) - 1)  # the backoff has elapsed
    healed = conn.fetch()
    assert healed.status_code == 200
    token = healed.json()["token"]
    assert token["status"] == "active" and token["failureCount"] == 0
    assert token["lastRefreshError"] == ""
    assert [e["detail"]["failureCount"] for e in conn.events("recovered")] == [2]
    conn.fetch(forceRefresh=True)
    assert len(conn.events("recovered")) == 1


def test_a_transient_failure_keeps_a_token_that_is_still_valid(conn: Connection) -> None:
    conn.provider.set_faults(token_status=503)
    response = conn.fetch(forceRefresh=True)
    assert response.status_code == 200
    token = response.json()["token"]
    assert token["accessToken"] == conn.first["accessToken"]
    assert token["status"] == "refresh_failed" and token["failureCount"] == 1
    assert token["lastRefreshError"].startswith("temporarily_unavailable")
    assert token["lastRefreshTime"] == conn.first["lastRefreshTime"]


@pytest.mark.parametrize(
    "error", ["invalid_grant", "invalid_client", "invalid_scope", "unauthorized_client"]
)
def test_a_permanent_refusal_needs_reauthorization_and_stops_calling(
    conn: Connection, error: str
) -> None:
    conn.provider.set_faults(refresh_error=error)
    conn.expire()
    first = conn.fetch()
    assert first.status_code == 404 and first.json()["errorCode"] == "E111505"
    forced = conn.fetch(forceRefresh=True)  # a forced refresh never bypasses it
    assert forced.status_code == 404
    assert conn.calls() == 1
    events = conn.events("needs_reauth")
    assert len(events) == 1 and events[0]["detail"]["outcome"] == "permanent"
    assert error in events[0]["detail"]["error"]


def test_invalid_request_is_permanent_too(conn: Connection) -> None:
    conn.provider.set_faults(refresh_error="invalid_request")
    assert conn.fetch(forceRefresh=True).status_code == 404
    assert conn.calls() == 1


def test_a_gateway_error_is_retried_at_once_with_the_same_refresh_token(
    conn: Connection,
) -> None:
    conn.provider.set_faults(token_status={"value": 502, "remaining": 1})
    conn.expire()
    response = conn.fetch()
    assert response.status_code == 200
    assert conn.calls() == 2 and conn.provider.stats()["reuse_detected"] == 0
    assert conn.events("refresh_failed") == []
    assert len(conn.events("refreshed")) == 1


def test_garbage_json_is_transient_and_keeps_the_refresh_token(conn: Connection) -> None:
    conn.provider.set_faults(garbage_json={"value": True, "remaining": 1})
    conn.expire()
    failed = conn.fetch()
    assert failed.status_code == 502
    assert conn.provider.introspect(conn.first["refreshToken"])["active"] is True
    healed = conn.fetch()  # the first retry is immediate, with the same refresh token
    assert healed.status_code == 200
    assert conn.calls() == 2
    assert len(conn.events("refresh_failed")) == 1 and len(conn.events("recovered")) == 1


def test_the_answer_under_a_wrong_content_type_is_still_read(conn: Connection) -> None:
    conn.provider.set_faults(wrong_content_type={"value": True, "remaining": 1})
    response = conn.fetch(forceRefresh=True)
    assert response.status_code == 200
    token = response.json()["token"]
    assert token["accessToken"] != conn.first["accessToken"]
    assert conn.provider.introspect(token["refreshToken"])["active"] is True


def test_a_lost_response_keeps_the_old_refresh_token_and_retries_it(conn: Connection) -> None:
    """The demo provider is strict (no replay window): the retry with the kept token is seen
    as reuse, so the grant ends in needs_reauth, said once. A provider with a reuse interval
    would answer the retry; what matters is that the broker never discarded the token."""
    conn.provider.set_faults(lost_response={"value": True, "remaining": 1})
    conn.expire()
    response = conn.fetch()
    assert response.status_code == 404 and response.json()["errorCode"] == "E111505"
    stats = conn.provider.stats()
    assert stats["token_outcomes"]["refresh_token"] == {"lost_response": 1, "invalid_grant": 1}
    assert stats["reuse_detected"] == 1  # the retry presented the kept refresh token
    assert len(conn.events("needs_reauth")) == 1
    assert conn.fetch().status_code == 404 and conn.calls() == 2


def test_a_missing_expires_in_assumes_the_template_lifetime(conn: Connection) -> None:
    conn.provider.set_faults(omit_expires_in={"value": True, "remaining": 1})
    token = conn.fetch(forceRefresh=True).json()["token"]
    assert token["expiryAssumed"] is True
    assert abs(int(token["accessTokenExpiry"]) - (time.time() + 3600)) < 60


@pytest.mark.parametrize("fault", ["no_refresh_token", "non_rotating"])
def test_without_a_new_refresh_token_the_old_one_is_kept(conn: Connection, fault: str) -> None:
    conn.provider.set_faults(**{fault: {"value": True, "remaining": 1}})
    token = conn.fetch(forceRefresh=True).json()["token"]
    assert token["accessToken"] != conn.first["accessToken"]
    assert token["refreshToken"] == conn.first["refreshToken"]
    assert token["hasRefreshToken"] is True
    assert conn.events("refreshed")[-1]["detail"]["rotated"] is False
    again = conn.fetch(forceRefresh=True)  # and it still works
    assert again.status_code == 200 and conn.calls() == 2


def test_narrowed_scopes_are_recorded_from_the_grant(conn: Connection) -> None:
    conn.provider.set_faults(narrow_scopes={"value": ["calendar.read"], "remaining": 1})
    token = conn.fetch(forceRefresh=True).json()["token"]
    assert "calendar.read" not in token["scopes"] and "profile" in token["scopes"]


def test_short_lived_tokens_are_served_for_half_their_life(conn: Connection) -> None:
    conn.provider.set_faults(access_token_ttl_s={"value": 40, "remaining": 1})
    token = conn.fetch(forceRefresh=True).json()["token"]
    assert int(token["accessTokenExpiry"]) <= time.time() + 40
    again = conn.fetch()  # still more than half its life left: served without a refresh
    assert again.json()["token"]["accessToken"] == token["accessToken"]
    assert conn.calls() == 1
    conn.set_row(access_token_expiry=int(time.time()) + 15, last_refresh_time=int(time.time()) - 25)
    renewed = conn.fetch()  # under half its life left: refreshed before it is handed out
    assert renewed.json()["token"]["accessToken"] != token["accessToken"]
    assert conn.calls() == 2


def test_a_token_inside_the_margin_is_refreshed_before_it_is_returned(conn: Connection) -> None:
    now = int(time.time())  # an hour-long token with 30 s left (the margin is 60 s)
    conn.set_row(access_token_expiry=now + 30, last_refresh_time=now - 3570)
    token = conn.fetch().json()["token"]
    assert token["accessToken"] != conn.first["accessToken"] and conn.calls() == 1


def test_latency_is_waited_out(conn: Connection) -> None:
    conn.provider.set_faults(latency_ms={"value": 300, "remaining": 1})
    conn.expire()
    assert conn.fetch().status_code == 200 and conn.calls() == 1


def test_a_token_url_the_broker_may_not_call_is_a_configuration_error(
    conn: Connection,
) -> None:
    with conn.live.broker.db.session() as s:
        s.execute(
            update(OutboundAppRow)
            .where(OutboundAppRow.id == conn.app_id)
            .values(token_url="http://10.255.255.1/oauth/token")  # private: the guard refuses
        )
    conn.expire()
    response = conn.fetch()
    assert response.status_code == 502 and response.json()["errorCode"] == "E111507"
    failed = conn.events("refresh_failed")
    assert len(failed) == 1 and failed[0]["detail"]["outcome"] == "configuration"
    assert conn.calls() == 0
