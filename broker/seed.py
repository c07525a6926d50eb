"""Demo data, created through the broker's own management API (so it is wire-tested, not faked).

``seed_first_run`` runs at every ``outbound up``: it keeps the demo provider's client and the
"Acme Calendar" app registered and the demo accounts usable; on the first run it also creates
believable users, tenants, catalog apps and real connections made through the real OAuth flow,
with a few tokens in every status. ``seed_bulk`` makes many users and token records quickly
(batch upload) for demos at scale and benchmarks.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from broker.config import BrokerSettings
from broker.demo_provider.consent_form import approve
from broker.demo_provider.directory import USERS as PROVIDER_USERS
from broker.project.credentials import LOCAL_ENV_FILE, read_env_file, write_env_file

ADMIN_ROLE = "outbound-admin"
DEMO_APP_ID = "acme-calendar"
OUTAGE_APP_ID = "acme-calendar-eu"
DEMO_CLIENT_ID = "outbound-demo"
SEEDED_FLAG = "OUTBOUND_DEMO_SEEDED"
ADMIN_LOGIN = "admin@acme.test"
USER_LOGIN = "dana@acme.test"
PEOPLE = (
    (ADMIN_LOGIN, "Ada Admin", "acme", (ADMIN_ROLE,)),
    (USER_LOGIN, "Dana Developer", "acme", ()),
    ("priya.patel@acme.test", "Priya Patel", "acme", ()),
    ("marco.rossi@acme.test", "Marco Rossi", "acme", ()),
    ("lena.schmidt@globex.test", "Lena Schmidt", "globex", ()),
    ("kenji.tanaka@globex.test", "Kenji Tanaka", "globex", ()),
    ("sofia.garcia@globex.test", "Sofia García", "globex", ()),
    ("omar.haddad@initech.test", "Omar Haddad", "", ()),
)
TENANTS = {"acme": "Acme Corp", "globex": "Globex"}
# Catalog apps shown beside the demo; they need real client credentials to connect.
CATALOG_APPS = ("google-calendar", "github", "slack", "hubspot", "salesforce")


@dataclass(frozen=True)
class DemoAccounts:
    """Who can sign in to the dashboard after seeding."""

    admin_login: str
    user_login: str
    password: str

    def describe(self) -> list[str]:
        """Lines for the console."""
        return [
            "Demo sign-in (password for both):",
            f"  admin     {self.admin_login}",
            f"  user      {self.user_login}",
            f"  password  {self.password}",
        ]


class _Api:
    """Management calls to the broker with the local project's key."""

    def __init__(self, http: httpx.Client, project_id: str, key: str) -> None:
        self.http = http
        self.project_id = project_id
        self._mgmt = {"Authorization": f"Bearer {project_id}:{key}"}

    def post(self, path: str, body: dict[str, Any], *, ok: tuple[int, ...] = ()) -> Any:
        response = self.http.post(path, json=body, headers=self._mgmt)
        if response.status_code in ok:
            return {}
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(path, params=params, headers=self._mgmt)

    def user_post(self, path: str, refresh_jwt: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.project_id}:{refresh_jwt}"}
        response = self.http.post(path, json=body, headers=headers)
        response.raise_for_status()
        return response.json()


@contextmanager
def _api(settings: BrokerSettings) -> Iterator[tuple[_Api, dict[str, str]]]:
    env = read_env_file(settings.data_dir / LOCAL_ENV_FILE)
    with httpx.Client(base_url=settings.base_url, timeout=30.0) as http:
        yield _Api(http, env["OUTBOUND_PROJECT_ID"], env["OUTBOUND_MANAGEMENT_KEY"]), env


def _secret(env: dict[str, str], name: str, make: str) -> str:
    if not env.get(name):
        env[name] = make
    return env[name]


def _ensure_tenants(api: _Api) -> dict[str, str]:
    existing = {t["name"]: t["id"] for t in api.get("/v1/mgmt/tenant/all").json()["tenants"]}
    ids = {}
    for key, name in TENANTS.items():
        ids[key] = existing.get(name) or api.post("/v1/mgmt/tenant/create", {"name": name})["id"]
    return ids


