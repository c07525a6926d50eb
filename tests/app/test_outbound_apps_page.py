"""The outbound apps page, in-process (AppTest) against a live broker and demo provider."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from broker.demo_provider.consent_form import approve
from broker.demo_provider.directory import USERS
from broker.store.outbound import OutboundAppRow
from dashboard.descope import APP_GONE, CONNECT_REFUSED, NAME_TAKEN, REDIRECT_NOT_ALLOWED
from dashboard.frame.gates import DEVELOPER_ROLES
from dashboard.ui.apps import NO_CATALOG
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, is_strict
from tests.support.identity import sign_in_new_user
from tests.support.outbound import (
    CLIENT_SECRET,
    confirm,
    create_demo_app,
    land,
    outcome_of,
    start_connect,
)
from tests.support.page_text import proto_text
from tests.support.provider import LiveProvider, running_provider
from tests.support.servers import LiveBroker

DEVELOPER = DEVELOPER_ROLES[0]

DEMO_USER = USERS[0].email  # a demo provider account


@pytest.fixture(scope="module")
def acme(live: LiveBroker) -> Iterator[LiveProvider]:
    """One demo provider (consent page, not auto-approving) with two apps in the broker."""
    with running_provider(auto_approve=False) as provider:
        create_demo_app(live, provider, "acme-cal", overrides={"description": "Calendar *demo*"})
        create_demo_app(
            live,
            provider,
            "zeta-notes",
            overrides={
                "name": "Zeta [notes](javascript:alert(1))",
                "logo": "javascript:alert(1)",
                "defaultScopes": ["profile"],
            },
        )
        yield provider


def texts_of(at: AppTest | Any) -> str:
    """Every text the rendered page (or one block of it) carries: element protos, recursively."""
    # Markdown escapes (``calendar\.read``) and proto quoting are not part of what is seen.
    return proto_text(at).replace("\\", "")


def card_names(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]


def open_connect(at: AppTest, app_id: str) -> AppTest:
    at.button(key=f"apps__connect__{app_id}").click()
    return at.run()


def start(at: AppTest, app_id: str, **fields: Any) -> AppTest:
    for name, value in fields.items():
        widget = at.get_by_key(f"apps__{name}__{app_id}")
        assert widget is not None, name
        widget.set_value(value)  # type: ignore[union-attr]
    at.button(key=f"apps__start__{app_id}").click()
    return at.run()


def test_the_list_shows_every_app_with_default_scopes_safely(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = signed_in_app("list@example.com")
    assert not at.exception
    assert [t.value for t in at.title] == ["Outbound apps"]
    names = card_names(at)
    assert len(names) == 2
    assert names[0].startswith("**Acme acme\\-cal**")
    # Markdown in a name is escaped, so it cannot become a link.
    assert "\\[notes\\]\\(javascript\\:alert\\(1\\)\\)" in names[1]
    page = texts_of(at)
    assert "javascript:alert(1)" not in "".join(i.proto.markup for i in at.get("imgs"))
    assert "Not connected" in page
    for scope in ("profile", "email", "calendar.read", "offline_access"):
        assert scope in page
    assert (NO_CATALOG in page) is is_strict(live)  # the cloud has no provider catalog


def test_search_and_sort_by_name(acme: LiveProvider, signed_in_app: Callable[..., AppTest]) -> None:
    at = signed_in_app("search@example.com")
    at.selectbox(key="apps__sort").select("Z → A").run()
    assert card_names(at)[0].startswith("**Zeta")
    at.text_input(key="apps__search").set_value("acme-cal").run()
    names = card_names(at)
    assert len(names) == 1 and names[0].startswith("**Acme")
    at.text_input(key="apps__search").set_value("nothing like it").run()
    assert card_names(at) == []


def pending_rows(at: AppTest) -> dict[str, list[str]]:
    """The inspector's rows by part."""
    rows: dict[str, list[str]] = {}
    frame = at.dataframe[0].value
    for part, value in zip(frame["Part"], frame["Value"], strict=True):
        rows.setdefault(part, []).append(value)
    return rows


