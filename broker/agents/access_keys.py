"""Descope access keys, bound to a user: create, load, search, update, (de)activate, delete,
rotate, and the exchange of a key for that user's session.

A key's cleartext (``K…`` id, a dot-free random secret) is answered once, at creation or
rotation; the store keeps only a keyed digest of it (``KeyRing.digest``), so a copy of the
database cannot be replayed as a key. Every key acts for one user (``userId`` is required:
this broker's keys exist to let an agent act for the person who made them) and may be limited
to some outbound apps (``appIds``, an extension; also read from ``customAttributes.appIds``).

The exchange mints the user's DS/DSR pair on a sign-in session of the key's own
(``ak-<keyId>``): deactivating or deleting the key revokes that session, so JWTs already
handed out stop working at once (the broker's normal logout check), and a user who is not
``enabled`` gets nothing. An inactive, expired or unknown key answers 401.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.context import Broker
from broker.errors import (
    ACCESS_KEY_NOT_FOUND,
    InvalidArguments,
    MissingArguments,
    NotFound,
    Unauthorized,
)
from broker.identity.sessions import jwt_response, mint_pair
from broker.identity.users import get_user
from broker.project.credentials import new_id
from broker.store.agents import AccessKeyRow
from broker.store.db import now_s
from broker.store.identity import RefreshSession

_DIGEST_PURPOSE = "access-key"
SESSION_PREFIX = "ak-"
ACTIVE, INACTIVE = "active", "inactive"


class AccessKeyNotFound(NotFound):
    """No access key has this id (404)."""

    code = ACCESS_KEY_NOT_FOUND
    description = "Access key not found"


def _digest(broker: Broker, cleartext: str) -> str:
    return broker.ring.digest(cleartext, purpose=_DIGEST_PURPOSE)


def _new_cleartext(key_id: str) -> str:
    # No ":" (the bearer's separator) and no "." (a bearer part with two dots reads as a JWT).
    return f"{key_id}{secrets.token_urlsafe(32).replace('-', 'A').replace('_', 'z')}"


def key_to_wire(row: AccessKeyRow) -> dict[str, Any]:
    """The access key object as Descope's SDKs read it, plus ``appIds`` (extension)."""
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "roleNames": list(row.role_names or []),
        "keyTenants": [],
        "status": row.status,
        "createdTime": row.created_time,
        "expireTime": row.expire_time,
        "createdBy": row.created_by,
        "clientId": row.id,
        "boundUserId": row.user_id,
        "customClaims": dict(row.custom_claims or {}),
        "customAttributes": dict(row.custom_attributes or {}),
        "permittedIps": list(row.permitted_ips or []),
        "appIds": list(row.app_ids or []),
        "lastUsedTime": int(row.last_used_time or 0),
    }


def _check_ips(ips: list[str]) -> list[str]:
    for ip in ips:
        try:
            ipaddress.ip_network(ip, strict=False)
        except ValueError as exc:
            raise InvalidArguments(f"permittedIps: {ip!r} is not an address or CIDR range") from exc
    return ips


def _app_ids(explicit: list[str] | None, attributes: dict[str, Any] | None) -> list[str]:
    raw = explicit if explicit is not None else (attributes or {}).get("appIds") or []
    if not isinstance(raw, list) or not all(isinstance(a, str) and a for a in raw):
        raise InvalidArguments("appIds must be a list of outbound app ids")
    return sorted(set(raw))


def create_key(
    broker: Broker,
    *,
    name: str,
    user_id: str | None,
    expire_time: int = 0,
    app_ids: list[str] | None = None,
    description: str = "",
    custom_claims: dict[str, Any] | None = None,
    custom_attributes: dict[str, Any] | None = None,
    permitted_ips: list[str] | None = None,
    created_by: str = "",
) -> dict[str, Any]:
    """Create a key for ``user_id``; answers ``{key, cleartext}`` (the only time it is shown)."""
    if not user_id:
        raise MissingArguments("userId is required: access keys act for a user")
    now = int(now_s())
    if expire_time and expire_time <= now:
        raise InvalidArguments("expireTime is in the past")
    key_id = new_id("K")
    cleartext = _new_cleartext(key_id)
    with broker.db.session() as s:
        user = get_user(s, user_id=user_id)
        row = AccessKeyRow(
            id=key_id,
            key_digest=_digest(broker, cleartext),
            name=name,
            description=description,
            user_id=user.id,
            status=ACTIVE,
            expire_time=expire_time or 0,
            app_ids=_app_ids(app_ids, custom_attributes),
            role_names=list(user.role_names or []),
            custom_claims=custom_claims or {},
            custom_attributes=custom_attributes or {},
            permitted_ips=_check_ips(permitted_ips or []),
            created_by=created_by,
            created_time=now,
        )
        s.add(row)
        s.flush()
        return {"key": key_to_wire(row), "cleartext": cleartext}


def _get(s: Session, key_id: str) -> AccessKeyRow:
    row = s.get(AccessKeyRow, key_id)
    if row is None:
        raise AccessKeyNotFound(f"Access key {key_id} not found")
    return row


def load_key(broker: Broker, key_id: str) -> dict[str, Any]:
    """``{key}`` for an id; 404 when unknown."""
    with broker.db.session() as s:
        return {"key": key_to_wire(_get(s, key_id))}