def _ensure_people(api: _Api, password: str, tenants: dict[str, str]) -> dict[str, str]:
    """Create the demo people (idempotent) and set the two sign-in accounts' password."""
    user_ids = {}
    for login, name, tenant, roles in PEOPLE:
        found = api.get("/v1/mgmt/user", loginId=login)
        if found.status_code == 200:
            user_ids[login] = found.json()["user"]["userId"]
            continue
        body: dict[str, Any] = {
            "loginId": login,
            "email": login,
            "displayName": name,
            "verifiedEmail": True,
            "roleNames": list(roles),
        }
        if tenant:
            body["userTenants"] = [{"tenantId": tenants[tenant], "roleNames": []}]
        user_ids[login] = api.post("/v1/mgmt/user/create", body)["user"]["userId"]
    for login in (ADMIN_LOGIN, USER_LOGIN):
        api.post("/v1/mgmt/user/password/set/active", {"loginId": login, "password": password})
    return user_ids


def _ensure_demo_app(
    api: _Api,
    settings: BrokerSettings,
    provider_url: str,
    secret: str,
    *,
    app_id: str = DEMO_APP_ID,
    name: str = "Acme Calendar",
) -> None:
    """Register the broker as a client of the demo provider and keep a demo app pointing at it."""
    registered = api.http.post(
        f"{provider_url}/admin/clients",
        json={
            "client_id": DEMO_CLIENT_ID,
            "client_secret": secret,
            "redirect_uris": [settings.callback_url],
        },
    )
    registered.raise_for_status()
    body = {
        "templateId": "demo",
        "id": app_id,
        "clientId": DEMO_CLIENT_ID,
        "clientSecret": secret,
        "baseUrl": provider_url,
        "overrides": {"name": name},
    }
    found = api.get(f"/v1/mgmt/outbound/app/{app_id}")
    if found.status_code != 200:
        api.post("/v1/mgmt/outbound/app/create/bytemplate", body)
        return
    # Keep the app (deleting it would delete its tokens); follow the provider if it moved.
    app = found.json()["app"]
    old_origin = "/".join(str(app.get("authorizationUrl", "")).split("/")[:3])
    if old_origin and old_origin != provider_url:
        for field in ("authorizationUrl", "tokenUrl", "revocationUrl", "discoveryUrl"):
            if app.get(field):
                app[field] = str(app[field]).replace(old_origin, provider_url, 1)
        api.post("/v1/mgmt/outbound/app/update", {"app": {**app, "clientSecret": secret}})


def _ensure_catalog_apps(api: _Api) -> None:
    for template in CATALOG_APPS:
        if api.get(f"/v1/mgmt/outbound/app/{template}").status_code == 200:
            continue
        api.post(
            "/v1/mgmt/outbound/app/create/bytemplate",
            {
                "templateId": template,
                "id": template,
                "clientId": f"replace-with-your-{template}-client-id",
            },
        )


def _connect(
    api: _Api,
    login: str,
    provider_email: str,
    scopes: list[str] | None,
    app_id: str = DEMO_APP_ID,
) -> None:
    """A real connection: sign the user in, connect, approve at the provider, follow the callback."""
    jwt = api.post("/v1/mgmt/auth/signin", {"loginId": login})["refreshJwt"]
    # The broker's own origin: allowed whatever --allowed-redirect says (url_policy.py).
    options: dict[str, Any] = {"redirectUrl": str(api.http.base_url)}
    if scopes is not None:
        options["scopes"] = scopes
    url = api.user_post("/v1/outbound/oauth/connect", jwt, {"appId": app_id, "options": options})[
        "url"
    ]
    callback = approve(api.http, url, email=provider_email, scopes=scopes)
    landed = api.http.get(callback)
    query = dict(parse_qsl(urlsplit(landed.headers.get("location", "")).query))
    if query.get("outbound") == "confirm":  # the user verifier: the user's landing page confirms
        answer = api.user_post("/v1/x/outbound/oauth/confirm", jwt, {"flow": query["flow"]})
        query["outbound"] = str(answer.get("outcome"))
    if landed.status_code not in (302, 303) or query.get("outbound") != "connected":
        raise RuntimeError(f"demo connection for {login} did not complete")


def _faults(api: _Api, provider_url: str, faults: dict[str, Any] | None) -> None:
    if faults is None:
        api.http.delete(f"{provider_url}/admin/faults").raise_for_status()
    else:
        api.http.post(f"{provider_url}/admin/faults", json=faults).raise_for_status()


def _force_refresh(api: _Api, user_id: str, app_id: str = DEMO_APP_ID) -> None:
    body = {"appId": app_id, "userId": user_id, "options": {"forceRefresh": True}}
    api.http.post(
        "/v1/mgmt/outbound/app/user/token/latest", json=body, headers=api._mgmt
    )  # a failure here is the point: it leaves the token in a failing status


