"""Reconnect links: an admin's way to get a user's dead connection back.

For a user's token in ``needs_reauth`` or ``refresh_failed`` a management caller gets a link
secret (single use, expiring after ``ConnectSettings.reconnect_link_ttl_s``, kept as a digest)
bound to that user, app, tenant and external identifier, with the token's scopes. The user
opens it signed in as themself; the broker then starts a connect for exactly that owner and
those scopes (plus the catalog's incremental-authorization parameters, e.g. Google's
``include_granted_scopes``), through the same user verifier as any connect. The new grant
replaces the old token in place (same record id) with a ``reconnected`` event whose detail says
``via: reconnect_link``. Opened by anyone else, the link is refused and stays usable.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update

from broker.context import Broker
from broker.errors import InvalidArguments, ReconnectLinkRefused, TokenNotFound
from broker.identity.auth import Caller
from broker.lifecycle.status_names import STORED_FAILING
from broker.outbound.connect import FlowStart, begin_flow
from broker.outbound.connect_checks import check_tenant
from broker.outbound.connect_settings import connect_settings
from broker.project.credentials import new_id
from broker.providers.registration import find_app, resolve_app
from broker.providers.url_policy import check_redirect
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow, ReconnectLinkRow

LINK_PURPOSE = "outbound-reconnect-link"


def create_link(broker: Broker, token_id: str) -> dict[str, Any]:
    """A new reconnect link for a user's dead token: ``{link, linkId, expiresAt, …}``."""
    link = secrets.token_urlsafe(32)
    now = now_s()
    with broker.db.session() as s:
        token = s.get(ManagedTokenRow, token_id) if token_id else None
        if token is None:
            raise TokenNotFound(f"Token {token_id} not found")
        if token.status not in STORED_FAILING:
            raise InvalidArguments(
                "Only a token that needs reauthorization or keeps failing to refresh gets a "
                "reconnect link"
            )
        if not token.user_id or token.kind != "oauth":
            raise InvalidArguments("Reconnect links are for a user's OAuth token")
        row = ReconnectLinkRow(
            id=new_id("RL"),
            link_digest=broker.ring.digest(link, purpose=LINK_PURPOSE),
            token_id=token.id,
            app_id=token.app_id,
            user_id=token.user_id,
            tenant_id=token.tenant_id,
            external_identifier=token.external_identifier,
            scopes=list(token.requested_scopes or token.scopes or []),
            created_at=now,
            expires_at=now + connect_settings(broker).reconnect_link_ttl_s,
        )
        s.add(row)
        return {
            "link": link,
            "linkId": row.id,
            "tokenId": row.token_id,
            "appId": row.app_id,
            "userId": row.user_id,
            "scopes": list(row.scopes),
            "expiresAt": str(int(row.expires_at)),
        }


def _take(broker: Broker, caller: Caller, link: str) -> ReconnectLinkRow:
    """The caller's usable link, marked used (single use: only one caller wins)."""
    digest = broker.ring.digest(link, purpose=LINK_PURPOSE)
    with broker.db.session() as s:
        row = s.scalar(select(ReconnectLinkRow).where(ReconnectLinkRow.link_digest == digest))
        if row is None:
            raise ReconnectLinkRefused(ReconnectLinkRefused.UNKNOWN, "Unknown reconnect link")
        if row.user_id != caller.user_id:
            raise ReconnectLinkRefused(
                ReconnectLinkRefused.FOREIGN, "This reconnect link was made for another account"
            )
        if row.used_at is not None:
            raise ReconnectLinkRefused(
                ReconnectLinkRefused.USED, "This reconnect link was already used"
            )
        if row.expires_at < now_s():
            raise ReconnectLinkRefused(ReconnectLinkRefused.EXPIRED, "This reconnect link expired")
        taken = s.execute(
            update(ReconnectLinkRow)
            .where(ReconnectLinkRow.id == row.id, ReconnectLinkRow.used_at.is_(None))
            .values(used_at=now_s())
        )
        if getattr(taken, "rowcount", 0) != 1:
            raise ReconnectLinkRefused(
                ReconnectLinkRefused.USED, "This reconnect link was already used"
            )
        s.expunge(row)
        return row


def start_reconnect(broker: Broker, caller: Caller, link: str, redirect_url: str) -> str:
    """Use a reconnect link as its user: answers the provider's authorization URL."""
    check_redirect(redirect_url, broker.settings)
    row = _take(broker, caller, link)
    with broker.db.session() as s:
        check_tenant(broker, s, row.user_id, row.tenant_id, tenant_level=False)
        app = resolve_app(broker, find_app(s, row.app_id))
    start = FlowStart(
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        tenant_level=False,
        external_identifier=row.external_identifier,
        scopes=list(row.scopes or []) or list(app.default_scopes),
        redirect_url=redirect_url,
        reconnect_link_id=row.id,
        extra_params=dict(app.template.incremental_params) if app.template else {},
    )
    return begin_flow(broker, app, start)
