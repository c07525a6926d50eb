"""XSS through what the dashboard renders: nothing a third party typed executes or becomes a link.

Apps are created through the management API with payloads in their name, description, logo URL
and default scopes (which the connect picker offers as its known scopes); a user's name, a
token's scopes and its ``lastRefreshError`` (sent by a hostile token endpoint) carry them to the
tokens page; the landing page gets them in its query. AppTest reads every element the pages
produce: markdown is parsed as CommonMark (after Streamlit's own ``:material/`` rewrite), and
no payload may become a link, an image, raw HTML or a Streamlit directive, while each payload
shown reads exactly as typed. One e2e test loads the pages in Debian's chromium: no dialog ever
opens and no payload element, event handler or ``javascript:`` link is in the DOM.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from streamlit.testing.v1 import AppTest

from dashboard.frame.remember import COOKIE_NAME
from dashboard.inventory.cache import SHARED
from tests.app.conftest import app, signed_in_app  # noqa: F401  (AppTest fixtures)

try:  # Debian's chromium: without it only the browser test is skipped, not the whole module.
    from tests.e2e.conftest import (  # noqa: F401  (Playwright fixtures)
        CHROMIUM,
        browser,
        dashboard,
        page,
        sign_in_through_the_form,
        wait_for_app,
    )

    IN_BROWSER = True
except pytest.skip.Exception:
    CHROMIUM, IN_BROWSER = "/usr/bin/chromium", False
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, RunningDashboard, create_user
from tests.support.page_text import rendered_strings
from tests.support.servers import LiveBroker, ThreadedServer
from tests.support.token_seed import upload_user_token

# Each payload carries "xss" so an element built from it can be told from the dashboard's own.
SCRIPT = "<script>alert('xss-script')</script>"
IMG = "<img src=x onerror=alert('xss-img')>"
LINK = "[xss-link](javascript:alert(1))"
IMAGE = "![xss-image](javascript:alert(2))"
ENTITY = "&lt;b&gt;xss-entity&lt;/b&gt; &#x3C;i&#x3E;"
COLOR = ":violet[xss-color]"
ICON = ":material/bug_report: xss-icon"
HTML_LOGO = "data:text/html,<script>alert('xss-logo')</script>"
JS_LOGO = "javascript:alert('xss-logo')"

NAME = f"Evil {SCRIPT} {LINK} {COLOR}"
DESCRIPTION = f"{IMG} {IMAGE} {ENTITY} {ICON}"
SCOPES = (
    "<script>alert('xss-s1')</script>",
    "<img/src=x/onerror=alert('xss-s2')>",
    "[xss-s3](javascript:alert(3))",
    "![xss-s4](javascript:alert(4))",
    ":violet[xss-s5]",
    ":material/bug_report:xss-s6",
    "&lt;xss-s7&gt;",
)
USER_NAME = f"Mallory {LINK} {SCRIPT} {COLOR}"
REFRESH_ERROR = f"{IMAGE} {IMG} {COLOR}"
APP_ID, SECOND_APP_ID = "evil-app", "evil-html-logo"
LANDING_URL = "http://127.0.0.1:9/landing"
DANGEROUS_URL = re.compile(r"^\s*(javascript|vbscript|data:text/html)", re.IGNORECASE)
# Streamlit directives a payload carries; the dashboard itself never uses them.
DIRECTIVES = re.compile(r"(?<!\\):violet\[|(?<!\\):material/bug_report:")
PLAIN_PROTOS = {"Text", "Code", "Json"}  # drawn as text, never as markdown
MARKDOWN_FIELDS = {"body", "label", "help"}

# Once, against the embedded broker: the strict (cloud) mode runs tests/app and tests/e2e.
pytestmark = LOCAL_ONLY


@pytest.fixture(scope="module")
def hostile_token_endpoint() -> Iterator[str]:
    """A token endpoint that refuses every refresh with a payload as its description."""

    async def token(_: Request) -> JSONResponse:
        return JSONResponse(
            {"error": "temporarily_unavailable", "error_description": REFRESH_ERROR},
            status_code=400,
        )

    server = ThreadedServer(Starlette(routes=[Route("/token", token, methods=["POST"])])).start()
    yield f"{server.url}/token"
    server.stop()


def create_app(broker: LiveBroker, app_id: str, name: str, logo: str, token_url: str) -> None:
    """Create an app whose visible fields carry the payloads."""
    response = httpx.post(
        f"{broker.url}/v1/mgmt/outbound/app/create",
        headers=broker.mgmt_headers(),
        json={
            "id": app_id,
            "name": name,
            "description": DESCRIPTION,
            "logo": logo,
            "clientId": "evil-client",
            "clientSecret": "evil-client-secret",
            "authorizationUrl": "http://127.0.0.1:9/authorize",
            "tokenUrl": token_url,
            "defaultScopes": list(SCOPES),
        },
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def evil_apps(live: LiveBroker, hostile_token_endpoint: str) -> tuple[str, str]:
    """Two payload apps: one with a ``javascript:`` logo, one with a ``data:text/html`` logo."""
    create_app(live, APP_ID, NAME, JS_LOGO, hostile_token_endpoint)
    create_app(live, SECOND_APP_ID, f"{NAME} 2", HTML_LOGO, hostile_token_endpoint)
    return APP_ID, SECOND_APP_ID


# --- reading what AppTest rendered ---------------------------------------------------------


def _inline(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _inline(token.children or [])


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark")
    # markdown-it drops javascript: links itself; Streamlit's parser builds them (then cleans
    # the href), so every link is parsed here and judged by ``injections``.
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


MARKDOWN = _parser()


def markdown_tokens(source: str) -> list[Token]:
    """CommonMark tokens of a markdown string, after Streamlit's own ``:material/`` rewrite."""
    return list(_inline(MARKDOWN.parse(source.replace(":material/", ":material_"))))