def _seed_connections(api: _Api, provider_url: str, users: dict[str, str]) -> None:
    """Real connections through the real flow, then a few pushed into each failing status."""
    emails = [u.email for u in PROVIDER_USERS]
    plan = [
        (ADMIN_LOGIN, None),
        ("priya.patel@acme.test", ["profile", "calendar.read", "offline_access"]),
        ("marco.rossi@acme.test", None),
        (
            "lena.schmidt@globex.test",
            ["profile", "email", "calendar.read", "calendar.write", "offline_access"],
        ),
        ("kenji.tanaka@globex.test", None),
        ("sofia.garcia@globex.test", None),
    ]
    for i, (login, scopes) in enumerate(plan):
        _connect(api, login, emails[i % len(emails)], scopes)
    # Expiring soon: a short-lived access token.
    _faults(api, provider_url, {"access_token_ttl_s": {"value": 240, "remaining": 1}})
    _force_refresh(api, users["marco.rossi@acme.test"])
    # Refresh failing (transient) for as long as the demo runs: a second demo app whose token
    # endpoint is moved, after the connect, to a port where nothing listens (a provider outage).
    _connect(api, "kenji.tanaka@globex.test", emails[1], None, app_id=OUTAGE_APP_ID)
    app = api.get(f"/v1/mgmt/outbound/app/{OUTAGE_APP_ID}").json()["app"]
    app["tokenUrl"] = "http://127.0.0.1:9/oauth/token"
    api.post("/v1/mgmt/outbound/app/update", {"app": app})
    _force_refresh(api, users["kenji.tanaka@globex.test"], app_id=OUTAGE_APP_ID)
    # Needs re-authorization (permanent): the provider says the grant is dead.
    _faults(api, provider_url, {"refresh_error": {"value": "invalid_grant", "remaining": 1}})
    _force_refresh(api, users["sofia.garcia@globex.test"])
    _faults(api, provider_url, None)
    # An uploaded, already expired token without a refresh token (a migration gone stale).
    api.post(
        "/v1/mgmt/outbound/app/user/oauthtoken/upload",
        {
            "appId": "hubspot",
            "userId": users["omar.haddad@initech.test"],
            "accessToken": "expired-demo-" + secrets.token_hex(8),
            "accessTokenExpiry": int(time.time()) - 3600,
            "scopes": ["crm.objects.contacts.read"],
        },
    )


def seed_first_run(settings: BrokerSettings, *, provider_url: str) -> DemoAccounts:
    """Keep the demo usable on every start; create the rich demo data on the first one."""
    with _api(settings) as (api, env):
        password = _secret(env, "OUTBOUND_DEMO_PASSWORD", "demo-" + secrets.token_hex(4))
        client_secret = _secret(env, "OUTBOUND_DEMO_CLIENT_SECRET", secrets.token_urlsafe(32))
        tenants = _ensure_tenants(api)
        users = _ensure_people(api, password, tenants)
        _ensure_demo_app(api, settings, provider_url, client_secret)
        if not env.get(SEEDED_FLAG):
            _ensure_demo_app(
                api,
                settings,
                provider_url,
                client_secret,
                app_id=OUTAGE_APP_ID,
                name="Acme Calendar EU (outage demo)",
            )
            _ensure_catalog_apps(api)
            _seed_connections(api, provider_url, users)
            env[SEEDED_FLAG] = "1"
        write_env_file(
            settings.data_dir / LOCAL_ENV_FILE,
            env,
            "Local project credentials, written by `outbound`. Keep private.",
        )
    return DemoAccounts(ADMIN_LOGIN, USER_LOGIN, password)


def seed_bulk(
    settings: BrokerSettings, *, users: int, tokens_per_user: int, prefix: str = ""
) -> str:
    """``users`` users each holding ``tokens_per_user`` tokens of catalog apps.

    The catalog apps are made through the management API of the running broker; the users and
    tokens are written in bulk through the same data folder's store (``bulk_store``), so
    100,000 tokens take seconds, not the half hour one request per user takes. Logins are
    ``<prefix>-<n>@example.test`` (``prefix`` defaults to ``bulk-<random>``).
    """
    from broker.bulk_store import store_bulk
    from broker.context import bootstrap

    apps = list(CATALOG_APPS)[: max(1, tokens_per_user)]
    with _api(settings) as (api, _):
        _ensure_catalog_apps(api)
    if users <= 0:
        return "catalog apps ready; no users asked for"
    broker = bootstrap(settings, write_local_env=False)
    try:
        stored = store_bulk(
            broker, prefix=prefix or f"bulk-{secrets.token_hex(3)}", users=users, app_ids=apps
        )
    finally:
        broker.db.dispose()
    return f"seeded {users} users with {stored // users} tokens each"
