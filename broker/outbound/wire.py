"""Request bodies of the outbound endpoints, shaped exactly like Descope's wire format.

Field names are camelCase on the wire (aliases); every optional field accepts an explicit
``null`` (the Python SDK sends them); unknown fields are ignored (the Descope sample sends an
extra ``provider`` on connect). URL params arrive as ``{key,value}`` (go, node, docs) or
``{name,value}`` (python SDK) and are normalised to ``{key,value}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from broker.identity.wire import MAX_WIRE_INT


class WireModel(BaseModel):
    """Base: camelCase aliases, Python names accepted too, extra fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class UrlParam(WireModel):
    """One extra URL parameter; ``name`` is the python SDK's spelling of ``key``."""

    key: str = ""
    value: str = ""

    @model_validator(mode="before")
    @classmethod
    def _name_is_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("key") and data.get("name"):
            return {**data, "key": data["name"]}
        return data


class AppFields(WireModel):
    """The OutboundApp object's settable fields (reference §3.1); None means "not given"."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    logo: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    template_id: str | None = None
    discovery_url: str | None = None
    authorization_url: str | None = None
    authorization_url_params: list[UrlParam] | None = None
    token_url: str | None = None
    token_url_params: list[UrlParam] | None = None
    revocation_url: str | None = None
    default_scopes: list[str] | None = None
    default_redirect_url: str | None = None
    callback_domain: str | None = None
    pkce: bool | None = None
    access_type: str | None = None
    prompt: list[str] | None = None
    app_type: str | None = None
    use_dcr: bool | None = None
    dcr_url: str | None = None
    tenant_id: str | None = None


class UpdateAppRequest(WireModel):
    """``POST /v1/mgmt/outbound/app/update``: the app wrapped in ``app``."""

    app: AppFields


class ByTemplateRequest(WireModel):
    """``POST /v1/mgmt/outbound/app/create/bytemplate``.

    ``variables`` (an extension) fills URL placeholders such as Zendesk's ``{subdomain}``;
    ``baseUrl`` (an extension) is the base of a template with relative endpoints (the demo).
    """

    template_id: str = Field(min_length=1)
    id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    tenant_id: str | None = None
    overrides: AppFields | None = None
    variables: dict[str, str] | None = None
    base_url: str | None = None


class AppIdRequest(WireModel):
    """``POST /v1/mgmt/outbound/app/delete``."""

    id: str = Field(min_length=1)


class ConnectOptions(WireModel):
    """``options`` of a connect (``redirectURL`` was the pre-2025 spelling)."""

    redirect_url: str | None = None
    scopes: list[str] | None = None
    external_identifier: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_redirect_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("redirectUrl") and data.get("redirectURL"):
            return {**data, "redirectUrl": data["redirectURL"]}
        return data


class ConnectRequest(WireModel):
    """``POST /v1/outbound/oauth/connect`` and ``/v1/mgmt/outbound/app/connect``."""

    app_id: str = Field(min_length=1)
    tenant_id: str | None = None
    tenant_level: bool | None = None
    options: ConnectOptions | None = None


class TokenOptions(WireModel):
    """``options`` of a token fetch."""

    with_refresh_token: bool | None = None
    force_refresh: bool | None = None


class TokenFetchRequest(WireModel):
    """The four token fetch bodies (user/tenant × by-scopes/latest)."""

    app_id: str = Field(min_length=1)
    user_id: str | None = None
    tenant_id: str | None = None
    scopes: list[str] | None = None
    options: TokenOptions | None = None
    external_identifier: str | None = None


class ApiKeyUpload(WireModel):
    """``…/user/apikey/upload`` and ``…/tenant/apikey/upload``."""

    app_id: str = Field(min_length=1)
    user_id: str | None = None
    tenant_id: str | None = None
    api_key: str = Field(min_length=1)


class OAuthTokenUpload(WireModel):
    """One OAuth token to migrate in (``accessTokenExpiry`` is int epoch seconds; 0 = unknown)."""

    app_id: str = ""
    user_id: str | None = None
    tenant_id: str | None = None
    refresh_token: str | None = None
    access_token: str | None = None
    access_token_expiry: int | None = Field(default=None, ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)
    access_token_type: str | None = None
    scopes: list[str] | None = None
    external_identifier: str | None = None
    id_token: str | None = None
    granted_by: str | None = None
    verify_refresh: bool | None = None


class BatchUpload(WireModel):
    """``…/oauthtoken/batch/upload``: all or nothing."""

    tokens: list[OAuthTokenUpload]


class FlowConfirmRequest(WireModel):
    """``POST /v1/x/outbound/oauth/confirm`` (extension): the landing URL's one-time ``flow``."""

    flow: str = Field(min_length=1, max_length=200)


class FlowStatusRequest(WireModel):
    """``POST /v1/x/outbound/oauth/status`` (extension): the ``state`` of the initiator's URL."""

    state: str = Field(min_length=1, max_length=200)


class ReconnectLinkRequest(WireModel):
    """``POST /v1/x/mgmt/outbound/reconnect/link`` (extension): the dead token's id."""

    token_id: str = Field(min_length=1, max_length=64)


class ReconnectRequest(WireModel):
    """``POST /v1/x/outbound/oauth/reconnect`` (extension): a reconnect link, used by its user."""

    link: str = Field(min_length=1, max_length=200)
    redirect_url: str = Field(min_length=1, max_length=2000)
