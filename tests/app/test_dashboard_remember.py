"""The session cookie route: same-origin JSON POSTs with a single-use nonce set or clear it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from dashboard.descope import Secret
from dashboard.frame.remember import COOKIE_NAME, HANDOFFS, ROUTE_PATH, browser_script, routes
from tests.support.servers import ThreadedServer


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    running = ThreadedServer(Starlette(routes=routes())).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: ThreadedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as c:
        yield c


@pytest.fixture
def origin(server: ThreadedServer) -> str:
    return server.url


def test_a_persist_nonce_sets_an_httponly_lax_cookie_once(
    client: httpx.Client, origin: str
) -> None:
    nonce = HANDOFFS.issue("persist", Secret("r.j.w"), max_age_s=600)
    response = client.post(ROUTE_PATH, json={"nonce": nonce}, headers={"Origin": origin})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE_NAME}=r.j.w" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=600" in cookie
    again = client.post(ROUTE_PATH, json={"nonce": nonce}, headers={"Origin": origin})
    assert again.status_code == 403


def test_a_forget_nonce_clears_the_cookie(client: httpx.Client, origin: str) -> None:
    nonce = HANDOFFS.issue("forget")
    response = client.post(ROUTE_PATH, json={"nonce": nonce}, headers={"Origin": origin})
    assert response.status_code == 200
    assert f'{COOKIE_NAME}=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.parametrize("case", ["no origin", "foreign origin", "cross-site fetch"])
def test_cross_site_or_originless_posts_are_refused(
    client: httpx.Client, origin: str, case: str
) -> None:
    headers = {
        "no origin": {},
        "foreign origin": {"Origin": "https://evil.example"},
        "cross-site fetch": {"Origin": origin, "Sec-Fetch-Site": "cross-site"},
    }[case]
    nonce = HANDOFFS.issue("persist", Secret("r.j.w"), max_age_s=600)
    response = client.post(ROUTE_PATH, json={"nonce": nonce}, headers=headers)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert HANDOFFS.is_pending(nonce)


def test_a_form_post_is_refused_even_from_the_same_origin(
    client: httpx.Client, origin: str
) -> None:
    nonce = HANDOFFS.issue("persist", Secret("r.j.w"), max_age_s=600)
    response = client.post(ROUTE_PATH, data={"nonce": nonce}, headers={"Origin": origin})
    assert response.status_code == 403


def test_an_unknown_nonce_is_refused(client: httpx.Client, origin: str) -> None:
    response = client.post(ROUTE_PATH, json={"nonce": "guess"}, headers={"Origin": origin})
    assert response.status_code == 403


def test_the_browser_script_carries_the_nonce_not_the_token() -> None:
    nonce = HANDOFFS.issue("persist", Secret("r.j.w"), max_age_s=600)
    script = browser_script(nonce)
    assert nonce in script and "r.j.w" not in script and ROUTE_PATH in script
