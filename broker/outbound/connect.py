"""Connect and callback: the authorization-code flow (RFC 6749 §4.1 with RFC 7636 PKCE S256).

Connect checks the caller's tenant rights in the database, stores a ``PendingAuthorization``
(state kept as a keyed digest, PKCE verifier sealed, 10-minute life, the token endpoint and
issuer of the app at that moment) and answers the provider's authorization URL.

The callback claims the state (single use), checks that the answer comes from the app's own
authorization server (RFC 9207, ``connect_checks``), exchanges the code and then, with the
user verifier on (``ConnectSettings.confirm_required``, the default), *parks* the grant: the
browser goes on to the ``redirectUrl`` with a one-time ``flow`` id, and the grant is kept only
when the initiator, signed in in that browser, confirms it (``connect_flows``). With the
verifier off (or in strict mode) the grant is stored at once, as Descope's cloud does.

The final redirect's query (``flow`` is left out in strict mode):

* kept: ``outbound=connected&appId&tokenId&scopes&requestedScopes&hasRefreshToken``
  (+ ``tenantId`` / ``externalIdentifier``) ``&flow``;
* parked: ``outbound=confirm&appId&flow``;
* failed: ``outbound=error&appId&error&errorDescription&flow``; ``error`` is the provider's own
  code or one of ours: ``expired_state``, ``missing_code``, ``app_not_found``,
  ``temporarily_unavailable``, ``issuer_mismatch``, ``issuer_missing``, ``app_changed``,
  ``not_tenant_member``, ``tenant_admin_required``.

An unknown or already used ``state`` has no trustworthy redirect: the callback answers a small
HTML error page instead (status 400). Nothing is stored on any failure.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from authlib.oauth2.client import OAuth2Client
from sqlalchemy import select, update

from broker.context import Broker
from broker.errors import DescopeError, InvalidArguments, MissingArguments
from broker.identity.auth import Caller
from broker.outbound.connect_checks import ConnectRefused, check_issuer, check_tenant
from broker.outbound.connect_flows import (
    LANDING_PURPOSE,
    STATE_PURPOSE,
    finish_flow,
    keep_or_park,
    sweep_flows,
)
from broker.outbound.connect_settings import connect_settings
from broker.outbound.wire import ConnectRequest
from broker.project.credentials import new_id
from broker.providers.oauth_client import ProviderError, exchange_code, userinfo_sub
from broker.providers.registration import OutboundApp, find_app, resolve_app
from broker.providers.url_policy import check_redirect
from broker.store.db import now_s
from broker.store.outbound import PendingAuthorizationRow

PENDING_TTL_S = 600
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


@dataclass(frozen=True)
class FlowStart:
    """Who a connect is for and what it asks: everything a pending authorization records."""

    user_id: str
    tenant_id: str
    tenant_level: bool
    external_identifier: str
    scopes: list[str]
    redirect_url: str
    reconnect_link_id: str = ""
    extra_params: Mapping[str, str] = field(default_factory=dict)
    state: str = ""  # chosen by the caller (the Flows surface seals it), else a new one


def start_connect(broker: Broker, caller: Caller, req: ConnectRequest, *, state: str = "") -> str:
    """Check the request, store the pending authorization and answer the authorization URL.

    ``state`` is the OAuth state to use, when the caller must know it (broker/outbound/flows.py).
    """
    options = req.options
    tenant_id = req.tenant_id or ""
    if req.tenant_level and not tenant_id:
        raise MissingArguments("tenantId is required for a tenant-level connect")
    with broker.db.session() as s:
        check_tenant(
            broker, s, caller.user_id or "", tenant_id, tenant_level=bool(req.tenant_level)
        )
        app = resolve_app(broker, find_app(s, req.app_id))
    redirect = (options.redirect_url if options else None) or app.default_redirect_url
    if not redirect:
        raise MissingArguments("options.redirectUrl is required (the app has no default)")
    scopes = [s for s in (options.scopes if options else None) or [] if s]
    start = FlowStart(
        user_id=caller.user_id or "",
        tenant_id=tenant_id,
        tenant_level=bool(req.tenant_level),
        external_identifier=(options.external_identifier if options else None) or "",
        scopes=scopes or list(app.default_scopes),
        redirect_url=redirect,
        state=state,
    )
    return begin_flow(broker, app, start)


def begin_flow(broker: Broker, app: OutboundApp, start: FlowStart) -> str:
    """Store the pending authorization of ``start`` and answer the provider's authorization URL."""
    if app.app_type != "oauth":
        raise InvalidArguments("Only OAuth apps can be connected; upload an API key instead")
    check_redirect(start.redirect_url, broker.settings)
    state = start.state or secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48) if app.pkce else None
    now = now_s()
    pending_id = new_id("PA")
    sweep_flows(broker)
    with broker.db.session() as s:
        s.add(
            PendingAuthorizationRow(
                id=pending_id,
                state_digest=broker.ring.digest(state, purpose=STATE_PURPOSE),
                app_id=app.id,
                user_id=start.user_id,
                tenant_id=start.tenant_id,
                tenant_level=start.tenant_level,
                scopes=start.scopes,
                redirect_url=start.redirect_url,
                external_identifier=start.external_identifier,
                verifier_sealed=(
                    broker.ring.seal(verifier, context=verifier_context(pending_id))
                    if verifier
                    else None
                ),
                created_at=now,
                expires_at=now + PENDING_TTL_S,
                status="pending",
                confirm=connect_settings(broker).confirm_required,
                outcome={},
                token_url=app.registration.token_url,
                issuer=app.issuer,
                iss_required=app.iss_supported,
                reconnect_link_id=start.reconnect_link_id,
            )
        )
    return authorization_url(
        broker, app, scopes=start.scopes, state=state, verifier=verifier, extra=start.extra_params
    )


