"""Connect and callback: the authorization-code flow (RFC 6749 §4.1 with RFC 7636 PKCE S256).

Connect stores a ``PendingAuthorization`` (state kept as a keyed digest, PKCE verifier sealed,
10-minute life) and answers the provider's authorization URL. The callback consumes the state
(single use), exchanges the code and stores the grant, then sends the browser back to the
pending ``redirectUrl`` with the outcome in the query string:

* success: ``outbound=connected&appId=<id>&tokenId=<id>&scopes=<granted, space-separated>``
  ``&requestedScopes=<asked, space-separated>&hasRefreshToken=true|false``
  (plus ``tenantId`` / ``externalIdentifier`` when the connect had them);
* failure: ``outbound=error&appId=<id>&error=<code>&errorDescription=<text>``, where ``error``
  is the provider's own code (``access_denied``, ``invalid_grant``…) or one of ours:
  ``expired_state`` (the 10 minutes ran out), ``missing_code`` (no ``code`` and no ``error``),
  ``app_not_found`` (the app was deleted meanwhile), ``temporarily_unavailable`` (the token
  endpoint could not be reached).

An unknown or already used ``state`` has no trustworthy redirect: the callback answers a small
HTML error page instead (status 400). Nothing is stored on any failure.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2.client import OAuth2Client
from sqlalchemy import delete, select

from broker.auth import Caller
from broker.context import Broker
from broker.errors import DescopeError, Forbidden, InvalidArguments, MissingArguments
from broker.identity.project import new_id
from broker.outbound.apps import find_app
from broker.outbound.oauth_client import ProviderError, exchange_code, userinfo_sub
from broker.outbound.registration import OutboundApp, resolve_app
from broker.outbound.url_policy import check_redirect
from broker.outbound.vault import TokenOwner, store_grant
from broker.outbound.wire import ConnectRequest
from broker.store.db import now_s
from broker.store.outbound import PendingAuthorizationRow

PENDING_TTL_S = 600
_STATE_PURPOSE = "outbound-state"
# Parameters the flow itself sets; an app's extra authorize params may not override them.
_PROTOCOL_PARAMS = frozenset(
    {
        "state",
        "client_id",
        "scope",
        "redirect_uri",
        "response_type",
        "code_challenge",
        "code_challenge_method",
    }
)


def verifier_context(pending_id: str) -> str:
    """The sealing context of a pending authorization's PKCE verifier."""
    return f"pending:{pending_id}:verifier"


def start_connect(broker: Broker, caller: Caller, req: ConnectRequest) -> str:
    """Check the request, store the pending authorization and answer the authorization URL."""
    options = req.options
    tenant_id = req.tenant_id or ""
    if tenant_id and tenant_id not in (caller.claims.get("tenants") or {}):
        raise Forbidden("The user is not a member of this tenant")
    if req.tenant_level and not tenant_id:
        raise MissingArguments("tenantId is required for a tenant-level connect")
    with broker.db.session() as s:
        app = resolve_app(broker, find_app(s, req.app_id))
    if app.app_type != "oauth":
        raise InvalidArguments("Only OAuth apps can be connected; upload an API key instead")
    redirect = (options.redirect_url if options else None) or app.default_redirect_url
    if not redirect:
        raise MissingArguments("options.redirectUrl is required (the app has no default)")
    check_redirect(redirect, broker.settings)
    scopes = [s for s in (options.scopes if options else None) or [] if s] or list(
        app.default_scopes
    )
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48) if app.pkce else None
    now = now_s()
    pending_id = new_id("PA")
    with broker.db.session() as s:
        s.execute(delete(PendingAuthorizationRow).where(PendingAuthorizationRow.expires_at < now))
        s.add(
            PendingAuthorizationRow(
                id=pending_id,
                state_digest=broker.ring.digest(state, purpose=_STATE_PURPOSE),
                app_id=app.id,
                user_id=caller.user_id or "",
                tenant_id=tenant_id,
                tenant_level=bool(req.tenant_level),
                scopes=scopes,
                redirect_url=redirect,
                external_identifier=(options.external_identifier if options else None) or "",
                verifier_sealed=(
                    broker.ring.seal(verifier, context=verifier_context(pending_id))
                    if verifier
                    else None
                ),
                created_at=now,
                expires_at=now + PENDING_TTL_S,
            )
        )
    return authorization_url(broker, app, scopes=scopes, state=state, verifier=verifier)


