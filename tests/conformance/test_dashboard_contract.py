"""Every dashboard call sends what Descope's official Python SDK sends for the same operation.

Both clients are pointed at a recording gateway on loopback in front of the broker in strict
mode (the cloud's stand-in). Each test makes one operation through the dashboard's client and
through the SDK, then compares the two requests: method, path, query, JSON body and the form of
the ``Authorization`` header (which parts: project id, user JWT, management key).

Body comparison follows Descope's gateway, which reads JSON into protobuf messages (proto3):
a field sent as ``null`` or as its empty default (``""``, ``[]``, ``{}``, ``false``) is the same
as a field left out. The Python SDK sends ``"tenantId": null`` where Go omits it (reference
§3.3); those are one request. Calls the Python SDK does not make (connect, create by template,
the widget's user-token calls) are compared with the shape of the SDK that makes them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from descope import AuthException, DeliveryMethod, DescopeClient
from descope.management.common import AccessType, PromptType, URLParam

from dashboard.descope import DescopeClient as DashboardClient
from dashboard.descope import Secret, auth, management, outbound, tokens
from dashboard.descope.errors import DashboardError
from dashboard.descope.transport import Transport
from tests.support.dashboard import PASSWORD, create_user
from tests.support.gateway import Gateway, Recorded, start_gateway
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker

APP = "contract-cal"


@dataclass
class Both:
    """The two clients behind one recording gateway, and the people and apps they use."""

    live: LiveBroker
    gateway: Gateway
    dashboard: DashboardClient
    sdk: DescopeClient
    user: SignedInUser
    tenant_id: str

    def request_of(self, call: Callable[[], object], path_prefix: str = "/v") -> Recorded:
        """Make ``call`` and answer the one request it sent under ``path_prefix`` (errors the
        service answers are fine: the request is what is compared)."""
        start = len(self.gateway.recorded)
        with contextlib.suppress(AuthException, DashboardError):
            call()
        sent = [
            r
            for r in self.gateway.recorded[start:]
            if r.path.startswith(path_prefix) and not r.path.startswith(IGNORED)
        ]
        assert len(sent) == 1, [r.path for r in sent]
        return sent[0]


# The SDK's own housekeeping: the license handshake and the JWKS it verifies JWTs with.
IGNORED = ("/v1/mgmt/license", "/v2/keys/")


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {}, False)


def _proto3(value: Any) -> Any:
    """A JSON value as Descope's gateway reads it: empty defaults dropped, recursively."""
    if isinstance(value, dict):
        kept = {k: _proto3(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not _empty(v)}
    if isinstance(value, list):
        return [_proto3(v) for v in value]
    return value


def _auth_form(request: Recorded, both: Both) -> str:
    """The Authorization header with its parts named: ``Bearer pid:jwt``, ``Bearer pid:key``…"""
    value = request.headers.get("authorization", "")
    names = {
        both.live.project_id: "pid",
        both.live.management_key: "key",
        both.user.refresh_jwt: "jwt",
    }
    scheme, _, rest = value.partition(" ")
    return f"{scheme} " + ":".join(names.get(p, "other") for p in rest.split(":"))


def shape(request: Recorded, both: Both) -> dict[str, Any]:
    """What is compared of one request."""
    body = json.loads(request.body) if request.body else None
    return {
        "method": request.method,
        "path": request.path,
        "query": sorted(request.query),
        "body": _proto3(body) if body is not None else None,
        "auth": _auth_form(request, both),
    }


def assert_same(both: Both, dashboard: Callable[[], object], sdk: Callable[[], object]) -> None:
    """The dashboard's request for an operation equals the SDK's."""
    ours = shape(both.request_of(dashboard), both)
    theirs = shape(both.request_of(sdk), both)
    assert ours == theirs


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider) -> Iterator[Both]:
    """A strict broker with an app, a connected user and a tenant token, behind the gateway."""
    live = start_broker(tmp_path_factory.mktemp("contract"), strict_descope=True)
    gateway = start_gateway(live)
    transport = Transport(gateway.url, live.project_id, Secret(live.management_key))
    dashboard = DashboardClient(transport)
    sdk = DescopeClient(
        project_id=live.project_id, management_key=live.management_key, base_url=gateway.url
    )
    try:
        create_demo_app(live, shared_provider, APP)
        user = sign_in_new_user(live)
        connect(live, user, APP)
        tenant = sdk.mgmt.tenant.create("Contract tenant")["id"]
        yield Both(live, gateway, dashboard, sdk, user, tenant)
    finally:
        transport.close()
        gateway.stop()
        live.stop()


