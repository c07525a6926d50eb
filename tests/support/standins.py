"""Provider stand-ins on loopback: one small server answering exactly as each provider documents.

Each route keeps the real provider's path and answer shape, so a catalog entry's quirks are
exercised as they would be against the provider (the tests override only the host):

* Salesforce (help.salesforce.com, OAuth web server flow; RFC 7662 introspection): the token
  answer has ``instance_url``, ``id`` and ``issued_at`` and no ``expires_in``; the session
  timeout is only known by introspection; an expired session answers 401 ``INVALID_SESSION_ID``.
* Slack (api.slack.com oauth-v2, token rotation, auth.revoke): a user-scope install puts the
  token under ``authed_user``; every error is HTTP 200 with ``{"ok": false, "error": …}``.
* Notion (developers.notion.com authorization, revoke-token): HTTP Basic client authentication,
  JSON bodies, ``Notion-Version`` required on revoke.
* QuickBooks (developer.intuit.com OAuth 2.0): ``realmId`` on the callback query; JSON revoke.

Switches (attributes): ``slack_refresh_error``, ``slack_revoke_error``, ``salesforce_session_s``
(what introspection reports; 0: it answers inactive), ``salesforce_expired`` (userinfo answers 401).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import jwt
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from tests.support.servers import LiveBroker, ThreadedServer

CLIENT_ID = "standin-client"
CLIENT_SECRET = "standin-secret-0123456789abcdef"
REALM_ID = "9341453474484455"
SALESFORCE_INSTANCE = "https://acme.my.salesforce.com"
SALESFORCE_IDENTITY = "https://login.salesforce.com/id/00D5g000004ABCD/0055g00000XYZ12"
SLACK_TEAM = {"id": "T9TK3CUKW", "name": "Acme Softball Team"}
SLACK_USER_ID = "U0G9QF9C6"
MICROSOFT_OID = "00000000-0000-0000-66f3-3332eca7ea81"
NOTION_WORKSPACE = "f3b9b0e6-6c4d-4c2b-9f1e-0a1b2c3d4e5f"
# The provider paths each entry uses: authorize, token, revocation (the stand-in serves them).
PATHS = {
    "salesforce": ("/services/oauth2/authorize", "/services/oauth2/token", "/services/oauth2/revoke"),
    "slack-user": ("/oauth/v2/authorize", "/api/oauth.v2.access", "/api/auth.revoke"),
    "notion": ("/v1/oauth/authorize", "/v1/oauth/token", "/v1/oauth/revoke"),
    "quickbooks": ("/connect/oauth2", "/oauth2/v1/tokens/bearer", "/v2/oauth2/tokens/revoke"),
}  # fmt: skip


@dataclass
class Call:
    """One request the stand-in received."""

    path: str
    headers: dict[str, str]
    body: str

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StandIns:
    """The stand-in server's state: issued tokens, switches and every call received."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    live_access: set[str] = field(default_factory=set)
    slack_refresh_error: str = ""
    slack_revoke_error: str = ""
    salesforce_session_s: int = 900
    salesforce_expired: bool = False
    salesforce_instance_url: str = SALESFORCE_INSTANCE

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def issue(self, prefix: str) -> str:
        token = f"{prefix}{secrets.token_hex(12)}"
        self.live_access.add(token)
        return token


def _basic_ok(request: Request) -> bool:
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {expected}"


def _post_ok(form: dict[str, str]) -> bool:
    return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET


def _authorize(request: Request, **extra: str) -> Response:
    """Auto-consent: straight back to the redirect URI with a code (and provider extras)."""
    q = request.query_params
    params = {"code": secrets.token_urlsafe(16), "state": q.get("state", ""), **extra}
    return RedirectResponse(f"{q.get('redirect_uri')}?{urlencode(params)}", status_code=302)


