"""The fetch's fast path (``broker/outbound/fast_fetch.py``) answers exactly what the endpoint
would, and nothing else: every other case reaches the endpoint with its body intact."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from broker.outbound.fast_fetch import FETCH_PATHS
from broker.outbound.token_routes import router
from broker.store.outbound import ManagedTokenRow
from tests.support.identity import sign_in_new_user
from tests.support.outbound import create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker
from tests.support.token_seed import upload_user_token


def test_the_fast_path_covers_the_four_fetch_endpoints_and_their_checks_only() -> None:
    """A check added to a fetch endpoint (a dependency) must be added to the fast path too:
    this test names the endpoints' dependencies, so such a change fails here first."""
    routes = {r.path: r for r in router.routes if isinstance(r, APIRoute) and r.path in FETCH_PATHS}
    assert set(routes) == set(FETCH_PATHS)
    for route in routes.values():
        assert route.methods == {"POST"}
        deps = [d.call.__name__ for d in route.dependant.dependencies if d.call is not None]
        assert deps == ["_arrival", "require_management"], route.path
        assert [p.name for p in route.dependant.body_params] == ["body"]


@pytest.fixture(scope="module")
def stored(live_broker: LiveBroker, shared_provider: LiveProvider) -> tuple[str, str]:
    app_id = f"fast-{secrets.token_hex(4)}"
    create_demo_app(live_broker, shared_provider, app_id)
    upload_user_token(
        live_broker,
        app_id,
        "U-fast",
        accessToken="fast-access",
        refreshToken="fast-refresh",
        accessTokenExpiry=int(time.time()) + 3600,
        scopes=["read"],
    )
    return app_id, "U-fast"


def _post(live: LiveBroker, path: str, content: bytes, **headers: str) -> httpx.Response:
    base = {**live.mgmt_headers(), "Content-Type": "application/json"}
    return httpx.post(live.url + path, headers={**base, **headers}, content=content)


