"""The token vault: sealed storage of provider grants, lookup, wire shape, revoke-and-delete.

Each access and refresh token is sealed with the key ring under a context naming its row and
part (``token:<id>:access`` / ``token:<id>:refresh``), so a sealed value moved to another row or
column does not open. Status (an extension field) is a ``lifecycle.status_names.TokenStatus``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.crypto import Secret
from broker.lifecycle.events import record_event
from broker.lifecycle.status import token_status
from broker.lifecycle.status_names import TokenStatus
from broker.project.credentials import new_id
from broker.providers.oauth_client import TokenGrant, revoke
from broker.providers.registration import OutboundApp
from broker.store.db import Database, now_s
from broker.store.outbound import ManagedTokenRow, StoredToken
from broker.store.owners import owner_sort

# The one extension field carrying provider metadata (a strict wire mode strips it by name).
PROVIDER_METADATA_FIELD = "providerMetadata"


def token_context(token_id: str, part: str) -> str:
    """The sealing context of one token part (``access`` or ``refresh``)."""
    return f"token:{token_id}:{part}"


@dataclass(frozen=True)
class TokenOwner:
    """Who a token belongs to: one record per (app, user, tenant, external identifier)."""

    app_id: str
    user_id: str
    tenant_id: str
    external_identifier: str


def seal_into(broker: Broker, row: ManagedTokenRow, part: str, value: Secret | None) -> None:
    """Seal ``value`` into the row's ``part`` column (None clears the access part only)."""
    sealed = (
        broker.ring.seal(value.reveal(), context=token_context(row.id, part)) if value else None
    )
    if part == "access":
        row.access_token_sealed = sealed
    elif sealed is not None:  # a stored refresh token is never replaced with none
        row.refresh_token_sealed = sealed


def unseal_part(broker: Broker, row: StoredToken, part: str) -> Secret | None:
    """The clear access or refresh token of a row, or None."""
    sealed = row.access_token_sealed if part == "access" else row.refresh_token_sealed
    if sealed is None:
        return None
    return Secret(broker.ring.unseal(sealed, context=token_context(row.id, part)))


def apply_grant(
    broker: Broker, row: ManagedTokenRow, app: OutboundApp, grant: TokenGrant, now: int
) -> None:
    """Write a token response into a row: sealed pair, expiry (assumed when absent), scopes."""
    seal_into(broker, row, "access", grant.access_token)
    seal_into(broker, row, "refresh", grant.refresh_token)
    row.access_token_type = grant.token_type or "Bearer"
    if grant.expires_in is not None:
        row.access_token_expiry, row.expiry_assumed = now + grant.expires_in, False
    else:
        lifetime = app.default_expires_in
        row.access_token_expiry, row.expiry_assumed = (now + lifetime if lifetime else 0), True
    if grant.scope is not None:
        row.scopes = app.split_scopes(grant.scope)
    if grant.id_token_sub:
        row.token_sub = grant.id_token_sub
    if grant.metadata:  # a refresh answer naming fewer values keeps the ones from connect
        row.provider_metadata = {**(row.provider_metadata or {}), **grant.metadata}
    row.status, row.last_refresh_error, row.failure_count = TokenStatus.ACTIVE.value, "", 0
    row.version = (row.version or 0) + 1
    row.next_refresh_time = plan_next_refresh(row, app, broker.settings.refresh_margin_s, now)
    row.updated_at = now_s()  # not ``now`` (whole seconds): "latest" orders an owner's grants


def plan_next_refresh(row: ManagedTokenRow, app: OutboundApp, margin: int, now: int) -> int | None:
    """When the refresh engine should next refresh this token: before expiry, or keep-alive."""
    if row.refresh_token_sealed is None:
        return None
    due: list[int] = []
    if row.access_token_expiry:
        due.append(max(now, row.access_token_expiry - margin))
    if app.keep_alive_days:
        due.append(now + app.keep_alive_days * 86400)
    return min(due) if due else None