def visible_text(source: str) -> str:
    """What a person reads of a markdown string (escapes resolved, no markup)."""
    kinds = {"text", "code_inline", "html_inline"}
    return "".join(
        t.content if t.type in kinds else " " for t in markdown_tokens(source) if t.nesting == 0
    )


def injections(at: AppTest) -> list[str]:
    """Every place a payload became markup, or a dangerous URL reached an element."""
    found = []
    for proto, field, value in rendered_strings(at):
        if DANGEROUS_URL.match(value) and proto not in PLAIN_PROTOS | {"Cell"}:
            found.append(f"{proto}.{field} is a dangerous URL: {value!r}")
        if proto in PLAIN_PROTOS | {"Cell"} or field not in MARKDOWN_FIELDS:
            continue
        if DIRECTIVES.search(value):
            found.append(f"{proto}.{field} carries a live directive: {value!r}")
        for token in markdown_tokens(value):
            href = str(token.attrs.get("href") or token.attrs.get("src") or "")
            markup = token.type in {"link_open", "image", "html_inline", "html_block"}
            if markup and ("xss" in token.content + href or DANGEROUS_URL.match(href)):
                found.append(f"{proto}.{field} became {token.type}: {value!r}")
    return found


def seen(at: AppTest) -> str:
    """Everything a person reads on the page, markdown resolved."""
    return "\n".join(
        value
        if proto in PLAIN_PROTOS | {"Cell"} or field not in MARKDOWN_FIELDS
        else visible_text(value)
        for proto, field, value in rendered_strings(at)
    )


def assert_inert(at: AppTest, *shown: str) -> None:
    """No injection, no exception, and each of ``shown`` is read exactly as typed."""
    assert not at.exception, at.exception
    assert injections(at) == []
    text = seen(at)
    missing = [payload for payload in shown if payload not in text]
    assert missing == []


# --- the pages -------------------------------------------------------------------------------


def test_xss_through_app_fields_on_the_apps_page_stays_text(
    evil_apps: tuple[str, str],
    signed_in_app: Callable[..., AppTest],  # noqa: F811
) -> None:
    at = signed_in_app("apps-admin@example.test", roles=(ADMIN_ROLE,))
    assert_inert(at, NAME, DESCRIPTION, *SCOPES)
    assert not at.get("imgs"), "a logo that is not http(s) or data:image/ is never drawn"

    at.button(key=f"apps__connect__{APP_ID}").click().run()  # the scope picker: known scopes
    assert_inert(at, NAME, *SCOPES)
    at.button(key=f"apps__start__{APP_ID}").click().run()  # the pending connect
    assert_inert(at, NAME, *SCOPES)


def test_xss_through_the_app_name_in_the_connected_toast_stays_text(
    live: LiveBroker,
    evil_apps: tuple[str, str],
    signed_in_app: Callable[..., AppTest],  # noqa: F811
) -> None:
    at = signed_in_app("apps-toast@example.test")
    at.button(key=f"apps__connect__{APP_ID}").click().run()
    at.button(key=f"apps__start__{APP_ID}").click().run()
    user_id = at.session_state["session"].user.user_id
    upload_user_token(live, APP_ID, user_id, accessToken="xss-toast-access-token")
    at.run()  # the watcher sees the new connection and reruns the page with a toast
    assert [t.value for t in at.toast][-1:] != []
    assert_inert(at, NAME)


def land(at: AppTest, **query: str) -> AppTest:
    at.run()
    for name, value in query.items():
        at.query_params[name] = value
    return at.switch_page("../pages/connected.py").run()


def failed_flow(broker: LiveBroker, refresh_jwt: str, redirect_url: str) -> dict[str, str]:
    """A connect to the payload app whose provider answers a payload error: the landing query."""
    started = httpx.post(
        f"{broker.url}/v1/outbound/oauth/connect",
        headers=broker.user_headers(refresh_jwt),
        json={"appId": APP_ID, "options": {"redirectUrl": redirect_url}},
    )
    state = dict(parse_qsl(urlsplit(started.json()["url"]).query))["state"]
    landed = httpx.get(
        f"{broker.url}/v1/outbound/oauth/callback",
        params={"state": state, "error": IMAGE, "error_description": IMG + LINK},
    )
    return dict(parse_qsl(urlsplit(landed.headers["location"]).query))