# --- identity -------------------------------------------------------------------------------


def test_password_sign_in(both: Both) -> None:
    create_user(both.live, "contract-signin@example.test")
    assert_same(
        both,
        lambda: auth.password_sign_in(both.dashboard, "contract-signin@example.test", PASSWORD),
        lambda: both.sdk.password.sign_in("contract-signin@example.test", PASSWORD),
    )


def test_password_sign_up(both: Both) -> None:
    user = {"name": "Ann", "email": "ann@example.test"}
    assert_same(
        both,
        lambda: auth.password_sign_up(
            both.dashboard, "ann@example.test", PASSWORD, name="Ann", email="ann@example.test"
        ),
        lambda: both.sdk.password.sign_up("ann@example.test", PASSWORD, user),
    )


def test_otp_start_and_verify(both: Both) -> None:
    login = "contract-otp@example.test"
    create_user(both.live, login)
    assert_same(
        both,
        lambda: auth.otp_start(both.dashboard, login),
        lambda: both.sdk.otp.sign_in(DeliveryMethod.EMAIL, login),
    )
    assert_same(
        both,
        lambda: auth.otp_verify(both.dashboard, login, "000000"),
        lambda: both.sdk.otp.verify_code(DeliveryMethod.EMAIL, login, "000000"),
    )


def test_me_and_refresh(both: Both) -> None:
    jwt = both.user.refresh_jwt
    assert_same(both, lambda: both.dashboard.holding(Secret(jwt)).me(), lambda: both.sdk.me(jwt))
    ours = shape(both.request_of(lambda: both.dashboard.restore(Secret(jwt))), both)
    theirs = shape(both.request_of(lambda: both.sdk.refresh_session(jwt), "/v1/auth/refresh"), both)
    assert ours == theirs


def test_logout(both: Both) -> None:
    first, second = sign_in_new_user(both.live), sign_in_new_user(both.live)
    ours = shape(
        both.request_of(lambda: both.dashboard.holding(Secret(first.refresh_jwt)).sign_out()), both
    )
    theirs = shape(both.request_of(lambda: both.sdk.logout(second.refresh_jwt)), both)
    # Each signs out its own session: the header carries a JWT in both.
    assert ours["auth"] == theirs["auth"] == "Bearer pid:other"
    assert {**ours, "auth": ""} == {**theirs, "auth": ""}


# --- management: users and tenants ----------------------------------------------------------


def test_search_users(both: Both) -> None:
    ids = [both.user.user_id]
    assert_same(
        both,
        lambda: management.search_users(
            both.dashboard, page=1, limit=50, text_filter="ann", user_ids=ids
        ),
        lambda: both.sdk.mgmt.user.search_all(limit=50, page=1, text="ann", user_ids=ids),
    )


def test_list_tenants(both: Both) -> None:
    assert_same(
        both,
        lambda: management.list_tenants(both.dashboard),
        lambda: both.sdk.mgmt.tenant.load_all(),
    )


# --- management: outbound apps --------------------------------------------------------------


def test_list_and_load_apps(both: Both) -> None:
    apps = both.sdk.mgmt.outbound_application
    assert_same(
        both, lambda: outbound.list_apps(both.dashboard), lambda: apps.load_all_applications()
    )
    assert_same(
        both,
        lambda: outbound.load_app(both.dashboard, APP),
        lambda: apps.load_application(APP),
    )


FULL_APP = outbound.OutboundApp(
    id="contract-full",
    name="Contract full",
    description="every field set",
    logo="https://logo.example.test/x.png",
    client_id="cid",
    discovery_url="https://auth.example.test/.well-known/openid-configuration",
    authorization_url="https://auth.example.test/authorize",
    authorization_url_params=(("audience", "api"),),
    token_url="https://auth.example.test/token",
    token_url_params=(("resource", "r"),),
    revocation_url="https://auth.example.test/revoke",
    default_scopes=("read", "write"),
    default_redirect_url="https://app.example.test/landing",
    callback_domain="cb.example.test",
    pkce=True,
    access_type="offline",
    prompt=("consent",),
)


