"""What a connect must still be true of when its grant is kept: tenant rights and the issuer.

* Tenant rights are read from the database at connect, at the callback and at confirmation,
  never from the JWT's ``tenants`` claim: a refresh JWT lives for weeks and keeps the
  memberships of the day it was signed (``tenant/remove`` does not reach it). A tenant-level
  token (shared by the tenant) needs the tenant-admin role as well (``ConnectSettings``).
* Mix-up (RFC 9207, RFC 9700 §4.4): one callback serves every app, so the authorization
  response must come from the server the request went to. When the provider's metadata
  advertises ``authorization_response_iss_parameter_supported``, ``iss`` is required and must be
  the issuer; an ``iss`` is compared whenever one arrives (with no known issuer, its origin must
  be the authorization endpoint's). The code is only redeemed at the token endpoint the app had
  at connect: an app whose token endpoint changed in between does not get it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from broker.config import origin_of
from broker.context import Broker
from broker.errors import Forbidden
from broker.outbound.connect_settings import connect_settings
from broker.providers.registration import OutboundApp
from broker.store.identity import UserTenant
from broker.store.outbound import PendingAuthorizationRow


class ConnectRefused(Exception):
    """A flow that may not complete: ``error`` is its code on the redirect, ``message`` a sentence."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def tenant_refusal(
    broker: Broker, session: Session, user_id: str, tenant_id: str, *, tenant_level: bool
) -> ConnectRefused | None:
    """Why this user may not connect for this tenant now (None when they may)."""
    if not tenant_id:
        return None
    admin_role = connect_settings(broker).tenant_admin_role
    membership = session.get(UserTenant, (user_id, tenant_id)) if user_id else None
    if membership is None:
        return ConnectRefused("not_tenant_member", "The user is not a member of this tenant.")
    if tenant_level and admin_role not in (membership.role_names or []):
        return ConnectRefused(
            "tenant_admin_required",
            f"Connecting the tenant's shared token needs the {admin_role!r} role in the tenant.",
        )
    return None


def check_tenant(
    broker: Broker, session: Session, user_id: str, tenant_id: str, *, tenant_level: bool
) -> None:
    """403 when the user may not connect for this tenant (see ``tenant_refusal``)."""
    refused = tenant_refusal(broker, session, user_id, tenant_id, tenant_level=tenant_level)
    if refused is not None:
        raise Forbidden(refused.message)


def check_issuer(pending: PendingAuthorizationRow, app: OutboundApp, iss: str) -> None:
    """Refuse an authorization response from another server than the app's (mix-up)."""
    if app.registration.token_url != pending.token_url:
        raise ConnectRefused(
            "app_changed", "The app's token endpoint changed during the connection; start again."
        )
    if pending.issuer:
        if not iss and pending.iss_required:
            raise ConnectRefused(
                "issuer_missing", "The provider's answer did not say which server issued it."
            )
        if iss and iss != pending.issuer:
            raise ConnectRefused(
                "issuer_mismatch",
                "The answer came from another authorization server than the app's.",
            )
    elif iss and origin_of(iss) != origin_of(app.authorization_url):
        raise ConnectRefused(
            "issuer_mismatch", "The answer came from another authorization server than the app's."
        )