def test_xss_through_the_providers_error_on_the_landing_page_stays_text(
    evil_apps: tuple[str, str],
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],  # noqa: F811
) -> None:
    at = signed_in_app("landing-xss@example.test")
    query = failed_flow(live, at.session_state["session"].refresh_jwt.reveal(), LANDING_URL)
    at = land(at, **query)
    assert_inert(at, NAME, IMG + LINK)


def test_xss_through_the_app_name_on_the_landing_page_stays_text(
    evil_apps: tuple[str, str],
    signed_in_app: Callable[..., AppTest],  # noqa: F811
) -> None:
    at = land(signed_in_app("landing-name-xss@example.test"), app=SECOND_APP_ID)
    assert_inert(at, f"{NAME} 2")


@pytest.fixture
def mallory_token(live: LiveBroker, evil_apps: tuple[str, str]) -> str:
    """A user named with payloads, holding a payload-scoped token whose refresh failed."""
    user_id = create_user(live, "mallory@example.test", name=USER_NAME)
    upload_user_token(
        live,
        APP_ID,
        user_id,
        accessToken="xss-mallory-access-token",
        accessTokenExpiry=int(time.time()) + 3600,
        refreshToken="xss-mallory-refresh-token",
        scopes=list(SCOPES[:4]),
    )
    forced = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": APP_ID, "userId": user_id, "options": {"forceRefresh": True}},
    )
    assert forced.status_code == 200, forced.text  # kept: the token is still valid
    SHARED.clear()
    token_id: str = forced.json()["token"]["id"]
    return token_id


def test_xss_through_user_names_scopes_and_refresh_errors_on_the_tokens_page_stays_text(
    mallory_token: str,
    signed_in_app: Callable[..., AppTest],  # noqa: F811
) -> None:
    at = signed_in_app("tokens-admin@example.test", roles=(ADMIN_ROLE,))
    at.switch_page("../pages/tokens.py").run()
    assert_inert(at, USER_NAME, *SCOPES[:4], REFRESH_ERROR)
    at.session_state["tokens__selected"] = mallory_token
    at.run()
    assert_inert(at, USER_NAME, NAME, *SCOPES[:4], REFRESH_ERROR)
    at.button(key="tokens__ask_refresh").click().run()
    at.button(key="tokens__confirm").click().run()
    assert at.warning, "the provider refused: the outcome is a warning with its error"
    assert_inert(at, USER_NAME, REFRESH_ERROR)
    for action in ("disconnect", "delete"):
        at.button(key=f"tokens__ask_{action}").click().run()  # the confirmation question
        assert_inert(at, USER_NAME)
        at.button(key="tokens__cancel").click().run()
    SHARED.clear()


def _payload_elements(page: Page) -> list[str]:
    """DOM nodes a payload would have produced: its scripts, handlers, links and frames."""
    found: list[str] = page.evaluate(
        """() => {
          const bad = [];
          for (const el of document.querySelectorAll('*')) {
            if (el.tagName === 'SCRIPT' && el.textContent.includes('xss')) bad.push('script');
            for (const a of el.attributes) {
              const v = a.value.trim().toLowerCase();
              if (a.name.startsWith('on') && v.includes('alert')) bad.push(el.tagName + ' ' + a.name);
              if (['href', 'src', 'action', 'formaction', 'data'].includes(a.name)
                  && (v.startsWith('javascript:') || v.startsWith('data:text/html')))
                bad.push(el.tagName + ' ' + a.name + '=' + v);
            }
          }
          return bad;
        }"""
    )
    return found


def _check_page(page: Page, dialogs: list[str], *shown: str) -> None:
    wait_for_app(page)
    assert dialogs == []
    assert _payload_elements(page) == []
    text = page.get_by_test_id("stMain").inner_text()
    assert [payload for payload in shown if payload not in text] == []


@pytest.mark.e2e
@pytest.mark.skipif(not IN_BROWSER, reason=f"{CHROMIUM} is not installed")
def test_xss_payloads_never_execute_in_a_real_browser(
    live: LiveBroker,
    evil_apps: tuple[str, str],
    dashboard: RunningDashboard,
    page: Page,
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    create_user(live, "browser-admin@example.test", roles=(ADMIN_ROLE,))
    page.goto(dashboard.url + "/")
    wait_for_app(page)
    sign_in_through_the_form(page, "browser-admin@example.test")
    card = page.locator(f".st-key-apps__card__{APP_ID}")
    expect(card).to_be_visible()
    _check_page(page, dialogs, NAME, DESCRIPTION, *SCOPES)

    card.get_by_role("button", name="Connect", exact=True).click()
    _check_page(page, dialogs, NAME)

    refresh_jwt = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME)
    landings = [  # the query, and what the page must show as typed
        (failed_flow(live, refresh_jwt, dashboard.url + "/connected"), [NAME, IMG + LINK]),
        ({"app": SECOND_APP_ID}, [f"{NAME} 2"]),  # the app's name: signed in through the cookie
    ]
    for query, shown in landings:
        page.goto(f"{dashboard.url}/connected?{urlencode(query)}")
        _check_page(page, dialogs, *shown)
