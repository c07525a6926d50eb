"""Descope's own outbound-applications widget (npm, unmodified) against the local broker.

A plain HTML page (the README's snippet) embeds ``@descope/outbound-applications-widget`` with
the UI components of ``@descope/web-components-ui`` served from loopback (``base-cdn-url``); the
user's refresh JWT is in localStorage (``DSR``), where Descope's web SDK keeps it. In Debian's
chromium: the list renders from the broker's hosted files → Connect runs the
``outbound-apps-connect`` flow (redirect to the demo provider) → consent → back on the page, the
flow resumes (``/v1/flow/next``) and the app shows Disconnect → Disconnect runs
``outbound-apps-disconnect`` → Connect again, and the provider reports the token revoked. Every
request outside 127.0.0.1 is aborted and recorded; none may be needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from broker.lifecycle.events import EventQuery, list_events
from broker.outbound.widget_routes import COMPONENTS_VERSION
from tests.support.descope_widget import UI_PACKAGE, WIDGET_ID, start_widget_site, widget_packages
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import consent_app_fixture
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, ThreadedServer, free_port

pytestmark = pytest.mark.e2e
APP_ID = "acme-widget"
APP_NAME = f"Acme {APP_ID}"


@pytest.fixture(scope="module")
def site_port() -> int:
    """The widget site's port, chosen first: the broker allows its origin for CORS."""
    return free_port()


@pytest.fixture(scope="module")
def broker_settings(site_port: int) -> dict[str, Any]:
    """``live`` (once as the embedded broker, once in strict mode, the stand-in for Descope's
    cloud) allows the site's origin for CORS."""
    return {"cors_origins": (f"http://127.0.0.1:{site_port}",)}


acme = consent_app_fixture(APP_ID)


@pytest.fixture(scope="module")
def site(live: LiveBroker, site_port: int) -> Iterator[ThreadedServer]:
    """The page, the widget and the UI components on loopback (packages from npm, cached)."""
    server = start_widget_site(
        widget_packages(),
        project_id=live.project_id,
        broker_url=live.url,
        port=site_port,
    )
    yield server
    server.stop()


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page whose requests beyond 127.0.0.1 are aborted and listed."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    left_loopback: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            left_loopback.append(url)
            route.abort()

    context.route("**/*", guard)
    yield context.new_page(), left_loopback
    context.close()


def sign_in_on_the_site(page: Page, site: ThreadedServer, user: SignedInUser) -> None:
    """Put the user's refresh JWT where Descope's web SDK keeps it (localStorage DSR)."""
    session = {"DSR": user.refresh_jwt}  # the README: a refresh JWT is enough
    page.context.add_init_script(
        f"if (location.origin === {json.dumps(site.url)}) {{"
        f" for (const [k, v] of Object.entries({json.dumps(session)})) {{"
        "  if (!localStorage.getItem(k)) localStorage.setItem(k, v); } }"
    )