def owner_row(session: Session, owner: TokenOwner, now: float) -> tuple[ManagedTokenRow, bool]:
    """The owner's one record and whether it was there; a new one (version 0) joins
    ``session``."""
    row = session.scalar(
        select(ManagedTokenRow).where(
            ManagedTokenRow.app_id == owner.app_id,
            ManagedTokenRow.user_id == owner.user_id,
            ManagedTokenRow.tenant_id == owner.tenant_id,
            ManagedTokenRow.external_identifier == owner.external_identifier,
        )
    )
    if row is not None:
        return row, True
    row = ManagedTokenRow(
        id=new_id("OT"),
        app_id=owner.app_id,
        user_id=owner.user_id,
        tenant_id=owner.tenant_id,
        external_identifier=owner.external_identifier,
        version=0,
        created_at=float(now),
        owner_sort=owner_sort(session, owner.user_id, owner.tenant_id),
    )
    session.add(row)
    return row, False


def upsert_grant(
    broker: Broker,
    session: Session,
    app: OutboundApp,
    owner: TokenOwner,
    grant: TokenGrant,
    *,
    requested_scopes: list[str],
    granted_by: str,
    token_sub: str,
    via: str = "",
) -> ManagedTokenRow:
    """Insert or update the owner's record with a grant (a reconnect keeps the record id).

    ``via`` names how a reconnect came about (``reconnect_link``) in the event's detail.
    """
    now = int(now_s())
    row, reconnect = owner_row(session, owner, now)
    row.kind = "oauth"
    row.scopes = list(requested_scopes)  # the grant's own scope list wins in apply_grant
    row.requested_scopes = list(requested_scopes)
    row.granted_by = granted_by
    row.token_sub = token_sub or row.token_sub or ""
    row.last_refresh_time = None
    row.provider_metadata = {}  # a (re)connect may reach another org or workspace
    apply_grant(broker, row, app, grant, now)
    session.flush()
    detail: dict[str, object] = {
        "scopes": list(row.scopes or []),
        "hasRefreshToken": bool(row.refresh_token_sealed),
    }
    if via:
        detail["via"] = via
    record_event(broker, session, "reconnected" if reconnect else "connected", row, detail)
    return row


def store_grant(
    broker: Broker,
    app: OutboundApp,
    owner: TokenOwner,
    grant: TokenGrant,
    *,
    requested_scopes: list[str],
    granted_by: str,
    token_sub: str,
    via: str = "",
) -> ManagedTokenRow:
    """``upsert_grant`` in its own transaction."""
    with broker.db.session() as s:
        return upsert_grant(
            broker,
            s,
            app,
            owner,
            grant,
            requested_scopes=requested_scopes,
            granted_by=granted_by,
            token_sub=token_sub,
            via=via,
        )


def _unix(value: int | None) -> str:
    return str(int(value)) if value else ""


def token_fields(
    row: StoredToken, status: str, *, has_refresh: bool, access_token: str | None
) -> dict[str, Any]:
    """The OutboundAppToken object (reference §3.3) plus this broker's extension fields: the one
    builder of the shape. ``access_token`` None leaves it out (metadata only, the inventory)."""
    body: dict[str, Any] = {
        "id": row.id,
        "appId": row.app_id,
        "userId": row.user_id,
        "tenantId": row.tenant_id,
        "tokenSub": row.token_sub,
        "accessToken": access_token,
        "accessTokenType": row.access_token_type,
        "accessTokenExpiry": str(int(row.access_token_expiry or 0)),
        "hasRefreshToken": has_refresh,
        "lastRefreshTime": _unix(row.last_refresh_time),
        "lastRefreshError": row.last_refresh_error,
        "scopes": list(row.scopes or []),
        "grantedBy": row.granted_by,
        "externalIdentifier": row.external_identifier,
        # Extensions (not in Descope's object; the dashboard never needs them).
        "status": status,
        "nextRefreshTime": _unix(row.next_refresh_time),
        "failureCount": row.failure_count,
        "requestedScopes": list(row.requested_scopes or []),
        "expiryAssumed": bool(row.expiry_assumed),
        "tokenKind": row.kind,
        PROVIDER_METADATA_FIELD: dict(row.provider_metadata or {}),
    }
    if access_token is None:  # one dict literal: the fetch's hot path builds it as it is
        del body["accessToken"]
    return body


def token_to_wire(broker: Broker, row: StoredToken, *, with_refresh: bool) -> dict[str, Any]:
    """The token's wire object (``token_fields``), unsealed; ``refreshToken`` when asked."""
    access = unseal_part(broker, row, "access")
    body = token_fields(
        row,
        token_status(row, now_s(), broker.settings.refresh_margin_s),  # a str: JSON as is
        has_refresh=row.refresh_token_sealed is not None,
        access_token=access.reveal() if access else "",
    )
    if with_refresh:
        refresh = unseal_part(broker, row, "refresh")
        body["refreshToken"] = refresh.reveal() if refresh else ""
    return body


