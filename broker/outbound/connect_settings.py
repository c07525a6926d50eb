"""Connect settings, read from ``BrokerSettings.connect`` (``ConnectOptions``) or the environment.

* ``confirmation`` (``OUTBOUND_CONNECT_CONFIRMATION``, default on): the user verifier. The
  callback parks the grant and the signed-in initiator must confirm it
  (``POST /v1/x/outbound/oauth/confirm``) before it is stored. Off: the callback stores the
  grant at once, as Descope's cloud does (for apps that only speak Descope's wire).
* ``tenant_admin_role`` (``OUTBOUND_TENANT_ADMIN_ROLE``, default ``Tenant Admin``, Descope's
  built-in role): the role a user needs in a tenant to connect or replace its tenant token.
* ``reconnect_link_ttl_s`` (``OUTBOUND_RECONNECT_LINK_TTL``, default one day).
* ``strict_descope`` (``OUTBOUND_STRICT_DESCOPE``, or the broker's ``--strict-descope``):
  Descope's surface only, so the broker-only parts (confirmation, the landing id, reconnect
  links) are off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from broker.config import BrokerSettings
from broker.context import Broker, ServiceKey

_TRUE = {"1", "true", "yes", "on"}


def _flag(raw: object) -> bool:
    return raw is True or str(raw).strip().lower() in _TRUE


@dataclass(frozen=True)
class ConnectSettings:
    """Who may finish a connect, and how long a reconnect link lives."""

    confirmation: bool = True
    tenant_admin_role: str = "Tenant Admin"
    reconnect_link_ttl_s: int = 24 * 3600
    strict_descope: bool = False

    @property
    def confirm_required(self) -> bool:
        """Whether a grant waits for its initiator's confirmation (never in strict mode)."""
        return self.confirmation and not self.strict_descope

    @property
    def extensions(self) -> bool:
        """Whether the broker-only parts (landing id, status, reconnect links) are served."""
        return not self.strict_descope

    @classmethod
    def of(cls, settings: BrokerSettings) -> ConnectSettings:
        """Values in ``settings.connect`` win over ``OUTBOUND_*`` variables."""
        given, env = settings.connect, os.environ
        confirmation = given.confirmation
        if confirmation is None:
            confirmation = _flag(env.get("OUTBOUND_CONNECT_CONFIRMATION", "1"))
        strict = given.strict_descope
        if strict is None:
            strict = _flag(env.get("OUTBOUND_STRICT_DESCOPE", ""))
        role = given.tenant_admin_role or env.get("OUTBOUND_TENANT_ADMIN_ROLE")
        ttl = given.reconnect_link_ttl_s or env.get("OUTBOUND_RECONNECT_LINK_TTL")
        return cls(
            confirmation=confirmation,
            tenant_admin_role=str(role or cls.tenant_admin_role),
            reconnect_link_ttl_s=int(ttl or cls.reconnect_link_ttl_s),
            strict_descope=settings.strict_descope or strict,
        )


_SETTINGS = ServiceKey("connect.settings", lambda broker: ConnectSettings.of(broker.settings))


def connect_settings(broker: Broker) -> ConnectSettings:
    """This broker's connect settings (parsed once)."""
    return broker.service(_SETTINGS)