def search_keys(
    broker: Broker,
    *,
    bound_user_id: str | None = None,
    creating_user: str | None = None,
    custom_attributes: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Keys matching every given filter, newest first."""
    stmt = select(AccessKeyRow).order_by(AccessKeyRow.created_time.desc(), AccessKeyRow.id)
    if bound_user_id:
        stmt = stmt.where(AccessKeyRow.user_id == bound_user_id)
    if creating_user:
        stmt = stmt.where(AccessKeyRow.created_by == creating_user)
    with broker.db.session() as s:
        rows = s.scalars(stmt).all()
        wanted = custom_attributes or {}
        return [
            key_to_wire(r)
            for r in rows
            if all((r.custom_attributes or {}).get(k) == v for k, v in wanted.items())
        ]


def update_key(broker: Broker, key_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """Rename a key and override the fields given (None leaves a field as it is)."""
    with broker.db.session() as s:
        row = _get(s, key_id)
        row.name = name
        if fields.get("description") is not None:
            row.description = fields["description"]
        if fields.get("custom_claims") is not None:
            row.custom_claims = fields["custom_claims"]
        if fields.get("permitted_ips") is not None:
            row.permitted_ips = _check_ips(fields["permitted_ips"])
        if fields.get("custom_attributes") is not None:
            row.custom_attributes = fields["custom_attributes"]
            if "appIds" in fields["custom_attributes"]:  # absent: the key keeps its apps
                row.app_ids = _app_ids(None, fields["custom_attributes"])
        return {"key": key_to_wire(row)}


def _end_key_session(s: Session, key_id: str) -> None:
    session = s.get(RefreshSession, SESSION_PREFIX + key_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = now_s()


def set_active(broker: Broker, key_id: str, active: bool) -> None:
    """Activate or deactivate a key; deactivating ends the sessions it was exchanged for."""
    with broker.db.session() as s:
        row = _get(s, key_id)
        row.status = ACTIVE if active else INACTIVE
        if not active:
            _end_key_session(s, key_id)


def delete_key(broker: Broker, key_id: str) -> None:
    """Delete a key for good, ending its sessions."""
    with broker.db.session() as s:
        row = _get(s, key_id)
        _end_key_session(s, key_id)
        s.delete(row)


def rotate_key(broker: Broker, key_id: str) -> dict[str, Any]:
    """A new secret for the same key; the old one stops working now (and its sessions end)."""
    cleartext = _new_cleartext(key_id)
    with broker.db.session() as s:
        row = _get(s, key_id)
        row.key_digest = _digest(broker, cleartext)
        _end_key_session(s, key_id)
        return {"key": key_to_wire(row), "cleartext": cleartext}


def _usable_key(s: Session, broker: Broker, cleartext: str, client_ip: str) -> AccessKeyRow:
    row = s.scalars(
        select(AccessKeyRow).where(AccessKeyRow.key_digest == _digest(broker, cleartext))
    ).first()
    # One message for unknown, inactive and expired keys: the answer tells a guesser nothing.
    refused = Unauthorized("Access key is not valid")
    if row is None or row.status != ACTIVE:
        raise refused
    if row.expire_time and row.expire_time <= now_s():
        raise refused
    if row.permitted_ips and not _permitted(client_ip, row.permitted_ips):
        raise Unauthorized("Access key is not permitted from this address")
    return row


def _permitted(client_ip: str, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:  # no peer address known (e.g. a test transport): not on any list
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def exchange(broker: Broker, cleartext: str | None, client_ip: str) -> dict[str, Any]:
    """The key's user's JWTResponse (session JWT, plus a refresh JWT for the connect flow)."""
    if not cleartext:
        raise Unauthorized("Access key is missing")
    now = now_s()
    with broker.db.session() as s:
        row = _usable_key(s, broker, cleartext, client_ip)
        row.last_used_time = now
        key_id, user_id = row.id, row.user_id
        session_end = float(row.expire_time or now + broker.settings.refresh_ttl_s)
        sid = SESSION_PREFIX + key_id
        session = s.get(RefreshSession, sid)
        if session is None:
            s.add(
                RefreshSession(
                    id=sid, user_id=user_id, created_at=now, expires_at=session_end, amr=["ak"]
                )
            )
        else:
            session.revoked_at, session.expires_at = None, session_end
    # Short-lived pair: the refresh JWT lives no longer than a session JWT, nor past the key.
    refresh_exp = int(min(session_end, now + broker.settings.session_ttl_s))
    issued = mint_pair(broker, user_id, sid=sid, amr=["ak"], refresh_exp=refresh_exp)
    body = jwt_response(broker, user_id, issued, first_seen=False)
    body["keyId"] = key_id
    return body


def key_of_session(broker: Broker, claims: dict[str, Any]) -> AccessKeyRow | None:
    """The access key a JWT was exchanged for, or None for a person's own sign-in."""
    sid = str(claims.get("sid") or "")
    if not sid.startswith(SESSION_PREFIX):
        return None
    with broker.db.session() as s:
        row = s.get(AccessKeyRow, sid.removeprefix(SESSION_PREFIX))
        if row is not None:
            s.expunge(row)
        return row