@LOCAL_ONLY
def test_the_scope_picker_offers_the_catalog_scopes_with_descriptions(
    acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("picker@example.com"), "acme-cal")
    picker = at.multiselect(key="apps__scopes__acme-cal")
    assert picker.options[:4] == [
        "profile — Read the user's name and id.",
        "email — Read the user's email address.",
        "calendar.read — List the user's calendar events.",
        "offline_access — Issue a refresh token.",
    ]
    assert "calendar.write — Create and change the user's calendar events." in picker.options
    assert picker.value == ["profile", "email", "calendar.read", "offline_access"]
    # Redirect URL, tenant and on-behalf-of are for admins and developers, under "Advanced".
    assert not at.expander and "apps__redirect__acme-cal" not in at.session_state


def test_developers_find_redirect_tenant_and_on_behalf_under_advanced(
    acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("dev@example.com", roles=(DEVELOPER,)), "acme-cal")

    assert [e.label for e in at.expander] == ["Advanced"]
    assert at.text_input(key="apps__redirect__acme-cal").value.endswith("/connected")
    assert at.text_input(key="apps__on_behalf__acme-cal").proto.type == 1  # a password field


def test_a_connect_link_is_inspected_before_it_is_followed(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("inspect@example.com"), "acme-cal")
    at = start(at, "acme-cal", scopes=["profile", "calendar.write"], extra="email")
    assert not at.exception
    assert not at.error
    [link] = at.get("link_button")
    url = link.proto.url
    assert url.startswith(acme.url + "/oauth/authorize?")
    rows = pending_rows(at)
    # The link sits in the card that asked for it, which says it waits (not "Not connected").
    markdown = [m.value for m in at.markdown]
    card = next(i for i, v in enumerate(markdown) if v.startswith("**Acme acme\\-cal**"))
    link_box = markdown.index("**Authorization link for Acme acme\\-cal**")
    assert card < link_box
    assert all(not v.startswith("**") or " · " not in v for v in markdown[card + 1 : link_box])
    assert any("Waiting for your consent" in v for v in markdown[card:link_box])
    assert rows["Scope"] == ["profile", "calendar.write", "email"]
    assert httpx.URL(url).params["login_hint"] == "inspect@example.com"  # the provider's start
    assert rows["Client id"] == ["acme-cal"]
    assert rows["Redirect URI"] == [live.url + "/v1/outbound/oauth/callback"]
    assert rows["PKCE"] == ["S256"]
    state = httpx.URL(url).params["state"]
    assert state not in texts_of(at).replace(url, "")  # the state shows only masked
    assert rows["State"] == [state[:4] + "•" * 8]
    at.toggle(key="apps__show_url").set_value(True).run()
    assert [c.value for c in at.code] == [url]


def test_a_completed_connect_updates_the_tab_that_started_it(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("connect@example.com"), "acme-cal")
    at = start(at, "acme-cal", scopes=["profile", "calendar.write"])
    [link] = at.get("link_button")
    location = approve(acme.http, link.proto.url, email=DEMO_USER)
    landed = httpx.get(location)
    assert landed.status_code == 302
    session = at.session_state["session"]
    if is_strict(live):  # the cloud stores the grant at the callback and adds no parameter
        assert not {"outbound", "flow"} & set(outcome_of(landed.headers["location"]))
    else:
        assert "outbound=confirm" in landed.headers["location"]
        flow = outcome_of(landed.headers["location"])["flow"]  # the landing page confirms it
        assert confirm(live, flow, session.refresh_jwt.reveal())["outcome"] == "connected"
    at.run()  # the polling fragment sees the new connection and reruns the page
    assert not at.exception
    assert at.get("link_button") == []
    page = texts_of(at)
    assert "Connected to Acme acme-cal." in page
    card = at.get_by_key("apps__card__acme-cal")
    assert card is not None
    assert "Connected" in texts_of(card) and "Not connected" not in texts_of(card)
    assert "calendar.write" in page and "renewed automatically" in page  # it has a refresh token
    session = at.session_state["session"]
    assert session.refresh_jwt.reveal() not in page
    token = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": "acme-cal", "userId": session.user.user_id},
    ).json()["token"]
    assert token["scopes"] == ["profile", "calendar.write"]
    assert token["accessToken"] not in page

    at.button(key="apps__disconnect__acme-cal").click().run()
    at.button(key="apps__disconnect_confirm").click().run()
    assert not at.exception
    reported = (
        "Deleted; the service does not report whether the provider revoked the tokens."
        if is_strict(live)
        else "Deleted 1 token and revoked it at the provider."
    )
    assert [s.value for s in at.success] == [f"Disconnected from Acme acme\\-cal. {reported}"]
    assert "Not connected" in texts_of(at)
    assert acme.introspect(token["accessToken"])["active"] is False


