"""Outbound apps and the connect flow for tests, driven over real HTTP (broker ↔ demo provider)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import select

from broker.store.outbound import ManagedTokenRow
from tests.support.identity import SignedInUser
from tests.support.provider import LiveProvider, running_provider
from tests.support.servers import LiveBroker

CALLBACK_PATH = "/v1/outbound/oauth/callback"
LANDING = "http://127.0.0.1:9/landing"
CLIENT_SECRET = "demo-client-secret-for-tests-0123456789"


def create_demo_app(
    live: LiveBroker,
    provider: LiveProvider,
    app_id: str,
    *,
    template_id: str = "demo",
    auth_method: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Register a client at the provider and create the broker app for it (by template)."""
    provider.register_client(app_id, CLIENT_SECRET, [live.url + CALLBACK_PATH], auth_method)
    body: dict[str, Any] = {
        "templateId": template_id,
        "id": app_id,
        "clientId": app_id,
        "clientSecret": CLIENT_SECRET,
        "baseUrl": provider.url,
    }
    body["overrides"] = {"name": f"Acme {app_id}", **(overrides or {})}
    response = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create/bytemplate", headers=live.mgmt_headers(), json=body
    )
    response.raise_for_status()
    app: dict[str, Any] = response.json()["app"]
    return app


@contextmanager
def provider_with_consent_page(live: LiveBroker, *app_ids: str) -> Iterator[LiveProvider]:
    """For a module fixture: the demo provider with its consent page (not auto-approving) and
    its apps ``app_ids`` in the broker, stopped afterwards."""
    with running_provider(auto_approve=False) as provider:
        for app_id in app_ids:
            create_demo_app(live, provider, app_id)
        yield provider


def consent_app_fixture(app_id: str, name: str = "acme") -> Any:
    """A module fixture ``name`` (``acme = consent_app_fixture(APP_ID)``): the demo provider with
    its consent page and its app ``app_id`` in the module's ``live`` broker."""

    @pytest.fixture(scope="module", name=name)
    def consent_app(live: LiveBroker) -> Iterator[LiveProvider]:
        """The demo provider with its consent page and the module's app in ``live``."""
        with provider_with_consent_page(live, app_id) as provider:
            yield provider

    return consent_app


def start_connect(
    live: LiveBroker,
    user: SignedInUser,
    app_id: str,
    scopes: list[str] | None = None,
    redirect_url: str = LANDING,
    **extra: Any,
) -> httpx.Response:
    """POST the connect endpoint as the signed-in user."""
    options: dict[str, Any] = {"redirectUrl": redirect_url}
    if scopes is not None:
        options["scopes"] = scopes
    return httpx.post(
        f"{live.url}/v1/outbound/oauth/connect",
        headers=live.user_headers(user.refresh_jwt),
        json={"appId": app_id, "options": options, **extra},
    )


def consent(authorization_url: str) -> str:
    """Visit the (auto-approving) provider; answers the callback URL it redirects to."""
    response = httpx.get(authorization_url)
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


def outcome_of(location: str) -> dict[str, str]:
    """The query parameters of the callback's final redirect."""
    return dict(parse_qsl(urlsplit(location).query))


def confirm(live: LiveBroker, flow: str, user: SignedInUser | str | None) -> dict[str, Any]:
    """The landing page's question: the flow's outcome, as ``user`` (a signed-in user or their
    refresh JWT; None: nobody signed in)."""
    jwt = user.refresh_jwt if isinstance(user, SignedInUser) else user
    headers = live.user_headers(jwt) if jwt else live.project_headers()
    response = httpx.post(
        f"{live.url}/v1/x/outbound/oauth/confirm", headers=headers, json={"flow": flow}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _held(live: LiveBroker, app_id: str, user: SignedInUser | str | None) -> dict[str, str]:
    """Strict mode (the cloud) adds nothing to the redirect: connected is whether the user now
    holds a token for the app the dashboard's own ``app`` parameter names."""
    jwt = user.refresh_jwt if isinstance(user, SignedInUser) else user
    if not jwt or not app_id:
        return {}
    me = httpx.get(f"{live.url}/v1/auth/me", headers=live.user_headers(jwt)).json()
    held = httpx.get(
        f"{live.url}/v1/mgmt/outbound/apps-with-user-token",
        params={"userId": me["userId"]},
        headers=live.mgmt_headers(),
    ).json()["appIds"]
    return {"outbound": "connected", "appId": app_id} if app_id in held else {}


def land(live: LiveBroker, location: str, user: SignedInUser | str | None) -> dict[str, str]:
    """What the landing page learns for the callback's final redirect, in the query's shape."""
    query = outcome_of(location)
    if "outbound" not in query and "flow" not in query:
        return _held(live, query.get("app", ""), user)
    if query.get("outbound") != "confirm":  # stored (verifier off) or failed: the query says
        return {k: v for k, v in query.items() if k != "flow"}
    answer = confirm(live, query["flow"], user)
    if answer["outcome"] != "connected":
        return {
            "outbound": answer["outcome"],
            "appId": answer.get("appId", ""),
            **{k: str(answer[k]) for k in ("error", "errorDescription") if k in answer},
        }
    return {
        "outbound": "connected",
        "appId": answer["appId"],
        "tokenId": answer["tokenId"],
        "scopes": " ".join(answer["scopes"]),
        "requestedScopes": " ".join(answer["requestedScopes"]),
        "hasRefreshToken": "true" if answer["hasRefreshToken"] else "false",
        **{k: answer[k] for k in ("tenantId", "externalIdentifier") if answer.get(k)},
    }


def connect(
    live: LiveBroker, user: SignedInUser, app_id: str, scopes: list[str] | None = None
) -> dict[str, str]:
    """The whole flow: connect → provider consent → broker callback → the user's confirmation
    (the landing page's question); answers the outcome in the redirect query's shape."""
    started = start_connect(live, user, app_id, scopes)
    assert started.status_code == 200, started.text
    landed = httpx.get(consent(started.json()["url"]))
    assert landed.status_code == 302, landed.text
    assert landed.headers["location"].startswith(LANDING)
    outcome = land(live, landed.headers["location"], user)
    if "outbound" not in outcome:  # strict mode adds no outcome: the token must be there
        held = httpx.get(
            f"{live.url}/v1/mgmt/outbound/apps-with-user-token",
            params={"userId": user.user_id},
            headers=live.mgmt_headers(),
        )
        assert app_id in held.json()["appIds"], f"connect to {app_id} stored no token"
    return outcome


def fetch_latest(live: LiveBroker, app_id: str, user_id: str, **options: Any) -> httpx.Response:
    """POST user/token/latest with a management key."""
    return httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": app_id, "userId": user_id, "options": options or None},
    )


def stored_tokens(live: LiveBroker, app_id: str, *columns: str) -> list[tuple[str, ...]]:
    """The given columns of each token stored for the app, read from the database."""
    with live.broker.db.session() as s:
        rows = s.execute(
            select(*(getattr(ManagedTokenRow, c) for c in columns)).where(
                ManagedTokenRow.app_id == app_id
            )
        )
        return [tuple(row) for row in rows]
