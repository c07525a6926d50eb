"""The flow after the callback: the user verifier that defeats COAT, and what the broker reports.

COAT (Cross-app OAuth Account Takeover): someone starts a connect for *their* account and sends
the consent link to a victim; the victim approves with their own provider account and, without
this module, the grant lands in the attacker's account. State and PKCE bind the callback to a
flow, not to a person. So with the verifier on (``ConnectSettings.confirm_required``):

1. the callback exchanges the code and *parks* the grant (sealed under ``pending:<id>:grant``),
   then sends the browser to the connect's ``redirectUrl`` with a one-time ``flow`` id that only
   that browser holds (the initiator never sees it: it is minted after the consent);
2. the app behind the redirect, in the session of whoever is signed in *in that browser*,
   confirms the flow (``POST /v1/x/outbound/oauth/confirm``): the grant is stored only when that
   user started the flow and still has the tenant rights it needs; otherwise (another account,
   nobody signed in, more than 10 minutes) it is revoked at the provider (RFC 7009) and both
   sides are told: the browser by the confirmation's answer, the initiator's tab by the flow's
   status (``POST /v1/x/outbound/oauth/status``, found by the state the initiator holds).

Every flow, parked or not, is reported once: a second confirmation of the same ``flow`` answers
``used``, so a replayed or stale landing URL cannot claim success. Parked grants nobody confirmed
are revoked by the sweep that runs at each connect.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select, update

from broker.context import Broker
from broker.crypto import Secret
from broker.errors import FlowNotFound, NotFound
from broker.lifecycle.vault import TokenOwner, store_grant
from broker.outbound.connect_checks import ConnectRefused, tenant_refusal
from broker.providers.oauth_client import TokenGrant, revoke
from broker.providers.registration import OutboundApp, find_app, resolve_app
from broker.store.db import now_s
from broker.store.outbound import PendingAuthorizationRow

STATE_PURPOSE = "outbound-state"
LANDING_PURPOSE = "outbound-landing"
CONFIRM_WINDOW_S = 600
KEEP_FLOWS_S = 24 * 3600
_STATUS_OF = {"connected": "connected", "confirm": "awaiting", "error": "failed"}


def _grant_context(pending_id: str) -> str:
    return f"pending:{pending_id}:grant"


def _seal_grant(broker: Broker, pending_id: str, grant: TokenGrant, token_sub: str) -> str:
    data = {
        "access_token": grant.access_token.reveal() if grant.access_token else None,
        "refresh_token": grant.refresh_token.reveal() if grant.refresh_token else None,
        "token_type": grant.token_type,
        "expires_in": grant.expires_in,
        "scope": grant.scope,
        "id_token_sub": grant.id_token_sub,
        "token_sub": token_sub,
        "metadata": dict(grant.metadata),
    }
    return broker.ring.seal(json.dumps(data), context=_grant_context(pending_id))


def _unseal_grant(broker: Broker, row: PendingAuthorizationRow) -> tuple[TokenGrant, str]:
    """The parked grant, its lifetime shortened by the time it waited."""
    data = json.loads(broker.ring.unseal(row.grant_sealed or "", context=_grant_context(row.id)))
    waited = int(now_s() - (row.granted_at or now_s()))
    expires_in = data["expires_in"]
    grant = TokenGrant(
        access_token=Secret(data["access_token"]) if data["access_token"] else None,
        token_type=data["token_type"],
        expires_in=max(0, expires_in - waited) if isinstance(expires_in, int) else None,
        refresh_token=Secret(data["refresh_token"]) if data["refresh_token"] else None,
        scope=data["scope"],
        id_token_sub=data["id_token_sub"],
        metadata=data.get("metadata") or {},
    )
    return grant, str(data["token_sub"] or "")


def revoke_grant(broker: Broker, app: OutboundApp, grant: TokenGrant) -> dict[str, str]:
    """Withdraw a grant that is not kept at its provider (RFC 7009, refresh token first)."""
    outcome = {"refreshToken": "none", "accessToken": "none"}
    for key, token, hint in (
        ("refreshToken", grant.refresh_token, "refresh_token"),
        ("accessToken", grant.access_token, "access_token"),
    ):
        if token is not None:
            outcome[key] = revoke(broker.settings, app.registration, token, hint)
    return outcome


def _refusal(broker: Broker, row: PendingAuthorizationRow) -> ConnectRefused | None:
    with broker.db.session() as s:
        return tenant_refusal(broker, s, row.user_id, row.tenant_id, tenant_level=row.tenant_level)


def _keep(
    broker: Broker, row: PendingAuthorizationRow, app: OutboundApp, grant: TokenGrant, sub: str
) -> dict[str, Any]:
    """Store the grant for the flow's owner; answers the ``connected`` outcome."""
    owner = TokenOwner(
        app_id=app.id,
        user_id="" if row.tenant_level else row.user_id,
        tenant_id=row.tenant_id,
        external_identifier=row.external_identifier,
    )
    token = store_grant(
        broker,
        app,
        owner,
        grant,
        requested_scopes=list(row.scopes or []),
        granted_by=row.user_id,
        token_sub=sub,
        via="reconnect_link" if row.reconnect_link_id else "",
    )
    return {
        "outcome": "connected",
        "appId": app.id,
        "tokenId": token.id,
        "scopes": list(token.scopes or []),
        "requestedScopes": list(row.scopes or []),
        "hasRefreshToken": token.refresh_token_sealed is not None,
        "tenantId": row.tenant_id,
        "externalIdentifier": row.external_identifier,
    }