def test_a_fresh_token_is_answered_with_the_endpoints_bytes(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    app_id, user_id = stored
    body = json.dumps({"appId": app_id, "userId": user_id}).encode()
    fast = _post(live_broker, "/v1/mgmt/outbound/app/user/token/latest", body)
    # withRefreshToken and scopes take the same path; the answer is the endpoint's shape.
    with_refresh = _post(
        live_broker,
        "/v1/mgmt/outbound/app/user/token",
        json.dumps(
            {"appId": app_id, "userId": user_id, "scopes": ["read"],
             "options": {"withRefreshToken": True}}
        ).encode(),
    )  # fmt: skip
    assert fast.status_code == 200 and fast.headers["content-type"] == "application/json"
    assert fast.json()["token"]["accessToken"] == "fast-access"
    assert "refreshToken" not in fast.json()["token"]
    assert with_refresh.json()["token"]["refreshToken"] == "fast-refresh"


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b'{"appId": ', {}, 400, "E011001"),  # malformed JSON: the endpoint's 400
        (b'{"userId": "U-fast"}', {}, 400, "E011003"),  # appId missing
        (b'{"appId": "nope", "userId": "U-fast"}', {}, 404, "E111501"),  # unknown app
        (b"{}", {"Authorization": "Bearer Pnope:Knope"}, 401, ""),  # foreign project
    ],
)
def test_everything_else_reaches_the_endpoint_with_its_body(
    live_broker: LiveBroker,
    stored: tuple[str, str],
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    r = _post(live_broker, "/v1/mgmt/outbound/app/user/token/latest", content, **headers)

    assert r.status_code == status, r.text
    assert r.json()["errorCode"].startswith(code or "E")


def test_a_wrong_key_is_still_counted_by_the_endpoint(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    app_id, user_id = stored
    body = json.dumps({"appId": app_id, "userId": user_id}).encode()
    wrong = f"Bearer {live_broker.project_id}:K{'x' * 40}"
    r = _post(live_broker, "/v1/mgmt/outbound/app/user/token/latest", body, Authorization=wrong)

    assert r.status_code in (401, 429) and r.json()["errorCode"]
    assert "fast-access" not in r.text


def test_the_fast_answer_is_the_endpoints_byte_for_byte(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    """A request with an ``Origin`` always goes through the stack (CORS is the edge's): the same
    fetch answered both ways, with text that JSON encoders escape differently if they differ."""
    app_id, _ = stored
    user_id = "U-fast-bytes"
    tricky = 'tok-"quoted"\\back/slash-é-✓-\u2028-\x7f-🙂'
    upload_user_token(
        live_broker,
        app_id,
        user_id,
        accessToken=tricky,
        accessTokenExpiry=int(time.time()) + 3600,
        scopes=["read", "wrïte"],
    )
    body = json.dumps({"appId": app_id, "userId": user_id}).encode()
    fast = _post(live_broker, "/v1/mgmt/outbound/app/user/token/latest", body)
    stack = _post(
        live_broker, "/v1/mgmt/outbound/app/user/token/latest", body, Origin="https://x.example"
    )

    assert fast.status_code == stack.status_code == 200
    assert fast.json()["token"]["accessToken"] == tricky
    assert fast.content == stack.content
    for header in ("content-type", "content-length", "vary"):
        assert fast.headers[header] == stack.headers[header], header


def test_a_token_that_cannot_be_unsealed_is_answered_by_the_stack_in_descopes_shape(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    """Any error on the fast path (here the vault refusing a sealed value moved under another
    row) leaves the answer to the stack: its handlers answer in Descope's shape, no traceback."""
    app_id, _ = stored
    victim, thief = "U-fast-victim", "U-fast-thief"
    for user_id in (victim, thief):
        upload_user_token(
            live_broker, app_id, user_id, accessToken=f"{user_id}-access",
            accessTokenExpiry=int(time.time()) + 3600, scopes=["read"],
        )  # fmt: skip
    with live_broker.broker.db.session() as s:
        rows = {
            r.user_id: r
            for r in s.scalars(select(ManagedTokenRow).where(ManagedTokenRow.app_id == app_id))
        }
        rows[thief].access_token_sealed = rows[victim].access_token_sealed
    body = json.dumps({"appId": app_id, "userId": thief}).encode()
    r = _post(live_broker, "/v1/mgmt/outbound/app/user/token/latest", body)

    assert r.status_code == 500, r.text
    assert r.json()["errorCode"].startswith("E")
    assert f"{victim}-access" not in r.text


def test_a_stranger_gets_no_token_from_the_fast_path(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    """The fast path's own header reading, tried as a stranger would: the right key under a
    mismatched ``X-Descope-Project-Id``, a signed-in user's JWT where the key belongs, no
    ``Authorization`` at all, and the right key with a chunked body (which the fast path
    leaves to the stack). Only the last is a token; the others are the stack's 401s."""
    app_id, user_id = stored
    body = json.dumps({"appId": app_id, "userId": user_id}).encode()
    path = live_broker.url + "/v1/mgmt/outbound/app/user/token/latest"
    jwt = sign_in_new_user(live_broker).refresh_jwt
    refused = [
        {**live_broker.mgmt_headers(), "X-Descope-Project-Id": "P-someone-else"},
        live_broker.user_headers(jwt),
        {},
    ]
    for headers in refused:
        r = httpx.post(path, headers={**headers, "Content-Type": "application/json"}, content=body)
        assert r.status_code == 401, (headers.keys(), r.text)
        assert "fast-access" not in r.text and r.json()["errorCode"].startswith("E")

    def chunks() -> Iterator[bytes]:
        yield body[:5]
        yield body[5:]

    chunked = httpx.post(
        path,
        headers={**live_broker.mgmt_headers(), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert chunked.status_code == 200 and chunked.json()["token"]["accessToken"] == "fast-access"


def test_fifty_fetches_at_once_each_get_the_token(
    live_broker: LiveBroker, stored: tuple[str, str]
) -> None:
    """The fast path keeps no per-request state: fifty concurrent fetches, fifty equal answers."""
    app_id, user_id = stored
    body = json.dumps({"appId": app_id, "userId": user_id}).encode()
    path = "/v1/mgmt/outbound/app/user/token/latest"
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: _post(live_broker, path, body), range(50)))

    assert {a.status_code for a in answers} == {200}
    assert {a.json()["token"]["accessToken"] for a in answers} == {"fast-access"}