def _sdk_fields(app: outbound.OutboundApp) -> dict[str, Any]:
    """The same app as the SDK's keyword arguments."""
    return {
        "name": app.name,
        "description": app.description,
        "logo": app.logo,
        "client_id": app.client_id,
        "discovery_url": app.discovery_url,
        "authorization_url": app.authorization_url,
        "authorization_url_params": [URLParam(k, v) for k, v in app.authorization_url_params],
        "token_url": app.token_url,
        "token_url_params": [URLParam(k, v) for k, v in app.token_url_params],
        "revocation_url": app.revocation_url,
        "default_scopes": list(app.default_scopes),
        "default_redirect_url": app.default_redirect_url,
        "callback_domain": app.callback_domain,
        "pkce": app.pkce,
        "access_type": AccessType(app.access_type),
        "prompt": [PromptType(p) for p in app.prompt],
    }


def _app_shape(request: Recorded, both: Both) -> dict[str, Any]:
    """A create/update request with the python SDK's URL-param spelling (``name``) read as
    ``key``, the spelling of go, node and the docs (reference §3.1, §10.3), and ``appType`` (a
    docs field the python SDK cannot send) set aside."""
    found = shape(request, both)
    app = found["body"].get("app", found["body"])
    app.pop("appType", None)
    for field in ("authorizationUrlParams", "tokenUrlParams"):
        app[field] = [
            {"key": p.get("key", p.get("name")), "value": p["value"]} for p in app.get(field, [])
        ]
    return found


def test_create_update_and_delete_an_app(both: Both) -> None:
    apps = both.sdk.mgmt.outbound_application
    secret = "contract-client-secret"
    ours = _app_shape(
        both.request_of(lambda: outbound.create_app(both.dashboard, FULL_APP, Secret(secret))),
        both,
    )
    theirs = _app_shape(
        both.request_of(
            lambda: apps.create_application(
                id=FULL_APP.id, client_secret=secret, **_sdk_fields(FULL_APP)
            )
        ),
        both,
    )
    assert ours["path"] == "/v1/mgmt/outbound/app/create" and ours["body"]["clientSecret"] == secret
    assert ours == theirs

    # Update sends the whole app (empty fields override, §3.2) and no secret unless one is given.
    edited = outbound.with_defaults(FULL_APP, ["read"], "https://app.example.test/other")
    ours = _app_shape(both.request_of(lambda: outbound.update_app(both.dashboard, edited)), both)
    theirs = _app_shape(
        both.request_of(lambda: apps.update_application(FULL_APP.id, **_sdk_fields(edited))), both
    )
    assert "clientSecret" not in ours["body"]["app"]
    assert ours["body"]["app"]["tokenUrl"] == FULL_APP.token_url
    assert ours == theirs
    ours = _app_shape(
        both.request_of(lambda: outbound.update_app(both.dashboard, edited, Secret("new-secret"))),
        both,
    )
    theirs = _app_shape(
        both.request_of(
            lambda: apps.update_application(
                FULL_APP.id, client_secret="new-secret", **_sdk_fields(edited)
            )
        ),
        both,
    )
    assert ours == theirs

    assert_same(
        both,
        lambda: outbound.delete_app(both.dashboard, FULL_APP.id),
        lambda: apps.delete_application(FULL_APP.id),
    )


# --- management: tokens ---------------------------------------------------------------------


def test_token_fetches(both: Both) -> None:
    apps = both.sdk.mgmt.outbound_application
    uid, tid = both.user.user_id, both.tenant_id
    assert_same(
        both,
        lambda: tokens.latest_user_token(both.dashboard, APP, uid),
        lambda: apps.fetch_token(APP, uid),
    )
    assert_same(
        both,
        lambda: tokens.latest_user_token(
            both.dashboard, APP, uid, tenant_id=tid, force_refresh=True, with_refresh_token=True
        ),
        lambda: apps.fetch_token(APP, uid, tid, {"forceRefresh": True, "withRefreshToken": True}),
    )
    assert_same(
        both,
        lambda: tokens.user_token_by_scopes(both.dashboard, APP, uid, ["profile"]),
        lambda: apps.fetch_token_by_scopes(APP, uid, ["profile"]),
    )
    assert_same(
        both,
        lambda: tokens.latest_tenant_token(both.dashboard, APP, tid),
        lambda: apps.fetch_tenant_token(APP, tid),
    )
    assert_same(
        both,
        lambda: tokens.tenant_token_by_scopes(both.dashboard, APP, tid, ["profile"]),
        lambda: apps.fetch_tenant_token_by_scopes(APP, tid, ["profile"]),
    )