def keep_or_park(
    broker: Broker, row: PendingAuthorizationRow, app: OutboundApp, grant: TokenGrant, sub: str
) -> tuple[dict[str, Any], str | None]:
    """At the callback: store the grant, or park it (sealed) for the initiator to confirm."""
    refused = _refusal(broker, row)
    if refused is not None:
        revoke_grant(broker, app, grant)
        raise refused
    if row.confirm:
        return {"outcome": "confirm", "appId": app.id}, _seal_grant(broker, row.id, grant, sub)
    return _keep(broker, row, app, grant, sub), None


def finish_flow(
    broker: Broker,
    pending_id: str,
    outcome: dict[str, Any],
    *,
    landing_digest: str | None,
    grant_sealed: str | None,
) -> None:
    """Record the callback's outcome (and the parked grant) on the flow."""
    with broker.db.session() as s:
        s.execute(
            update(PendingAuthorizationRow)
            .where(PendingAuthorizationRow.id == pending_id)
            .values(
                status=_STATUS_OF.get(str(outcome["outcome"]), "failed"),
                outcome=outcome,
                landing_digest=landing_digest,
                grant_sealed=grant_sealed,
                granted_at=now_s() if grant_sealed else None,
            )
        )


def _settle(
    broker: Broker, row: PendingAuthorizationRow, status: str, outcome: dict[str, Any]
) -> dict[str, Any]:
    with broker.db.session() as s:
        s.execute(
            update(PendingAuthorizationRow)
            .where(PendingAuthorizationRow.id == row.id)
            .values(status=status, outcome=outcome, grant_sealed=None)
        )
    return outcome


def _refuse_parked(broker: Broker, row: PendingAuthorizationRow, reason: str) -> dict[str, Any]:
    """Revoke a parked grant at its provider and record why it was not kept."""
    revoked: dict[str, str] = {}
    try:
        with broker.db.session() as s:
            app = resolve_app(broker, find_app(s, row.app_id))
        grant, _ = _unseal_grant(broker, row)
        revoked = revoke_grant(broker, app, grant)
    except NotFound:  # the app was deleted meanwhile: its grants went with it
        revoked = {}
    outcome = {"outcome": "refused", "appId": row.app_id, "error": reason, "revoked": revoked}
    return _settle(broker, row, "refused", outcome)


def _confirm_parked(broker: Broker, row: PendingAuthorizationRow, user_id: str) -> dict[str, Any]:
    if now_s() > (row.granted_at or 0) + CONFIRM_WINDOW_S:
        return _refuse_parked(broker, row, "expired")
    if not user_id:
        return _refuse_parked(broker, row, "signed_out")
    if user_id != row.user_id:
        return _refuse_parked(broker, row, "other_user")
    refused = _refusal(broker, row)
    if refused is not None:
        return _refuse_parked(broker, row, refused.error)
    with broker.db.session() as s:
        app = resolve_app(broker, find_app(s, row.app_id))
    grant, sub = _unseal_grant(broker, row)
    return _settle(broker, row, "connected", _keep(broker, row, app, grant, sub))