def test_a_redirect_url_that_is_not_allowed_is_one_sentence(
    acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("redirect@example.com", roles=(DEVELOPER,)), "acme-cal")
    at = start(at, "acme-cal", redirect="https://elsewhere.example/landing")
    assert not at.exception
    assert [e.value for e in at.error] == [REDIRECT_NOT_ALLOWED]
    assert at.get("link_button") == []


def test_a_refused_connect_is_one_sentence(
    acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = open_connect(signed_in_app("refused@example.com", roles=(DEVELOPER,)), "acme-cal")
    at = start(at, "acme-cal", tenant="a-tenant-that-is-not-mine")
    assert not at.exception
    assert [e.value for e in at.error] == [CONNECT_REFUSED]


def test_an_app_deleted_meanwhile_is_one_sentence_and_leaves_the_list(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    create_demo_app(live, acme, "short-lived")
    at = open_connect(signed_in_app("gone@example.com"), "short-lived")
    httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/delete",
        headers=live.mgmt_headers(),
        json={"id": "short-lived"},
    ).raise_for_status()
    at.button(key="apps__start__short-lived").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [APP_GONE]
    assert not any("short\\-lived" in name for name in card_names(at))


def admin_app(signed_in_app: Callable[..., AppTest], login_id: str) -> AppTest:
    at = signed_in_app(login_id, roles=(ADMIN_ROLE,))
    # App management on a tab of its own, before the cards rather than below all of them.
    assert [t.label for t in at.tabs][:2] == ["Apps", "Manage apps"]
    return at


def fill(at: AppTest, **values: Any) -> None:
    for key, value in values.items():
        widget = at.get_by_key(f"apps__{key}")
        widget.set_value(value)  # type: ignore[union-attr]


def test_people_without_an_admin_role_cannot_manage_apps(
    acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = signed_in_app("not-admin@example.com")
    assert "Manage apps" not in [t.label for t in at.tabs]
    assert at.get("form") == []


@LOCAL_ONLY
def test_an_admin_creates_an_app_from_a_template_and_the_secret_is_never_shown(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = admin_app(signed_in_app, "admin-template@example.com")
    at.selectbox(key="apps__template_id").select("demo")
    fill(
        at,
        template_app_id="from-template",
        template_client_id="from-template",
        template_secret=CLIENT_SECRET,
        template_base_url=acme.url,
    )
    at.button(key="apps__template_create").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [
        "Created the app Acme Calendar \\(demo\\) (from\\-template)."
    ]
    assert any("from\\-template" in name for name in card_names(at))
    assert at.text_input(key="apps__template_secret").value == ""
    assert CLIENT_SECRET not in texts_of(at)
    app = httpx.get(
        f"{live.url}/v1/mgmt/outbound/app/from-template", headers=live.mgmt_headers()
    ).json()["app"]
    assert app["hasClientSecret"] is True and app["templateId"] == "demo"


def test_an_admin_creates_a_custom_app_and_edits_its_defaults(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = admin_app(signed_in_app, "admin-custom@example.com")
    custom = {
        "custom_name": "Custom CRM",
        "custom_id": "custom-crm",
        "custom_client_id": "crm-client",
        "custom_secret": CLIENT_SECRET,
        "custom_authorization": acme.url + "/oauth/authorize",
        "custom_token": acme.url + "/oauth/token",
        "custom_scopes": "profile email",
    }
    fill(at, **custom)
    at.button(key="apps__custom_create").click().run()
    assert not at.exception and not at.error
    assert any(name.startswith("**Custom CRM**") for name in card_names(at))
    assert CLIENT_SECRET not in texts_of(at)

    fill(at, **custom)
    at.button(key="apps__custom_create").click().run()
    assert [e.value for e in at.error] == [NAME_TAKEN]

    at.selectbox(key="apps__edit_app").select("custom-crm").run()
    fill(at, **{"edit_scopes__custom-crm": "profile calendar.read"})
    fill(at, **{"edit_redirect__custom-crm": "http://127.0.0.1:9/back"})
    at.button(key="apps__edit_save").click().run()
    assert [s.value for s in at.success] == ["Saved the defaults of Custom CRM."]
    app = httpx.get(
        f"{live.url}/v1/mgmt/outbound/app/custom-crm", headers=live.mgmt_headers()
    ).json()["app"]
    assert app["defaultScopes"] == ["profile", "calendar.read"]
    assert app["defaultRedirectUrl"] == "http://127.0.0.1:9/back"
    assert app["clientId"] == "crm-client"
    with live.broker.db.session() as stored:  # editing the defaults kept the secret
        row = stored.get(OutboundAppRow, "custom-crm")
        assert row is not None and row.client_secret_sealed is not None


def connect_someone(live: LiveBroker, provider: LiveProvider, app_id: str) -> None:
    """A new user connects ``app_id`` through the whole flow (consent approved)."""
    user = sign_in_new_user(live)
    started = start_connect(live, user, app_id, redirect_url="http://127.0.0.1:9/landing")
    started.raise_for_status()
    location = approve(provider.http, started.json()["url"], email=DEMO_USER)
    outcome = land(live, httpx.get(location).headers["location"], user)
    # Strict mode (the cloud) adds no outcome to the redirect; the caller counts the tokens.
    assert outcome.get("outbound", "connected") == "connected"


def test_an_admin_deletes_an_app_after_seeing_how_many_tokens_go_with_it(
    live: LiveBroker, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    create_demo_app(live, acme, "doomed")
    connect_someone(live, acme, "doomed")
    connect_someone(live, acme, "doomed")
    at = admin_app(signed_in_app, "admin-delete@example.com")
    at.selectbox(key="apps__delete_app").select("doomed").run()
    at.button(key="apps__delete_ask").click().run()
    assert any("**2 stored tokens** (2 users lose the connection)" in m.value for m in at.markdown)
    at.button(key="apps__delete_confirm").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Deleted the app Acme doomed and its tokens."]
    assert not any("doomed" in name for name in card_names(at))


def test_without_a_catalog_the_page_says_so_and_offers_the_custom_form(
    monkeypatch: pytest.MonkeyPatch, acme: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    # Descope cloud has no catalog extension: it answers 404, which load_catalog reads as None
    # (tests/conformance/test_outbound_client.py proves that part against a 404-answering server).
    monkeypatch.setattr("dashboard.ui.apps.load_catalog", lambda *a, **k: None)
    at = admin_app(signed_in_app, "admin-cloud@example.com")
    assert [i.value for i in at.info] == [NO_CATALOG]
    assert [t.label for t in at.tabs] == [
        "Apps",
        "Manage apps",
        "Create a custom OAuth app",
        "Edit defaults",
        "Delete",
    ]
    at = open_connect(at, "acme-cal")
    assert at.multiselect(key="apps__scopes__acme-cal").options == [
        "profile",
        "email",
        "calendar.read",
        "offline_access",
    ]
