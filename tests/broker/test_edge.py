"""The broker's edge middleware (``broker/edge.py``): CORS for the dashboard's origins only, and
the body limit on both kinds of body (declared length and chunked), against a live broker."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.support.servers import LiveBroker

LOCAL_ORIGIN = "http://127.0.0.1:8501"
FOREIGN_ORIGIN = "https://evil.example"
FETCH = "/v1/mgmt/outbound/app/user/token/latest"


def test_a_preflight_from_a_local_dashboard_is_allowed_with_credentials(
    live_broker: LiveBroker,
) -> None:
    r = httpx.options(
        live_broker.url + FETCH,
        headers={
            "Origin": LOCAL_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "POST" in r.headers["access-control-allow-methods"]


def test_a_preflight_from_a_foreign_origin_is_refused(live_broker: LiveBroker) -> None:
    r = httpx.options(
        live_broker.url + FETCH,
        headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


def test_answers_say_they_vary_by_origin_and_name_only_allowed_origins(
    live_broker: LiveBroker,
) -> None:
    plain = httpx.get(live_broker.url + "/v1/x/health")
    local = httpx.get(live_broker.url + "/v1/x/health", headers={"Origin": LOCAL_ORIGIN})
    foreign = httpx.get(live_broker.url + "/v1/x/health", headers={"Origin": FOREIGN_ORIGIN})

    assert plain.headers["vary"] == "Origin" and "access-control-allow-origin" not in plain.headers
    assert local.headers["access-control-allow-origin"] == LOCAL_ORIGIN
    assert "access-control-allow-origin" not in foreign.headers
    assert all(r.status_code == 200 for r in (plain, local, foreign))


def test_an_error_answer_keeps_its_descope_shape_and_cors_headers(live_broker: LiveBroker) -> None:
    r = httpx.post(
        live_broker.url + FETCH,
        headers={**live_broker.mgmt_headers(), "Origin": LOCAL_ORIGIN},
        content=b"{not json",
    )
    assert r.status_code == 400 and r.json()["errorCode"]
    assert r.headers["access-control-allow-origin"] == LOCAL_ORIGIN


def test_a_chunked_body_within_the_limit_is_read_whole(live_broker: LiveBroker) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"appId": "nope",'
        yield b' "userId": "U0"}'

    headers = {**live_broker.mgmt_headers(), "Content-Type": "application/json"}
    r = httpx.post(live_broker.url + FETCH, headers=headers, content=chunks())
    # The body arrived whole (parsed, then answered "no such app"), not cut off as too large.
    assert r.status_code == 404 and r.json()["errorCode"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body(
    live_broker: LiveBroker,
) -> None:
    limit = live_broker.broker.settings.max_body_bytes
    r = httpx.post(
        live_broker.url + FETCH,
        headers={**live_broker.mgmt_headers(), "Origin": LOCAL_ORIGIN},
        content=b"x" * (limit + 1),
    )
    assert r.status_code == 413 and r.json()["errorCode"] == "E011008"