def authorization_url(
    broker: Broker,
    app: OutboundApp,
    *,
    scopes: list[str],
    state: str,
    verifier: str | None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The provider authorization URL (Authlib builds the query and the S256 challenge)."""
    client = OAuth2Client(
        None,
        client_id=app.registration.client_id,
        redirect_uri=broker.settings.callback_url,
        code_challenge_method="S256" if verifier else None,
    )
    params = {**app.authorize_params, **(extra or {})}
    url, _ = client.create_authorization_url(
        app.authorization_url,
        state=state,
        code_verifier=verifier,
        **{
            **{k: v for k, v in params.items() if k not in _PROTOCOL_PARAMS},
            **app.scope_params(scopes),
        },
    )
    return str(url)


@dataclass(frozen=True)
class CallbackResult:
    """Where the callback sends the browser, or the HTML error page when there is nowhere safe."""

    redirect_url: str | None = None
    error_page: str | None = None


def with_query(url: str, params: Mapping[str, str]) -> str:
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


def _claim(broker: Broker, state: str) -> PendingAuthorizationRow | None:
    """Claim the pending authorization for ``state`` (single use: only one caller wins)."""
    digest = broker.ring.digest(state, purpose=STATE_PURPOSE)
    with broker.db.session() as s:
        row = s.scalar(
            select(PendingAuthorizationRow).where(PendingAuthorizationRow.state_digest == digest)
        )
        if row is None or row.status != "pending":
            return None
        taken = s.execute(
            update(PendingAuthorizationRow)
            .where(
                PendingAuthorizationRow.id == row.id, PendingAuthorizationRow.status == "pending"
            )
            .values(status="called_back")
        )
        if getattr(taken, "rowcount", 0) != 1:
            return None
        s.expunge(row)
        return row


def complete_callback(broker: Broker, query: dict[str, str]) -> CallbackResult:
    """Handle the provider's redirect back to the broker; see the module docstring."""
    state = query.get("state") or ""
    pending = _claim(broker, state) if state else None
    if pending is None:
        return _error_page("This sign-in link is unknown, expired or was already used.")
    try:
        outcome, grant_sealed = _complete(broker, pending, query)
    except ConnectRefused as exc:
        outcome, grant_sealed = _failure(pending, exc.error, exc.message), None
    except ProviderError as exc:
        description = exc.description or "The token exchange failed."
        outcome, grant_sealed = _failure(pending, exc.error, description), None
    landing = secrets.token_urlsafe(32) if connect_settings(broker).extensions else ""
    finish_flow(
        broker,
        pending.id,
        outcome,
        landing_digest=broker.ring.digest(landing, purpose=LANDING_PURPOSE) if landing else None,
        grant_sealed=grant_sealed,
    )
    params = redirect_params(outcome)
    if landing:
        params["flow"] = landing
    return CallbackResult(redirect_url=with_query(pending.redirect_url, params))


def _failure(pending: PendingAuthorizationRow, error: str, description: str) -> dict[str, Any]:
    return {
        "outcome": "error",
        "appId": pending.app_id,
        "error": error[:100],
        "errorDescription": description[:300],
    }


def _complete(
    broker: Broker, pending: PendingAuthorizationRow, query: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    if pending.expires_at < now_s():
        raise ConnectRefused(
            "expired_state", "The connection took longer than 10 minutes; try again."
        )
    try:
        with broker.db.session() as s:
            app = resolve_app(broker, find_app(s, pending.app_id))
    except DescopeError as exc:
        raise ConnectRefused("app_not_found", exc.message) from None
    check_issuer(pending, app, query.get("iss") or "")
    if query.get("error"):
        raise ConnectRefused(
            query["error"], query.get("error_description") or "The provider refused."
        )
    code = query.get("code") or ""
    if not code:
        raise ConnectRefused("missing_code", "The provider sent no authorization code.")
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
    return keep_or_park(broker, pending, app, grant, token_sub)


def redirect_params(outcome: Mapping[str, Any]) -> dict[str, str]:
    """The final redirect's query for a flow outcome (see the module docstring)."""
    kind = str(outcome.get("outcome") or "error")
    params = {"outbound": kind, "appId": str(outcome.get("appId") or "")}
    if kind == "connected":
        params["tokenId"] = str(outcome.get("tokenId") or "")
        params["scopes"] = " ".join(outcome.get("scopes") or [])
        params["requestedScopes"] = " ".join(outcome.get("requestedScopes") or [])
        params["hasRefreshToken"] = "true" if outcome.get("hasRefreshToken") else "false"
        for key in ("tenantId", "externalIdentifier"):
            if outcome.get(key):
                params[key] = str(outcome[key])
    elif kind != "confirm":
        params["outbound"] = "error"
        params["error"] = str(outcome.get("error") or "")
        params["errorDescription"] = str(outcome.get("errorDescription") or "")
    return params
