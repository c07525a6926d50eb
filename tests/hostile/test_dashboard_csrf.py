"""CSRF on the dashboard's cookie route, end to end: the real dashboard process, real nonces.

Chromium signs in; every POST its page makes to ``/_outbound/session`` is caught and held back,
so the nonce the script issued stays unused. The attacks then go over plain HTTP to the running
dashboard; each is refused without a Set-Cookie, and the nonce survives them all: the one
same-origin JSON post the page itself would have made takes it, once. (The route's checks one by
one, in-process: tests/app/test_dashboard_remember.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Route

from dashboard.frame.remember import COOKIE_NAME, ROUTE_PATH
from tests.e2e.conftest import (  # noqa: F401  (Playwright fixtures)
    browser,
    dashboard,
    sign_in_through_the_form,
    wait_for_app,
)
from tests.support.dashboard import LOCAL_ONLY, RunningDashboard, create_user
from tests.support.servers import LiveBroker

# Once, against the embedded broker: the strict (cloud) mode runs tests/app and tests/e2e.
pytestmark = [pytest.mark.e2e, LOCAL_ONLY]
EVIL = "https://evil.example"


@dataclass(frozen=True)
class Handoff:
    """A nonce the dashboard issued to one browser session, and that browser's own headers."""

    user_id: str
    nonce: str
    headers: dict[str, str]


def held_back_handoff(
    browser: Browser,  # noqa: F811
    live: LiveBroker,
    dashboard: RunningDashboard,  # noqa: F811
    login_id: str,
) -> Handoff:
    """Sign ``login_id`` in through chromium; the page's cookie POST is caught, never sent."""
    user_id = create_user(live, login_id)
    caught: list[tuple[str, dict[str, str]]] = []

    def hold_back(route: Route) -> None:
        caught.append((route.request.post_data or "", route.request.headers))
        route.abort()

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route(f"**{ROUTE_PATH}", hold_back)
        page.goto(dashboard.url + "/")
        wait_for_app(page)
        sign_in_through_the_form(page, login_id)
        for _ in range(100):
            if caught:
                break
            page.wait_for_timeout(100)
    finally:
        context.close()
    body, headers = caught[0]
    return Handoff(user_id, json.loads(body)["nonce"], headers)


@pytest.fixture(scope="module")
def victim(
    browser: Browser,  # noqa: F811
    live: LiveBroker,
    dashboard: RunningDashboard,  # noqa: F811
) -> Handoff:
    """The nonce issued to the victim's session (held back from the route)."""
    return held_back_handoff(browser, live, dashboard, "victim@example.test")


@pytest.fixture
def http(dashboard: RunningDashboard) -> Iterator[httpx.Client]:  # noqa: F811
    """A plain HTTP client of the running dashboard."""
    with httpx.Client(base_url=dashboard.url) as client:
        yield client


def assert_no_session_cookie(response: httpx.Response) -> None:
    """No refresh JWT handed out (Streamlit's own XSRF cookie may be set on its pages)."""
    cookies = response.headers.get_list("set-cookie")
    assert not [c for c in cookies if c.startswith(f"{COOKIE_NAME}=")]


def assert_refused(response: httpx.Response) -> None:
    """Refused (403), and no refresh JWT handed out."""
    assert response.status_code == 403, response.text
    assert_no_session_cookie(response)


def same_origin(dashboard: RunningDashboard) -> dict[str, str]:  # noqa: F811
    return {"Origin": dashboard.url, "Sec-Fetch-Site": "same-origin"}


def test_the_browser_posts_a_same_origin_json_nonce_and_never_the_token(victim: Handoff) -> None:
    assert victim.headers["content-type"] == "application/json"
    assert victim.headers.get("sec-fetch-site", "same-origin") == "same-origin"
    assert "." not in victim.nonce  # a random nonce, not a JWT


def test_csrf_from_a_cross_site_origin_is_refused(victim: Handoff, http: httpx.Client) -> None:
    assert_refused(http.post(ROUTE_PATH, json={"nonce": victim.nonce}, headers={"Origin": EVIL}))


def test_csrf_without_origin_but_cross_site_fetch_metadata_is_refused(
    victim: Handoff, http: httpx.Client
) -> None:
    assert_refused(
        http.post(
            ROUTE_PATH, json={"nonce": victim.nonce}, headers={"Sec-Fetch-Site": "cross-site"}
        )
    )


def test_csrf_as_a_form_post_is_refused(
    victim: Handoff,
    http: httpx.Client,
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    assert_refused(
        http.post(ROUTE_PATH, data={"nonce": victim.nonce}, headers=same_origin(dashboard))
    )


def test_csrf_as_a_text_plain_post_is_refused(
    victim: Handoff,
    http: httpx.Client,
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    # text/plain is the one body type a cross-site form or no-cors fetch can send as JSON.
    headers = {**same_origin(dashboard), "Content-Type": "text/plain"}
    assert_refused(
        http.post(ROUTE_PATH, content=json.dumps({"nonce": victim.nonce}), headers=headers)
    )


def test_csrf_without_a_nonce_is_refused(
    http: httpx.Client,
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    assert_refused(http.post(ROUTE_PATH, json={}, headers=same_origin(dashboard)))
    assert_refused(http.post(ROUTE_PATH, json={"nonce": None}, headers=same_origin(dashboard)))
    assert_refused(http.post(ROUTE_PATH, json=["nonce"], headers=same_origin(dashboard)))


def test_csrf_with_a_get_is_refused(victim: Handoff, http: httpx.Client) -> None:
    answer = http.get(ROUTE_PATH, params={"nonce": victim.nonce})
    # The route takes POST only; Streamlit answers any other GET with its own page.
    assert answer.headers["content-type"].startswith("text/html")
    assert_no_session_cookie(answer)


def test_csrf_with_a_nonce_issued_to_another_session_is_refused(
    browser: Browser,  # noqa: F811
    live: LiveBroker,
    dashboard: RunningDashboard,  # noqa: F811
    http: httpx.Client,
) -> None:
    # Login CSRF: the attacker's own session's nonce, posted from the attacker's page to the
    # victim's dashboard, would sign the victim's browser in as the attacker.
    attacker = held_back_handoff(browser, live, dashboard, "attacker@example.test")
    cross_site = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    assert_refused(http.post(ROUTE_PATH, json={"nonce": attacker.nonce}, headers=cross_site))
    assert_refused(
        http.post(ROUTE_PATH, content=json.dumps({"nonce": attacker.nonce}), headers=cross_site)
    )


def test_the_same_origin_json_post_sets_the_cookie_once_and_a_replay_is_refused(
    victim: Handoff,
    http: httpx.Client,
    dashboard: RunningDashboard,  # noqa: F811
) -> None:
    headers = {**same_origin(dashboard), "Content-Type": "application/json"}
    body = json.dumps({"nonce": victim.nonce})
    taken = http.post(ROUTE_PATH, content=body, headers=headers)
    assert taken.status_code == 200, taken.text
    cookie = taken.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "HttpOnly" in cookie
    refresh_jwt = cookie.split(";")[0].split("=", 1)[1]
    assert jwt.decode(refresh_jwt, options={"verify_signature": False})["sub"] == victim.user_id

    assert_refused(httpx.post(f"{dashboard.url}{ROUTE_PATH}", content=body, headers=headers))