def test_apps_with_user_token_and_deletes(both: Both) -> None:
    apps = both.sdk.mgmt.outbound_application
    uid = both.user.user_id
    assert_same(
        both,
        lambda: tokens.apps_with_user_token(both.dashboard, uid),
        lambda: apps.list_apps_with_user_token(uid),
    )
    assert_same(
        both,
        lambda: tokens.apps_with_user_token(both.dashboard, uid, tenant_id=both.tenant_id),
        lambda: apps.list_apps_with_user_token(uid, both.tenant_id),
    )
    assert_same(
        both,
        lambda: tokens.delete_token(both.dashboard, "no-such-token"),
        lambda: apps.delete_token("no-such-token"),
    )
    nobody = "U-nobody"
    assert_same(
        both,
        lambda: tokens.delete_user_tokens(both.dashboard, app_id=APP, user_id=nobody),
        lambda: apps.delete_user_tokens(APP, nobody),
    )


# --- calls the Python SDK does not make: compared with the SDK that makes them --------------


def test_the_widgets_calls_with_a_user_session(both: Both) -> None:
    """outbound-applications-widget: ``GET apps`` and ``GET apps-with-user-token?userId=<me>``
    with the user's refresh JWT (reference §8, js widget createOutboundAppsSdk.ts)."""
    jwt, uid = both.user.refresh_jwt, both.user.user_id
    listed = shape(
        both.request_of(
            lambda: outbound.list_apps(both.dashboard.holding(Secret(jwt)), as_user=True)
        ),
        both,
    )
    mine = shape(
        both.request_of(
            lambda: tokens.apps_with_user_token(
                both.dashboard.holding(Secret(jwt)), uid, as_user=True
            )
        ),
        both,
    )
    assert listed == {
        "method": "GET",
        "path": "/v1/mgmt/outbound/apps",
        "query": [],
        "body": None,
        "auth": "Bearer pid:jwt",
    }
    assert mine == {
        "method": "GET",
        "path": "/v1/mgmt/outbound/apps-with-user-token",
        "query": [("userId", uid)],
        "body": None,
        "auth": "Bearer pid:jwt",
    }


def test_connect_as_core_js_sends_it(both: Both) -> None:
    """core-js ``outbound.connect``: tenantId at the top level, options inside (reference §2.2)."""
    jwt = both.user.refresh_jwt
    request = outbound.ConnectRequest(
        APP, "https://app.example.test/landing", ("profile",), both.tenant_id
    )
    sent = shape(
        both.request_of(lambda: outbound.connect(both.dashboard.holding(Secret(jwt)), request)),
        both,
    )
    assert sent == {
        "method": "POST",
        "path": "/v1/outbound/oauth/connect",
        "query": [],
        "body": {
            "appId": APP,
            "tenantId": both.tenant_id,
            "options": {"redirectUrl": "https://app.example.test/landing", "scopes": ["profile"]},
        },
        "auth": "Bearer pid:jwt",
    }


def test_create_by_template_as_the_node_sdk_sends_it(both: Both) -> None:
    """node ``createApplicationByTemplate`` (reference §3.2): templateId, id, clientId,
    clientSecret at the top level, the rest under ``overrides``."""
    sent = shape(
        both.request_of(
            lambda: outbound.create_by_template(
                both.dashboard,
                "demo",
                app_id="by-template",
                client_id="cid",
                client_secret=Secret("s3cret"),
                overrides={"name": "By template", "defaultScopes": ["profile"]},
            )
        ),
        both,
    )
    assert sent == {
        "method": "POST",
        "path": "/v1/mgmt/outbound/app/create/bytemplate",
        "query": [],
        "body": {
            "templateId": "demo",
            "id": "by-template",
            "clientId": "cid",
            "clientSecret": "s3cret",
            "overrides": {"name": "By template", "defaultScopes": ["profile"]},
        },
        "auth": "Bearer pid:key",
    }


def test_connect_falls_back_to_the_management_connect_where_the_sdk_path_is_unknown(
    both: Both,
) -> None:
    """The API docs' ``POST /v1/mgmt/outbound/app/connect`` (reference §2.1), same JWT and body."""
    jwt = both.user.refresh_jwt
    request = outbound.ConnectRequest(APP, "http://127.0.0.1:9/landing")
    both.gateway.hidden.add(outbound.CONNECT_PATH)
    try:
        url = outbound.connect(both.dashboard.holding(Secret(jwt)), request)
        sent = both.gateway.recorded[-1]
    finally:
        both.gateway.hidden.clear()
    assert url.startswith("http")
    assert shape(sent, both) == {
        "method": "POST",
        "path": "/v1/mgmt/outbound/app/connect",
        "query": [],
        "body": {"appId": APP, "options": {"redirectUrl": "http://127.0.0.1:9/landing"}},
        "auth": "Bearer pid:jwt",
    }