def test_descope_widget_connects_and_disconnects_through_the_broker(
    live: LiveBroker,
    acme: LiveProvider,
    site: ThreadedServer,
    offline_page: tuple[Page, list[str]],
    tmp_path: Path,
) -> None:
    page, left_loopback = offline_page
    user = sign_in_new_user(live, "widget.user@example.test")
    sign_in_on_the_site(page, site, user)
    answered: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            answered.append((urlsplit(r.url).path, r.status))
            if r.url.startswith(live.url) and r.request.method != "OPTIONS"
            else None
        ),
    )
    page.goto(f"{site.url}/widget.html")
    expect(page.get_by_text(APP_NAME)).to_be_visible(timeout=30_000)
    connect = page.locator(f'descope-button[data-outbound-app-id="{APP_ID}"]')
    expect(connect).to_have_attribute("data-action", "connect")

    connect.click()
    page.wait_for_url(f"{acme.url}/oauth/authorize?**", timeout=30_000)
    page.locator("#password").fill("demo")
    page.get_by_role("button", name="Allow").click()
    # back on the page, the flow resumes (/v1/flow/next) and sends it back to itself, clean
    page.wait_for_url(f"{site.url}/widget.html", timeout=30_000)
    button = page.locator(f'descope-button[data-outbound-app-id="{APP_ID}"]')
    expect(button).to_have_attribute("data-action", "disconnect", timeout=30_000)
    expect(button).to_contain_text("Disconnect")
    token = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": APP_ID, "userId": user.user_id},
    ).json()["token"]
    assert acme.introspect(token["accessToken"])["active"] is True

    button.click()
    expect(button).to_have_attribute("data-action", "connect", timeout=30_000)
    assert acme.introspect(token["accessToken"])["active"] is False
    # read in the store: /v1/x/events is an extension a strict (cloud-like) broker hides
    events = list_events(live.broker, EventQuery(user_id=user.user_id, app_id=APP_ID))
    assert {"connected", "revoked", "disconnected"} <= {e["kind"] for e in events}
    assert left_loopback == []
    pages = f"/pages/{live.project_id}/v2-beta"
    for path in (
        f"{pages}/config.json",
        f"{pages}/theme.json",
        f"{pages}/outbound-applications-widget/{WIDGET_ID}/root.html",
        "/v1/mgmt/widget/components-state",
    ):
        assert (path, 200) in answered, (path, answered)
    assert answered.count(("/v1/flow/start", 200)) == 2, answered
    assert answered.count(("/v1/flow/next", 200)) == 1, answered
    assert not [a for a in answered if a[1] >= 400], answered


def test_hosted_theme_is_the_pinned_components_default_theme(
    live: LiveBroker, site: ThreadedServer, offline_page: tuple[Page, list[str]]
) -> None:
    """theme.json is web-components-ui's own ``themeToStyle`` output for its pinned release.

    To regenerate after raising ``COMPONENTS_VERSION``: write this test's ``made`` to
    broker/outbound/widget/theme.json (compact JSON, sorted keys).
    """
    page, left_loopback = offline_page
    page.goto(f"{site.url}/widget.html")
    umd = f"/npm/{UI_PACKAGE}@{COMPONENTS_VERSION}/dist/umd"
    page.add_script_tag(url=f"{site.url}{umd}/DescopeDev.js")
    made = page.evaluate(
        "() => { const D = globalThis.DescopeDev;"
        " return {light: D.themeToStyle(D.defaultTheme), dark: D.themeToStyle(D.darkTheme)}; }"
    )
    hosted = httpx.get(f"{live.url}/pages/{live.project_id}/v2-beta/theme.json").json()
    assert hosted == made
    assert left_loopback == []


def test_descope_widget_connect_denied_at_the_provider_stores_nothing(
    live: LiveBroker,
    acme: LiveProvider,
    site: ThreadedServer,
    offline_page: tuple[Page, list[str]],
) -> None:
    page, left_loopback = offline_page
    user = sign_in_new_user(live, "widget.denier@example.test")
    sign_in_on_the_site(page, site, user)
    page.goto(f"{site.url}/widget.html")
    button = page.locator(f'descope-button[data-outbound-app-id="{APP_ID}"]')
    expect(button).to_have_attribute("data-action", "connect", timeout=30_000)
    button.click()
    page.wait_for_url(f"{acme.url}/oauth/authorize?**", timeout=30_000)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{site.url}/widget.html", timeout=30_000)
    expect(page.get_by_text(APP_NAME)).to_be_visible(timeout=30_000)
    # the resumed flow sent the page back to itself: no flow modal is left over the list
    expect(page.locator('descope-modal[data-id="redirect-flow"]')).to_have_count(0, timeout=30_000)
    expect(button).to_have_attribute("data-action", "connect")
    button.click()  # nothing covers the list
    page.wait_for_url(f"{acme.url}/oauth/authorize?**", timeout=30_000)
    assert list_events(live.broker, EventQuery(user_id=user.user_id)) == []
    assert left_loopback == []
