"""Lifecycle events: the audit log over /v1/x/events, and signed webhooks with retries."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from broker.area_settings import LifecycleSettings
from broker.crypto import Secret
from broker.lifecycle.webhooks import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.broker.test_refresh_faults import Connection
from tests.support.outbound import connect
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, ThreadedServer

SECRET = "webhook-secret-for-tests"


def _events(live: LiveBroker, **params: Any) -> httpx.Response:
    return httpx.get(f"{live.url}/v1/x/events", headers=live.mgmt_headers(), params=params)


def test_a_token_life_is_recorded_from_connect_to_disconnect(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    conn = Connection(live_broker, provider)
    assert connect(live_broker, conn.user, conn.app_id)["tokenId"] == conn.token_id  # reconnect
    conn.fetch(forceRefresh=True)
    deleted = httpx.delete(
        f"{live_broker.url}/v1/mgmt/outbound/token",
        headers=live_broker.mgmt_headers(),
        params={"id": conn.token_id},
    )
    assert deleted.status_code == 200
    events = _events(live_broker, tokenId=conn.token_id).json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["connected", "reconnected", "refreshed", "revoked", "disconnected"]
    first = events[0]
    assert first["userId"] == conn.user.user_id and first["appId"] == conn.app_id
    assert first["detail"]["hasRefreshToken"] is True and first["id"].startswith("EV")
    assert events[3]["detail"]["refreshToken"] == "revoked"
    assert all(a["seq"] < b["seq"] for a, b in itertools.pairwise(events))


def test_events_filter_by_user_app_kind_and_time(
    live_broker: LiveBroker, provider: LiveProvider
) -> None:
    one, two = Connection(live_broker, provider), Connection(live_broker, provider)
    mark = time.time()
    two.fetch(forceRefresh=True)
    by_user = _events(live_broker, userId=one.user.user_id).json()["events"]
    assert {e["tokenId"] for e in by_user} == {one.token_id}
    by_app = _events(live_broker, appId=two.app_id, kind="refreshed").json()["events"]
    assert [e["tokenId"] for e in by_app] == [two.token_id]
    since = _events(live_broker, since=mark, kind=["connected", "refreshed"]).json()["events"]
    assert [e["kind"] for e in since] == ["refreshed"]
    page = _events(live_broker, userId=two.user.user_id, limit=1).json()["events"]
    rest = _events(live_broker, userId=two.user.user_id, after=page[0]["seq"]).json()["events"]
    assert [e["kind"] for e in page + rest] == ["connected", "refreshed"]


def test_the_events_endpoint_needs_a_management_key_and_known_kinds(
    live_broker: LiveBroker,
) -> None:
    anonymous = httpx.get(f"{live_broker.url}/v1/x/events")
    assert anonymous.status_code == 401
    unknown = _events(live_broker, kind="exploded")
    assert unknown.status_code == 400 and unknown.json()["errorCode"] == "E011004"


class Receiver:
    """A webhook receiver on loopback: answers 500 to the first delivery, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((dict(request.headers), body))
                first = len(self.received) == 1
            return Response(status_code=500 if first else 200)

        self.server = ThreadedServer(app).start()
        self.url = f"{self.server.url}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A fresh receiver per test."""
    found = Receiver()
    try:
        yield found
    finally:
        found.server.stop()


def test_webhooks_are_signed_retried_and_carry_an_idempotency_id(
    make_broker: Callable[..., LiveBroker], provider: LiveProvider, receiver: Receiver
) -> None:
    lifecycle = LifecycleSettings(
        webhook_urls=(receiver.url,),
        webhook_secret=Secret(SECRET),
        webhook_backoff_s=0.2,
        scheduler_interval_s=0.2,
    )
    live = make_broker(lifecycle=lifecycle)  # scheduler off: deliveries still run
    conn = Connection(live, provider)
    deadline = time.monotonic() + 20
    while len(receiver.received) < 2:
        assert time.monotonic() < deadline, "no retry arrived"
        time.sleep(0.1)
    (first_headers, first_body), (headers, body) = receiver.received[:2]
    assert first_headers[ID_HEADER.lower()] == headers[ID_HEADER.lower()]  # same event again
    assert first_body == body
    event = httpx.Response(200, content=body).json()
    assert event["kind"] == "connected" and event["tokenId"] == conn.token_id
    assert headers[ID_HEADER.lower()] == event["id"]
    timestamp = headers[TIMESTAMP_HEADER.lower()]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers[SIGNATURE_HEADER.lower()] == "v1=" + expected.hexdigest()
