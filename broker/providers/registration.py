"""An app as the OAuth flow sees it: the stored row (found by id, client secret unsealed)
merged with its template's quirks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from broker.context import Broker
from broker.crypto import Secret
from broker.errors import APP_NOT_FOUND, NotFound
from broker.providers.catalog import ProviderTemplate, find_template
from broker.providers.oauth_client import ClientRegistration
from broker.providers.quirks import ProviderQuirks
from broker.store.outbound import OutboundAppRow

# When neither the token response nor a template says how long a token lives, assume an hour
# (never "forever": a token assumed immortal is never refreshed and silently dies).
FALLBACK_EXPIRES_IN = 3600


@dataclass(frozen=True)
class OutboundApp:
    """Everything connect, callback, refresh and revocation need about one app."""

    id: str
    app_type: str
    registration: ClientRegistration
    authorization_url: str
    authorize_params: dict[str, str]
    scope_separator: str
    scope_param: str
    pkce: bool
    default_scopes: tuple[str, ...]
    default_redirect_url: str
    default_expires_in: int
    keep_alive_days: int | None
    userinfo_url: str
    template: ProviderTemplate | None
    # RFC 9207: the issuer from the provider's metadata and whether it sends ``iss``.
    issuer: str = ""
    iss_supported: bool = False

    def join_scopes(self, scopes: list[str]) -> str:
        """The ``scope`` parameter for these scopes, with the provider's separator."""
        return self.scope_separator.join(scopes)

    def scope_params(self, scopes: list[str]) -> dict[str, str]:
        """The authorize parameter carrying ``scopes``: ``scope``, or the template's own
        (Slack user tokens: ``user_scope``); none when there are no scopes."""
        joined = self.join_scopes(scopes)
        return {self.scope_param: joined} if joined else {}

    def callback_metadata(self, query: dict[str, str]) -> dict[str, str]:
        """Non-secret values the provider adds to the callback query (QuickBooks ``realmId``)."""
        return self.registration.quirks.callback_metadata(query)

    def split_scopes(self, text: str) -> list[str]:
        """A ``scope`` value from the provider as a list (either separator is accepted)."""
        return [s for s in text.replace(",", " ").split() if s] if text else []


def secret_context(app_id: str) -> str:
    """The sealing context of an app's client secret."""
    return f"app:{app_id}:client_secret"


def client_secret_of(broker: Broker, row: OutboundAppRow) -> Secret | None:
    """The app's client secret, unsealed, or None."""
    if row.client_secret_sealed is None:
        return None
    return Secret(broker.ring.unseal(row.client_secret_sealed, context=secret_context(row.id)))


def find_app(session: Session, app_id: str) -> OutboundAppRow:
    """The app row; 404 (Descope error body) when there is none."""
    row = session.get(OutboundAppRow, app_id) if app_id else None
    if row is None:
        raise NotFound(f"Outbound app {app_id!r} not found", code=APP_NOT_FOUND)
    return row


def _auth_method(template: ProviderTemplate | None, row: OutboundAppRow, has_secret: bool) -> str:
    """Token-endpoint client authentication: template, else metadata, else basic (RFC 6749 §2.3.1)."""
    if not has_secret:
        return "none"
    if template is not None:
        return template.client_auth
    supported = (row.provider_metadata or {}).get("token_endpoint_auth_methods_supported") or []
    if "client_secret_basic" in supported or not supported:
        return "client_secret_basic"
    if "client_secret_post" in supported:
        return "client_secret_post"
    return "client_secret_basic"


def resolve_app(broker: Broker, row: OutboundAppRow) -> OutboundApp:
    """Merge an app row with its template (if any) into an ``OutboundApp``."""
    template = find_template(row.template_id)
    metadata = row.provider_metadata or {}
    secret = client_secret_of(broker, row)
    params: dict[str, str] = dict(template.authorize_params) if template else {}
    if row.access_type:
        params["access_type"] = row.access_type
    if row.prompt:
        params["prompt"] = " ".join(row.prompt)
    params.update({p["key"]: p["value"] for p in row.authorization_url_params or []})
    registration = ClientRegistration(
        client_id=row.client_id,
        client_secret=secret,
        auth_method=_auth_method(template, row, secret is not None),
        token_url=row.token_url,
        revocation_url=row.revocation_url,
        token_params={p["key"]: p["value"] for p in row.token_url_params or []},
        quirks=template.quirks if template else ProviderQuirks(),
    )
    return OutboundApp(
        id=row.id,
        app_type=row.app_type,
        registration=registration,
        authorization_url=row.authorization_url,
        authorize_params=params,
        scope_separator=template.scope_separator if template else " ",
        scope_param=template.scope_param if template else "scope",
        pkce=row.pkce,
        default_scopes=tuple(row.default_scopes or ()),
        default_redirect_url=row.default_redirect_url,
        default_expires_in=template.default_expires_in if template else FALLBACK_EXPIRES_IN,
        keep_alive_days=template.keep_alive_days if template else None,
        userinfo_url=str(metadata.get("userinfo_endpoint") or ""),
        template=template,
        issuer=str(metadata.get("issuer") or ""),
        iss_supported=metadata.get("authorization_response_iss_parameter_supported") is True,
    )
