"""The agent proxy under attack: the user's token goes only to the app's declared API bases.

A hostile "provider API" on loopback redirects away, echoes the Authorization header, answers
huge bodies and rate limits; a second loopback server plays the attacker's host and counts
what reaches it. Every refusal is one clear error, and nothing refused reaches any server.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from broker.agents import proxy as proxy_module
from tests.support.agents import KeyHolder, create_by_template, proxy, user_with_key
from tests.support.servers import LiveBroker, ThreadedServer
from tests.support.token_seed import upload_user_token

TOKEN = "tok-" + secrets.token_hex(16)


@dataclass
class Hits:
    """Requests that reached a server, by path."""

    paths: list[str] = field(default_factory=list)


def _thief_app(hits: Hits) -> Starlette:
    async def anything(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return JSONResponse({"stolen": request.headers.get("authorization", "")})

    return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])


def _api_app(hits: Hits, thief_url: str) -> Starlette:
    async def echo(request: Request) -> Response:
        hits.paths.append(request.url.path)
        auth = request.headers.get("authorization", "")
        return JSONResponse(
            {"youSent": auth, "headers": dict(request.headers)}, headers={"etag": auth}
        )

    async def away(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return RedirectResponse(f"{thief_url}/steal", status_code=302)

    async def private(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return RedirectResponse("http://10.0.0.1/steal", status_code=307)

    async def inside(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return RedirectResponse("/api/echo", status_code=302)

    async def big(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return Response(b"x" * (2 * 1024 * 1024), media_type="text/plain")

    async def limited(request: Request) -> Response:
        hits.paths.append(request.url.path)
        return JSONResponse({"error": "slow down"}, status_code=429, headers={"Retry-After": "7"})

    async def trickle(request: Request) -> Response:
        hits.paths.append(request.url.path)

        async def drops() -> AsyncIterator[bytes]:
            for _ in range(40):
                await anyio.sleep(0.1)
                yield b"."

        return StreamingResponse(drops(), media_type="text/plain")

    return Starlette(
        routes=[
            Route("/api/trickle", trickle),
            Route("/api/echo", echo, methods=["GET", "POST"]),
            Route("/api/away", away),
            Route("/api/private", private),
            Route("/api/inside", inside),
            Route("/api/big", big),
            Route("/api/limited", limited),
        ]
    )


@dataclass
class Scene:
    """The hostile API, the thief, the app pointing at the API and a connected key holder."""

    api_hits: Hits
    thief_hits: Hits
    api_url: str
    thief_url: str
    app_id: str
    holder: KeyHolder


def _upload_token(live: LiveBroker, app_id: str, user_id: str) -> None:
    upload_user_token(
        live, app_id, user_id, accessToken=TOKEN, accessTokenExpiry=int(time.time()) + 3600
    )


@pytest.fixture
def scene(live_broker: LiveBroker) -> Iterator[Scene]:
    """Both servers on loopback and a demo-template app whose base URL is the hostile API."""
    api_hits, thief_hits = Hits(), Hits()
    thief = ThreadedServer(_thief_app(thief_hits)).start()
    api = ThreadedServer(_api_app(api_hits, thief.url)).start()
    try:
        app_id = f"hostile-{secrets.token_hex(3)}"
        create_by_template(live_broker, "demo", app_id, baseUrl=api.url)
        holder = user_with_key(live_broker)
        _upload_token(live_broker, app_id, holder.user.user_id)
        yield Scene(api_hits, thief_hits, api.url, thief.url, app_id, holder)
    finally:
        api.stop()
        thief.stop()


def _call(live: LiveBroker, scene: Scene, path: str, **fields: Any) -> httpx.Response:
    return proxy(live, scene.holder.session_jwt, scene.app_id, path, **fields)


def _refused(response: httpx.Response, status: int, code: str, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code and words in body["errorMessage"], body
    assert TOKEN not in response.text


def test_the_token_reaches_the_declared_api_and_is_redacted_from_the_answer(
    live_broker: LiveBroker, scene: Scene
) -> None:
    answer = _call(live_broker, scene, "/echo")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["json"]["youSent"] == "Bearer [redacted]"  # the API got it; it never came back
    assert body["headers"]["etag"] == "Bearer [redacted]"
    assert TOKEN not in answer.text
    assert scene.api_hits.paths == ["/api/echo"]


@pytest.mark.parametrize(
    "path",
    [
        "THIEF/steal",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/api/echo",
        "API/apix",
        "API@evil.example/api/echo",
    ],
    ids=["other_host", "metadata_service", "private_address", "prefix_trick", "user_info"],
)
def test_calls_outside_the_apps_api_bases_are_refused(
    live_broker: LiveBroker, scene: Scene, path: str
) -> None:
    target = path.replace("THIEF", scene.thief_url).replace("API", scene.api_url)
    _refused(_call(live_broker, scene, target), 400, "E113101", "")
    assert scene.api_hits.paths == [] and scene.thief_hits.paths == []


@pytest.mark.parametrize(
    "path",
    ["/../oauth/token", "/%2e%2e/oauth/token", "/echo\r\nX-Injected: 1", "/echo\\..\\x", "//evil"],
    ids=["dot_segments", "encoded_dot_segments", "crlf_in_path", "backslash", "scheme_relative"],
)
def test_paths_that_escape_or_inject_are_refused(
    live_broker: LiveBroker, scene: Scene, path: str
) -> None:
    _refused(_call(live_broker, scene, path), 400, "E113101", "")
    assert scene.api_hits.paths == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer mine"},
        {"Cookie": "a=b"},
        {"Host": "evil.example"},
        {"Accept": "application/json\r\nX-Injected: 1"},
        {"X-Forwarded-For": "10.0.0.1"},
    ],
    ids=["authorization", "cookie", "host", "crlf_in_value", "forwarded"],
)
def test_header_injection_is_refused(
    live_broker: LiveBroker, scene: Scene, headers: dict[str, str]
) -> None:
    _refused(_call(live_broker, scene, "/echo", headers=headers), 400, "E113101", "eader")
    assert scene.api_hits.paths == []


def test_methods_outside_the_allow_list_are_refused(live_broker: LiveBroker, scene: Scene) -> None:
    for method in ("TRACE", "CONNECT", "OPTIONS"):
        _refused(_call(live_broker, scene, "/echo", method=method), 400, "E113101", "not allowed")
    _refused(_call(live_broker, scene, "/echo", json={"a": 1}), 400, "E113101", "no body")
    assert scene.api_hits.paths == []


def test_oversized_request_bodies_are_refused(live_broker: LiveBroker, scene: Scene) -> None:
    huge = {"blob": "x" * (300 * 1024)}
    _refused(_call(live_broker, scene, "/echo", method="POST", json=huge), 413, "E011008", "KiB")
    assert scene.api_hits.paths == []


def test_oversized_answers_are_cut_at_the_limit(live_broker: LiveBroker, scene: Scene) -> None:
    body = _call(live_broker, scene, "/big").json()
    assert body["status"] == 200 and body["truncated"] is True
    assert len(body["text"]) == 1024 * 1024


def test_an_answer_trickling_in_past_the_deadline_is_abandoned(
    live_broker: LiveBroker, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy_module, "ANSWER_DEADLINE_S", 1.0)  # the broker runs in-process
    _refused(_call(live_broker, scene, "/trickle"), 502, "E113102", "within 1 seconds")


def test_redirects_to_other_hosts_are_not_followed(live_broker: LiveBroker, scene: Scene) -> None:
    _refused(_call(live_broker, scene, "/away"), 502, "E113102", "outside this app's API base")
    _refused(_call(live_broker, scene, "/private"), 502, "E113102", "http://10.0.0.1")
    assert scene.thief_hits.paths == []


def test_redirects_inside_the_api_base_are_followed(live_broker: LiveBroker, scene: Scene) -> None:
    body = _call(live_broker, scene, "/inside").json()
    assert body["status"] == 200 and body["json"]["youSent"] == "Bearer [redacted]"
    assert scene.api_hits.paths == ["/api/inside", "/api/echo"]


def test_retry_after_is_passed_through(live_broker: LiveBroker, scene: Scene) -> None:
    answer = _call(live_broker, scene, "/limited")
    assert answer.status_code == 200 and answer.headers["retry-after"] == "7"
    assert answer.json()["status"] == 429 and answer.json()["headers"]["retry-after"] == "7"


def test_a_catalog_host_resolving_to_a_private_address_is_refused(
    live_broker: LiveBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = f"gh-{secrets.token_hex(3)}"
    create_by_template(live_broker, "github", app_id, clientSecret="s")
    holder = user_with_key(live_broker)
    _upload_token(live_broker, app_id, holder.user.user_id)
    real = socket.getaddrinfo

    def rebound(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.github.com":  # a DNS answer pointing inside the network
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.5", 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    answer = proxy(live_broker, holder.session_jwt, app_id, "/user")
    assert answer.status_code == 400 and "non-public address" in answer.json()["errorMessage"]
    assert TOKEN not in answer.text