def authorization_url(
    broker: Broker, app: OutboundApp, *, scopes: list[str], state: str, verifier: str | None
) -> str:
    """The provider authorization URL (Authlib builds the query and the S256 challenge)."""
    client = OAuth2Client(
        None,
        client_id=app.registration.client_id,
        redirect_uri=broker.settings.callback_url,
        code_challenge_method="S256" if verifier else None,
    )
    extra = {k: v for k, v in app.authorize_params.items() if k not in _PROTOCOL_PARAMS}
    url, _ = client.create_authorization_url(
        app.authorization_url,
        state=state,
        code_verifier=verifier,
        **{**extra, **app.scope_params(scopes)},
    )
    return str(url)


@dataclass(frozen=True)
class CallbackResult:
    """Where the callback sends the browser, or the HTML error page when there is nowhere safe."""

    redirect_url: str | None = None
    error_page: str | None = None


def with_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query string."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _error_page(message: str) -> CallbackResult:
    text = html.escape(message)
    return CallbackResult(
        error_page=(
            "<!doctype html><html><head><meta charset='utf-8'><title>Connection failed</title>"
            "</head><body style='font-family:sans-serif;max-width:40em;margin:4em auto'>"
            f"<h1>Connection failed</h1><p>{text}</p>"
            "<p>Close this tab and start the connection again from the dashboard.</p>"
            "</body></html>"
        )
    )


def _consume(broker: Broker, state: str) -> PendingAuthorizationRow | None:
    """Take the pending authorization for ``state`` out of the store (single use)."""
    digest = broker.ring.digest(state, purpose=_STATE_PURPOSE)
    with broker.db.session() as s:
        row = s.scalar(
            select(PendingAuthorizationRow).where(PendingAuthorizationRow.state_digest == digest)
        )
        if row is None:
            return None
        taken = s.execute(
            delete(PendingAuthorizationRow).where(PendingAuthorizationRow.id == row.id)
        )
        return row if getattr(taken, "rowcount", 0) == 1 else None


def complete_callback(broker: Broker, query: dict[str, str]) -> CallbackResult:
    """Handle the provider's redirect back to the broker; see the module docstring."""
    state = query.get("state") or ""
    pending = _consume(broker, state) if state else None
    if pending is None:
        return _error_page("This sign-in link is unknown, expired or was already used.")

    def fail(error: str, description: str) -> CallbackResult:
        params = {"outbound": "error", "appId": pending.app_id, "error": error[:100]}
        params["errorDescription"] = description[:300]
        return CallbackResult(redirect_url=with_query(pending.redirect_url, params))

    if pending.expires_at < now_s():
        return fail("expired_state", "The connection took longer than 10 minutes; try again.")
    if query.get("error"):
        return fail(query["error"], query.get("error_description") or "The provider refused.")
    code = query.get("code") or ""
    if not code:
        return fail("missing_code", "The provider sent no authorization code.")
    try:
        return _exchange_and_store(broker, pending, code, query)
    except ProviderError as exc:
        return fail(exc.error, exc.description or "The token exchange failed.")
    except DescopeError as exc:
        return fail("app_not_found" if exc.status == 404 else "invalid_request", exc.message)


def _exchange_and_store(
    broker: Broker, pending: PendingAuthorizationRow, code: str, query: dict[str, str]
) -> CallbackResult:
    with broker.db.session() as s:
        app = resolve_app(broker, find_app(s, pending.app_id))
    verifier = (
        broker.ring.unseal(pending.verifier_sealed, context=verifier_context(pending.id))
        if pending.verifier_sealed
        else None
    )
    grant = exchange_code(
        broker.settings,
        app.registration,
        code=code,
        redirect_uri=broker.settings.callback_url,
        code_verifier=verifier,
    )
    # Provider quirk (issue 21): non-secret values on the callback query (QuickBooks realmId).
    grant = replace(grant, metadata={**grant.metadata, **app.callback_metadata(query)})
    token_sub = grant.id_token_sub
    if not token_sub and app.userinfo_url and grant.access_token:
        token_sub = userinfo_sub(broker.settings, app.userinfo_url, grant.access_token)
    owner = TokenOwner(
        app_id=app.id,
        user_id="" if pending.tenant_level else pending.user_id,
        tenant_id=pending.tenant_id,
        external_identifier=pending.external_identifier,
    )
    row = store_grant(
        broker,
        app,
        owner,
        grant,
        requested_scopes=list(pending.scopes or []),
        granted_by=pending.user_id,
        token_sub=token_sub,
    )
    params: dict[str, Any] = {
        "outbound": "connected",
        "appId": app.id,
        "tokenId": row.id,
        "scopes": " ".join(row.scopes or []),
        "requestedScopes": " ".join(pending.scopes or []),
        "hasRefreshToken": "true" if row.refresh_token_sealed else "false",
    }
    if pending.tenant_id:
        params["tenantId"] = pending.tenant_id
    if pending.external_identifier:
        params["externalIdentifier"] = pending.external_identifier
    return CallbackResult(redirect_url=with_query(pending.redirect_url, params))
