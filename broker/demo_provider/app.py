"""The demo provider's FastAPI application: ``create_provider_app``.

OAuth (see ``oauth_routes``): ``/.well-known/oauth-authorization-server`` (also served as
``/.well-known/openid-configuration``), ``/oauth/authorize`` (GET page, POST decision),
``/oauth/token``, ``/oauth/revoke``, ``/oauth/introspect``, ``/oauth/jwks``. API: ``/api/me``
(``profile``; ``email`` adds the address), ``/api/events`` (``calendar.read``).
Demo accounts: ``alex@acme.test``, ``sam@acme.test``, ``jordan@acme.test``, password ``demo``.

Admin endpoints (tests and demos; ``Authorization: Bearer <secret>`` when an admin secret is
set via the argument or ``OUTBOUND_PROVIDER_ADMIN_SECRET``, else loopback callers only)::

    POST   /admin/clients        {client_id, client_secret?, redirect_uris: [..],
                                  token_endpoint_auth_method?: client_secret_basic |
                                  client_secret_post | none, access_token_ttl_s?}
                                 → 201 new / 200 updated: {client_id, redirect_uris,
                                  token_endpoint_auth_method, public, access_token_ttl_s, created}
                                 No method: a confidential client may use basic or post.
                                 No secret (or method none): a public client.
    GET    /admin/faults         → {name: {"value": v, "remaining": n | null}} (switched on only)
    POST   /admin/faults         {name: value} or {name: {"value": v, "remaining": n}}; merges;
                                 value false/null switches one off; 400 on unknown name or type
    DELETE /admin/faults         → {} (all off)
    GET    /admin/stats          → {"token_calls": {grant_type: n},
                                    "token_outcomes": {grant_type: {outcome: n}},
                                    "revocations": n, "introspections": n,
                                    "reuse_detected": n, "approvals": n, "denials": n,
                                    "api_calls": n (authorized /api calls)}
                                 outcome: "ok", an OAuth error code ("invalid_grant"…),
                                 "status_503"…, "garbage_json" or "lost_response"
    POST   /admin/stats/reset    → the zeroed counters
    GET    /admin/tokens/status?token=…  (or POST {"token": …})
                                 → {"active": bool, "status": active | rotated | revoked |
                                    expired | unknown, "token_type", "grant_id",
                                    "grant_revoked_reason", "client_id", "scope", "sub", "exp"…}

Fault switches (``remaining`` counts the times a fault takes effect, then it switches off):
``latency_ms`` (delay each token-endpoint answer), ``token_status`` (429/500/502/503/504
instead of processing; 429 and 503 carry ``Retry-After`` = ``retry_after_s``, default 1),
``refresh_error`` (invalid_grant | invalid_client | invalid_scope | unauthorized_client |
invalid_request on refresh only), ``garbage_json`` (200 with a truncated JSON body),
``wrong_content_type`` (the real token answer served as text/html), ``lost_response`` (the
request is processed — code used, refresh token rotated — but the answer is a 502),
``omit_expires_in``,
``no_refresh_token`` (on refresh: the old refresh token stays valid), ``non_rotating`` (refresh
answers the presented refresh token again), ``narrow_scopes`` (list of scopes to drop from what
is issued), ``access_token_ttl_s`` (lifetime of issued access tokens).

The token endpoint processes one request at a time, so two concurrent uses of one refresh
token always count as reuse (the second revokes the grant), as strict providers behave.
"""

from __future__ import annotations

import os
from pathlib import Path

from authlib.oauth2 import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from broker.demo_provider import admin, oauth_routes, resources
from broker.demo_provider.context import DemoProvider
from broker.demo_provider.faults import Faults
from broker.demo_provider.grants import register_grants
from broker.demo_provider.server import DEFAULT_ACCESS_TOKEN_TTL_S, AcmeAuthorizationServer
from broker.demo_provider.state import ProviderState
from broker.demo_provider.stats import ProviderStats
from broker.demo_provider.tokens import AccessTokenSigner

ADMIN_SECRET_ENV = "OUTBOUND_PROVIDER_ADMIN_SECRET"


def create_provider_app(
    issuer: str,
    auto_approve: bool = False,
    state_path: Path | None = None,
    *,
    admin_secret: str | None = None,
    access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S,
) -> FastAPI:
    """The Acme Calendar provider at ``issuer``; state in memory, or in the JSON file ``state_path``."""
    issuer = issuer.rstrip("/")
    state = ProviderState(state_path)
    server = AcmeAuthorizationServer(
        state,
        AccessTokenSigner(state.signing_key_pem, issuer),
        Faults(),
        ProviderStats(),
        default_ttl_s=access_token_ttl_s,
    )
    register_grants(server)
    app = FastAPI(title="Acme Calendar (demo OAuth provider)", docs_url=None, redoc_url=None)
    app.state.provider = DemoProvider(
        issuer=issuer,
        auto_approve=auto_approve,
        server=server,
        admin_secret=admin_secret or os.environ.get(ADMIN_SECRET_ENV) or None,
    )
    for module in (oauth_routes, resources, admin):
        app.include_router(module.router)

    @app.exception_handler(OAuth2Error)
    async def oauth_error(request: Request, exc: OAuth2Error) -> JSONResponse:
        status, body, headers = exc()
        return JSONResponse(body, status_code=status, headers=dict(headers))

    return app
