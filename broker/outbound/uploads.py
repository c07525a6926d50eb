"""Migrating credentials in: API keys and existing OAuth tokens, singly or in all-or-nothing batches."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broker.context import Broker
from broker.crypto import Secret
from broker.errors import DescopeError, InvalidArguments, MissingArguments
from broker.lifecycle.status_names import TokenStatus
from broker.lifecycle.vault import TokenOwner, owner_row, seal_into, upsert_grant
from broker.outbound.wire import ApiKeyUpload, OAuthTokenUpload
from broker.providers.oauth_client import ProviderError, TokenGrant, id_token_sub, refresh_grant
from broker.providers.registration import OutboundApp, find_app, resolve_app
from broker.store.db import now_s


def _owner(item: OAuthTokenUpload | ApiKeyUpload, *, tenant_level: bool) -> TokenOwner:
    if not item.app_id:
        raise MissingArguments("appId is required")
    if tenant_level and not item.tenant_id:
        raise MissingArguments("tenantId is required")
    if not tenant_level and not item.user_id:
        raise MissingArguments("userId is required")
    external = item.external_identifier if isinstance(item, OAuthTokenUpload) else None
    return TokenOwner(
        app_id=item.app_id,
        user_id="" if tenant_level else str(item.user_id),
        tenant_id=item.tenant_id or "",
        external_identifier=external or "",
    )


def upload_api_key(broker: Broker, item: ApiKeyUpload, *, tenant_level: bool) -> None:
    """Store a static API key for a user or tenant (never refreshed, never expires)."""
    owner = _owner(item, tenant_level=tenant_level)
    now = now_s()
    with broker.db.session() as s:
        find_app(s, owner.app_id)
        row, _ = owner_row(s, owner, now)
        row.kind, row.access_token_type, row.access_token_expiry = "apikey", "ApiKey", 0
        row.expiry_assumed, row.status, row.updated_at = False, TokenStatus.ACTIVE.value, now
        row.version = (row.version or 0) + 1
        seal_into(broker, row, "access", Secret(item.api_key))


def _grant_from(item: OAuthTokenUpload, app: OutboundApp, now: int) -> TokenGrant:
    if not item.access_token and not item.refresh_token:
        raise MissingArguments("accessToken or refreshToken is required")
    expiry = item.access_token_expiry or 0
    return TokenGrant(
        access_token=Secret(item.access_token) if item.access_token else None,
        token_type=item.access_token_type or "Bearer",
        expires_in=max(0, expiry - now) if expiry and item.access_token else None,
        refresh_token=Secret(item.refresh_token) if item.refresh_token else None,
        scope=app.join_scopes(item.scopes) if item.scopes else None,
        id_token_sub=id_token_sub(item.id_token),
    )


def _store(
    broker: Broker,
    s: Session,
    item: OAuthTokenUpload,
    app: OutboundApp,
    grant: TokenGrant,
    owner: TokenOwner,
) -> None:
    row = upsert_grant(
        broker,
        s,
        app,
        owner,
        grant,
        requested_scopes=list(item.scopes or []),
        granted_by=item.granted_by or "",
        token_sub="",
    )
    if grant.access_token is None:
        row.access_token_expiry, row.expiry_assumed = 0, False  # the first fetch refreshes


def upload_oauth_token(broker: Broker, item: OAuthTokenUpload, *, tenant_level: bool) -> None:
    """Store an existing OAuth token; with ``verifyRefresh`` the refresh token is tried first."""
    owner = _owner(item, tenant_level=tenant_level)
    with broker.db.session() as s:
        app = resolve_app(broker, find_app(s, owner.app_id))
    grant = _grant_from(item, app, int(now_s()))
    if item.verify_refresh:
        if grant.refresh_token is None:
            raise MissingArguments("verifyRefresh needs a refreshToken")
        try:
            fresh = refresh_grant(broker.settings, app.registration, grant.refresh_token)
        except ProviderError as exc:
            raise InvalidArguments(f"Refresh token verification failed: {exc.error}") from None
        grant = TokenGrant(
            fresh.access_token,
            fresh.token_type,
            fresh.expires_in,
            fresh.refresh_token or grant.refresh_token,
            fresh.scope or grant.scope,
            fresh.id_token_sub or grant.id_token_sub,
        )
    with broker.db.session() as s:
        _store(broker, s, item, app, grant, owner)


def batch_upload(
    broker: Broker, items: list[OAuthTokenUpload], *, tenant_level: bool
) -> list[dict[str, Any]]:
    """Validate every item, then store all of them or none; answers the failures."""
    failures: list[dict[str, Any]] = []
    ready: list[tuple[OAuthTokenUpload, OutboundApp, TokenGrant, TokenOwner]] = []
    now = int(now_s())
    with broker.db.session() as s:
        for item in items:
            try:
                owner = _owner(item, tenant_level=tenant_level)
                app = resolve_app(broker, find_app(s, owner.app_id))
                ready.append((item, app, _grant_from(item, app, now), owner))
            except DescopeError as exc:
                failure: dict[str, Any] = {
                    "appId": item.app_id,
                    "errorCode": exc.code,
                    "reason": exc.message,
                }
                failure["tenantId" if tenant_level else "userId"] = (
                    item.tenant_id if tenant_level else item.user_id
                ) or ""
                failures.append(failure)
    if failures:
        return failures
    with broker.db.session() as s:
        for item, app, grant, owner in ready:
            _store(broker, s, item, app, grant, owner)
    return []