# The fetch's lookup (the broker's hot path, bench/fetch.py) as one Core statement built once:
# SQLAlchemy compiles it once and reuses it, and no ORM session or identity map is involved.
# Unordered: an owner has a row or a few (one per external identifier), which ``select_token``
# orders itself; an ORDER BY made SQLite build a temporary B-tree for every fetch.
_TOKENS = ManagedTokenRow.__table__
_READ = [c for c in _TOKENS.c if c.key != "owner_sort"]  # the page's order: not a token's field
_OWNER_TOKENS = select(*_READ).where(
    _TOKENS.c.app_id == bindparam("app_id"),
    _TOKENS.c.user_id == bindparam("user_id"),
    _TOKENS.c.tenant_id == bindparam("tenant_id"),
)
_OWNER_TOKENS_BY_EXTERNAL_ID = _OWNER_TOKENS.where(
    _TOKENS.c.external_identifier == bindparam("external_identifier")
)


def select_token(
    db: Database,
    *,
    app_id: str,
    user_id: str,
    tenant_id: str,
    scopes: list[str] | None,
    external_identifier: str | None,
    on_loop: bool = False,
) -> StoredToken | None:
    """The newest token of this owner (a read-only Core row); with ``scopes``, the newest
    holding all. ``on_loop``: through the event loop's own connection (``Database.loop_read``)."""
    params = {"app_id": app_id, "user_id": user_id, "tenant_id": tenant_id}
    query = _OWNER_TOKENS
    if external_identifier:
        query, params["external_identifier"] = _OWNER_TOKENS_BY_EXTERNAL_ID, external_identifier
    rows: Sequence[Any]
    if on_loop:
        rows = db.loop_read(query, params)
    else:
        with db.engine.connect() as conn:
            rows = conn.execute(query, params).all()
    if len(rows) > 1:
        rows = sorted(rows, key=_newest_first)
    wanted = set(scopes or [])
    found: StoredToken | None = next((r for r in rows if wanted <= set(r.scopes or [])), None)
    return found


def _newest_first(row: StoredToken) -> float:
    return -row.updated_at


_TOKEN_BY_ID = select(*_READ).where(_TOKENS.c.id == bindparam("id"))


def read_token(db: Database, token_id: str, *, on_loop: bool = False) -> StoredToken | None:
    """One token by id (a read-only Core row); ``on_loop`` as for ``select_token``."""
    rows: Sequence[Any]
    if on_loop:
        rows = db.loop_read(_TOKEN_BY_ID, {"id": token_id})
    else:
        with db.engine.connect() as conn:
            rows = conn.execute(_TOKEN_BY_ID, {"id": token_id}).all()
    found: StoredToken | None = rows[0] if rows else None
    return found


def revoke_and_delete(
    broker: Broker, rows: list[ManagedTokenRow], apps: dict[str, OutboundApp]
) -> list[dict[str, str]]:
    """Revoke both tokens of each row at its provider (RFC 7009, best effort), then delete them.

    Answers one ``{id, accessToken, refreshToken}`` outcome per row: ``revoked``, ``failed``,
    ``unsupported`` (no revocation endpoint) or ``none`` (nothing to revoke).
    """
    outcomes: list[dict[str, str]] = []
    for row in rows:
        app = apps.get(row.app_id)
        outcome = {"id": row.id, "accessToken": "none", "refreshToken": "none"}
        for part, hint, key in (
            ("refresh", "refresh_token", "refreshToken"),
            ("access", "access_token", "accessToken"),
        ):
            value = unseal_part(broker, row, part)
            if value is None or row.kind != "oauth":
                continue
            outcome[key] = (
                revoke(broker.settings, app.registration, value, hint) if app else "failed"
            )
        outcomes.append(outcome)
    if rows:
        with broker.db.session() as s:
            s.execute(delete(ManagedTokenRow).where(ManagedTokenRow.id.in_([r.id for r in rows])))
            for row, outcome in zip(rows, outcomes, strict=True):
                parts = {
                    "accessToken": outcome["accessToken"],
                    "refreshToken": outcome["refreshToken"],
                }
                if "revoked" in parts.values():
                    record_event(broker, s, "revoked", row, parts)
                record_event(broker, s, "disconnected", row, parts)
    return outcomes