def create_app(state: StandIns) -> FastAPI:
    """The stand-in routes, recording every call into ``state``."""
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Response:
        body = (await request.body()).decode()
        state.calls.append(Call(request.url.path, dict(request.headers), body))
        response: Response = await call_next(request)
        return response

    async def form_of(request: Request) -> dict[str, str]:
        return dict(parse_qsl((await request.body()).decode()))

    # --- Salesforce -------------------------------------------------------------------------
    @app.get("/services/oauth2/authorize")
    def sf_authorize(request: Request) -> Response:
        return _authorize(request)

    @app.post("/services/oauth2/token")
    async def sf_token(request: Request) -> Response:
        form = await form_of(request)
        if not _post_ok(form):
            return JSONResponse({"error": "invalid_client_id"}, status_code=400)
        answer = {
            "access_token": state.issue("00D5g000004ABCD!"),
            "signature": secrets.token_urlsafe(16),
            "scope": "api refresh_token",
            "instance_url": state.salesforce_instance_url,
            "id": SALESFORCE_IDENTITY,
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        if form.get("grant_type") == "authorization_code":
            answer["refresh_token"] = "5Aep861" + secrets.token_hex(12)
        return JSONResponse(answer)

    @app.post("/services/oauth2/introspect")
    async def sf_introspect(request: Request) -> Response:
        form = await form_of(request)
        if not _post_ok(form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("token") not in state.live_access or state.salesforce_session_s <= 0:
            return JSONResponse({"active": False})
        now = int(time.time())
        return JSONResponse(
            {
                "active": True,
                "client_id": CLIENT_ID,
                "token_type": "access_token",
                "iat": now,
                "nbf": now,
                "exp": now + state.salesforce_session_s,
            }
        )

    @app.get("/services/oauth2/userinfo")
    def sf_userinfo(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if state.salesforce_expired or token not in state.live_access:
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            return JSONResponse(body, status_code=401)
        return JSONResponse({"sub": SALESFORCE_IDENTITY, "organization_id": "00D5g000004ABCD"})

    @app.get("/services/data/v61.0/query")
    def sf_query(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in state.live_access:
            body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            return JSONResponse(body, status_code=401)
        names = ["Edge Communications", "Burlington Textiles Corp of America"]
        records = [{"attributes": {"type": "Account"}, "Name": n} for n in names]
        return JSONResponse({"totalSize": len(records), "done": True, "records": records})

    # --- Slack ------------------------------------------------------------------------------
    @app.get("/oauth/v2/authorize")
    def slack_authorize(request: Request) -> Response:
        return _authorize(request)

    @app.post("/api/oauth.v2.access")
    async def slack_access(request: Request) -> Response:
        form = await form_of(request)
        if not _post_ok(form):
            return JSONResponse({"ok": False, "error": "invalid_client_id"})
        if form.get("grant_type") == "refresh_token":
            if state.slack_refresh_error:
                return JSONResponse({"ok": False, "error": state.slack_refresh_error})
            return JSONResponse(
                {
                    "ok": True,
                    "access_token": state.issue("xoxe.xoxp-1-"),
                    "token_type": "user",
                    "refresh_token": "xoxe-1-" + secrets.token_hex(12),
                    "expires_in": 43200,
                    "team": SLACK_TEAM,
                }
            )
        user = {
            "id": SLACK_USER_ID,
            "scope": "users:read,channels:read",
            "access_token": state.issue("xoxe.xoxp-1-"),
            "token_type": "user",
            "refresh_token": "xoxe-1-" + secrets.token_hex(12),
            "expires_in": 43200,
        }
        return JSONResponse(
            {
                "ok": True,
                "app_id": "A0KRD7HC3",
                "authed_user": user,
                "team": SLACK_TEAM,
                "enterprise": None,
                "is_enterprise_install": False,
            }
        )

    @app.post("/api/auth.revoke")
    async def slack_revoke(request: Request) -> Response:
        form = await form_of(request)
        if state.slack_revoke_error or form.get("token") not in state.live_access:
            return JSONResponse({"ok": False, "error": state.slack_revoke_error or "invalid_auth"})
        state.live_access.discard(form["token"])
        return JSONResponse({"ok": True, "revoked": True})

    # --- Notion -----------------------------------------------------------------------------
    @app.get("/v1/oauth/authorize")
    def notion_authorize(request: Request) -> Response:
        return _authorize(request)

    @app.post("/v1/oauth/token")
    async def notion_token(request: Request) -> Response:
        if not _basic_ok(request):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "body must be JSON"}, 400
            )
        if body.get("grant_type") not in ("authorization_code", "refresh_token"):
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        return JSONResponse(
            {
                "access_token": state.issue("ntn_"),
                "token_type": "bearer",
                "refresh_token": "nrt_" + secrets.token_hex(12),
                "bot_id": "b0t-1d",
                "workspace_name": "Acme",
                "workspace_icon": None,
                "workspace_id": NOTION_WORKSPACE,
                "owner": {"type": "user", "user": {"object": "user", "id": "u5er-1d"}},
                "duplicated_template_id": None,
                "request_id": "r3q",
            }
        )

    @app.post("/v1/oauth/revoke")
    async def notion_revoke(request: Request) -> Response:
        if not _basic_ok(request) or not request.headers.get("notion-version"):
            return JSONResponse({"object": "error", "code": "unauthorized"}, status_code=401)
        try:
            token = json.loads(await request.body()).get("token")
        except ValueError:
            return JSONResponse({"object": "error", "code": "invalid_json"}, status_code=400)
        state.live_access.discard(token)
        return JSONResponse({"request_id": "r3q"})

    # --- Microsoft identity platform (v2.0 endpoints under the tenant) -----------------------
    @app.get("/{tenant}/oauth2/v2.0/authorize")
    def ms_authorize(request: Request) -> Response:
        return _authorize(request)

    @app.post("/{tenant}/oauth2/v2.0/token")
    async def ms_token(tenant: str, request: Request) -> Response:
        form = await form_of(request)
        if not _post_ok(form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        claims = {
            "iss": f"https://login.microsoftonline.com/{tenant}/v2.0",
            "sub": "s-ms-1",
            "tid": tenant,
            "oid": MICROSOFT_OID,
            "preferred_username": "dana@contoso.com",
            "aud": CLIENT_ID,
            "exp": int(time.time()) + 3600,
        }
        return JSONResponse(
            {
                "token_type": "Bearer",
                "scope": "openid profile offline_access User.Read",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": state.issue("eyJ0eXAi"),
                "refresh_token": "0.AR" + secrets.token_hex(12),
                "id_token": jwt.encode(claims, secrets.token_hex(32), algorithm="HS256"),
            }
        )

    # --- QuickBooks (Intuit) ----------------------------------------------------------------
    @app.get("/connect/oauth2")
    def qb_authorize(request: Request) -> Response:
        return _authorize(request, realmId=REALM_ID)

    @app.post("/oauth2/v1/tokens/bearer")
    async def qb_token(request: Request) -> Response:
        if not _basic_ok(request):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse(
            {
                "token_type": "bearer",
                "access_token": state.issue("eyJlbmMi"),
                "refresh_token": "AB11" + secrets.token_hex(12),
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
            }
        )

    return app


@contextmanager
def running_standins() -> Iterator[StandIns]:
    """The stand-in server on a free loopback port, stopped afterwards."""
    state = StandIns()
    server = ThreadedServer(create_app(state)).start()
    state.url = server.url
    try:
        yield state
    finally:
        server.stop()


def create_by_template(
    live: LiveBroker, template_id: str, app_id: str = "", **body: Any
) -> httpx.Response:
    """Create an app from a real catalog entry with the stand-in's client credentials."""
    app_id = app_id or f"{template_id}-{secrets.token_hex(3)}"
    payload = {"templateId": template_id, "id": app_id, "clientId": CLIENT_ID}
    payload |= {"clientSecret": CLIENT_SECRET, **body}
    payload.setdefault("overrides", {}).setdefault("name", f"{template_id} {app_id}")
    return httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create/bytemplate",
        headers=live.mgmt_headers(),
        json=payload,
    )


def create_standin_app(
    live: LiveBroker, standins: StandIns, template_id: str, app_id: str = ""
) -> str:
    """An app from the real catalog entry with only its host moved to the stand-in; its id."""
    authorize, token, revoke = PATHS[template_id]
    overrides = {
        "authorizationUrl": standins.url + authorize,
        "tokenUrl": standins.url + token,
        "revocationUrl": standins.url + revoke,
        "discoveryUrl": "",
    }
    created = create_by_template(live, template_id, app_id, overrides=overrides)
    assert created.status_code == 200, created.text
    return str(created.json()["app"]["id"])