def confirm_flow(broker: Broker, landing: str, user_id: str) -> dict[str, Any]:
    """What the broker says about the flow behind a landing ``flow`` id, once.

    ``user_id`` is whoever is signed in in the landing browser ("" for nobody). A parked grant
    is kept only for its initiator; every other answer is reported as recorded. Outcomes:
    ``connected``, ``error``, ``refused`` (with ``error`` = ``other_user``, ``signed_out``,
    ``expired`` or a tenant reason), ``used`` (already reported) or ``unknown``.
    """
    digest = broker.ring.digest(landing, purpose=LANDING_PURPOSE)
    return _report_once(broker, PendingAuthorizationRow.landing_digest == digest, user_id)


def confirm_started_flow(broker: Broker, state: str, user_id: str) -> dict[str, Any]:
    """``confirm_flow`` for a flow found by its ``state``, for callers that prove the landing
    otherwise: the Flows surface (broker/outbound/flows.py), whose sealed resume code only the
    browser sent back by the callback holds. Same outcomes as ``confirm_flow``.
    """
    digest = broker.ring.digest(state, purpose=STATE_PURPOSE)
    return _report_once(broker, PendingAuthorizationRow.state_digest == digest, user_id)


def _report_once(broker: Broker, found_by: Any, user_id: str) -> dict[str, Any]:
    with broker.db.session() as s:
        row = s.scalar(select(PendingAuthorizationRow).where(found_by))
        if row is None:
            return {"outcome": "unknown"}
        claimed = s.execute(
            update(PendingAuthorizationRow)
            .where(
                PendingAuthorizationRow.id == row.id, PendingAuthorizationRow.reported_at.is_(None)
            )
            .values(reported_at=now_s())
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return {"outcome": "used", "appId": row.app_id}
        s.expunge(row)
    if row.status == "awaiting":
        return _confirm_parked(broker, row, user_id)
    return dict(row.outcome or {"outcome": "error", "appId": row.app_id})


def flow_status(broker: Broker, user_id: str, state: str) -> dict[str, Any]:
    """The status of a flow, for its initiator only (found by the state they hold).

    ``pending`` (not back from the provider), ``expired``, ``called_back`` (finishing),
    ``awaiting`` (parked, waiting for the confirmation), ``connected``, ``failed``, ``refused``.
    """
    digest = broker.ring.digest(state, purpose=STATE_PURPOSE)
    with broker.db.session() as s:
        row = s.scalar(
            select(PendingAuthorizationRow).where(PendingAuthorizationRow.state_digest == digest)
        )
        if row is None or row.user_id != user_id:
            raise FlowNotFound("No connection of yours matches")
        status = row.status
        if status == "pending" and row.expires_at < now_s():
            status = "expired"
        outcome = row.outcome or {}
        return {"status": status, "appId": row.app_id, "error": str(outcome.get("error") or "")}


def sweep_flows(broker: Broker) -> None:
    """Revoke parked grants nobody confirmed in time; forget flows older than a day."""
    now = now_s()
    with broker.db.session() as s:
        stale = list(
            s.scalars(
                select(PendingAuthorizationRow).where(
                    PendingAuthorizationRow.status == "awaiting",
                    PendingAuthorizationRow.granted_at < now - CONFIRM_WINDOW_S,
                )
            ).all()
        )
        claimed = []
        for row in stale:  # claimed like a confirmation, so a late one answers ``used``
            taken = s.execute(
                update(PendingAuthorizationRow)
                .where(
                    PendingAuthorizationRow.id == row.id,
                    PendingAuthorizationRow.reported_at.is_(None),
                )
                .values(reported_at=now)
            )
            if getattr(taken, "rowcount", 0) == 1:
                claimed.append(row)
            s.expunge(row)
        s.execute(
            delete(PendingAuthorizationRow).where(
                PendingAuthorizationRow.created_at < now - KEEP_FLOWS_S,
                PendingAuthorizationRow.status != "awaiting",
            )
        )
    for row in claimed:
        _refuse_parked(broker, row, "expired")
