"""The dashboard's outbound-apps client against a live broker and demo provider on loopback."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from dashboard.app_listing import load_listing, search_and_sort
from dashboard.descope import (
    APP_GONE,
    CONNECT_REFUSED,
    NAME_TAKEN,
    REDIRECT_NOT_ALLOWED,
    TOKEN_REFUSED,
    ConnectRequest,
    OutboundApp,
    Secret,
    connect,
    create_app,
    create_by_template,
    delete_app,
    list_apps,
    load_app,
    load_catalog,
    update_app,
    with_defaults,
)
from dashboard.descope.connect_flows import confirm_flow
from dashboard.descope.errors import BadRequest, NotAllowed, NotFound, Unauthorized
from dashboard.descope.transport import Transport
from tests.support.dashboard import client_of
from tests.support.identity import sign_in_new_user
from tests.support.outbound import CLIENT_SECRET, LANDING, consent, create_demo_app, outcome_of
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, ThreadedServer


def test_apps_are_listed_with_a_users_refresh_jwt_alone(
    live: LiveBroker, provider: LiveProvider, transport: Transport
) -> None:
    create_demo_app(live, provider, "listed", overrides={"defaultScopes": ["profile"]})
    user = sign_in_new_user(live)
    with Transport(live.url, live.project_id) as keyless:
        apps = list_apps(client_of(keyless, user.refresh_jwt), as_user=True)
        listing = load_listing(client_of(keyless, user.refresh_jwt))
    app = next(a for a in apps if a.id == "listed")
    assert app.default_scopes == ("profile",) and app.has_client_secret is True
    mine = next(item for item in listing if item.app.id == "listed")
    assert mine.connected is False and mine.latest is None
    assert [i.app.id for i in search_and_sort(listing, "LIST")] == ["listed"]


def test_a_connected_app_has_its_granted_scopes_with_a_management_key(
    live: LiveBroker, provider: LiveProvider, transport: Transport
) -> None:
    create_demo_app(live, provider, "granted")
    user = sign_in_new_user(live)
    url = connect(
        client_of(transport, user.refresh_jwt),
        ConnectRequest("granted", LANDING, scopes=("profile", "calendar.write")),
    )
    assert url.startswith(provider.url)
    landed = httpx.get(consent(url))
    flow = outcome_of(landed.headers["location"])["flow"]
    answer = confirm_flow(
        client_of(transport, user.refresh_jwt), flow, as_user=True
    )  # the landing page's question
    assert answer is not None and answer.outcome == "connected" and answer.app_id == "granted"
    assert answer.granted == ("profile", "calendar.write") and answer.has_refresh_token is True
    again = confirm_flow(client_of(transport, user.refresh_jwt), flow, as_user=True)
    assert again is not None and again.outcome == "used"
    [item] = [
        i for i in load_listing(client_of(transport, user.refresh_jwt)) if i.app.id == "granted"
    ]
    assert item.connected and item.granted_scopes == ("profile", "calendar.write")
    assert item.expires_at is not None


def test_connect_refusals_are_one_sentence_each(
    live: LiveBroker, provider: LiveProvider, transport: Transport
) -> None:
    create_demo_app(live, provider, "refusals")
    user = sign_in_new_user(live)
    with pytest.raises(BadRequest) as redirect:
        connect(
            client_of(transport, user.refresh_jwt),
            ConnectRequest("refusals", "https://evil.example/x"),
        )
    assert str(redirect.value) == REDIRECT_NOT_ALLOWED
    with pytest.raises(NotAllowed) as tenant:
        connect(
            client_of(transport, user.refresh_jwt),
            ConnectRequest("refusals", LANDING, tenant_id="nope"),
        )
    assert str(tenant.value) == CONNECT_REFUSED
    with pytest.raises(NotFound) as gone:
        connect(client_of(transport, user.refresh_jwt), ConnectRequest("no-such-app", LANDING))
    assert str(gone.value) == APP_GONE
    ended = sign_in_new_user(live)
    holder = client_of(transport, ended.refresh_jwt)
    holder.sign_out()  # a pasted refresh JWT that is well signed but logged out
    with pytest.raises(Unauthorized) as pasted:
        connect(holder, ConnectRequest("refusals", LANDING))
    assert str(pasted.value) == TOKEN_REFUSED


def test_apps_are_created_edited_and_deleted_and_the_secret_never_comes_back(
    live: LiveBroker, provider: LiveProvider, transport: Transport
) -> None:
    provider.register_client("crud", CLIENT_SECRET, [live.url + "/v1/outbound/oauth/callback"])
    custom = OutboundApp(
        id="crud",
        name="CRUD app",
        client_id="crud",
        authorization_url=provider.url + "/oauth/authorize",
        token_url=provider.url + "/oauth/token",
        default_scopes=("profile",),
    )
    created = create_app(client_of(transport), custom, Secret(CLIENT_SECRET))
    assert created.has_client_secret is True and CLIENT_SECRET not in repr(created)
    with pytest.raises(BadRequest) as taken:
        create_app(client_of(transport), custom)
    assert str(taken.value) == NAME_TAKEN
    edited = update_app(
        client_of(transport), with_defaults(created, ["email", " ", "email"], LANDING)
    )
    assert edited.default_scopes == ("email",) and edited.default_redirect_url == LANDING
    assert load_app(client_of(transport), "crud").has_client_secret is True  # kept when not resent
    templated = create_by_template(
        client_of(transport), "demo", app_id="crud-2", client_id="crud", base_url=provider.url
    )
    assert templated.template_id == "demo" and templated.token_url == provider.url + "/oauth/token"
    delete_app(client_of(transport), "crud")
    with pytest.raises(NotFound) as gone:
        load_app(client_of(transport), "crud")
    assert str(gone.value) == APP_GONE
    with pytest.raises(NotFound):
        delete_app(client_of(transport), "crud")


def test_the_catalog_lists_known_scopes_with_descriptions(transport: Transport) -> None:
    catalog = load_catalog(client_of(transport))
    assert catalog is not None
    demo = next(t for t in catalog if t.id == "demo")
    assert "calendar.write" in [s.name for s in demo.scopes]
    assert demo.describe("calendar.write") == "Create and change the user's calendar events."


def test_a_target_without_the_catalog_extension_reads_as_no_catalog() -> None:
    # Descope cloud cannot run here: this stand-in answers its 404 for the unknown endpoint.
    cloud = FastAPI()

    @cloud.get("/v1/x/outbound/catalog")
    def missing() -> JSONResponse:
        body = {"errorCode": "E011006", "errorDescription": "endpoint not found"}
        return JSONResponse(body, status_code=404)

    server = ThreadedServer(cloud).start()
    try:
        with Transport(server.url, "P2cloud", Secret("K2cloud")) as t:
            assert load_catalog(client_of(t)) is None
    finally:
        server.stop()
