"""Outbound apps: create (plain or from a catalog template), update, delete, load, list.

The client secret is write-only: sealed at rest (context ``app:<id>:client_secret``) and never
returned; the wire object carries ``hasClientSecret`` instead (an extension field).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broker.config import origin_of
from broker.context import Broker
from broker.errors import (
    InvalidArguments,
    MissingArguments,
    ValidationFailed,
)
from broker.outbound.wire import AppFields, ByTemplateRequest, UrlParam
from broker.project.credentials import new_id
from broker.providers.catalog import ProviderTemplate, find_template, get_template
from broker.providers.oauth_client import ProviderError, fetch_metadata
from broker.providers.registration import find_app, secret_context
from broker.providers.url_policy import check_authorization_url, check_outbound_url
from broker.store.db import now_s
from broker.store.outbound import ManagedTokenRow, OutboundAppRow

DEMO_PROVIDER_URL = "http://127.0.0.1:8788"
_ACCESS_TYPES = {"", "offline", "online"}
_PROMPTS = {"none", "login", "consent", "select_account"}


def _params(params: list[UrlParam] | None) -> list[dict[str, str]]:
    return [{"key": p.key, "value": p.value} for p in params or [] if p.key]


def app_to_wire(row: OutboundAppRow) -> dict[str, Any]:
    """The OutboundApp object as Descope returns it (no secret), plus ``hasClientSecret``."""
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "logo": row.logo,
        "clientId": row.client_id,
        "templateId": row.template_id,
        "discoveryUrl": row.discovery_url,
        "authorizationUrl": row.authorization_url,
        "authorizationUrlParams": list(row.authorization_url_params or []),
        "tokenUrl": row.token_url,
        "tokenUrlParams": list(row.token_url_params or []),
        "revocationUrl": row.revocation_url,
        "defaultScopes": list(row.default_scopes or []),
        "defaultRedirectUrl": row.default_redirect_url,
        "callbackDomain": row.callback_domain,
        "pkce": row.pkce,
        "accessType": row.access_type,
        "prompt": list(row.prompt or []),
        "appType": row.app_type,
        "useDcr": row.use_dcr,
        "dcrUrl": row.dcr_url,
        "tenantId": row.tenant_id,
        "hasClientSecret": row.client_secret_sealed is not None,
    }


def _apply(broker: Broker, row: OutboundAppRow, fields: AppFields) -> None:
    """Overwrite every settable field of ``row`` from ``fields`` (None → empty, as update does)."""
    if not (fields.name or "").strip():
        raise MissingArguments("name is required")
    access_type = fields.access_type or ""
    if access_type not in _ACCESS_TYPES:
        raise InvalidArguments("accessType must be offline or online")
    prompt = list(fields.prompt or [])
    if not set(prompt) <= _PROMPTS:
        raise InvalidArguments("prompt values must be none, login, consent or select_account")
    for url in (fields.discovery_url, fields.token_url, fields.revocation_url):
        if url:
            check_outbound_url(url, broker.settings, resolve=False)
    if fields.authorization_url:
        check_authorization_url(fields.authorization_url)
    row.name = fields.name.strip()  # type: ignore[union-attr]
    row.description = fields.description or ""
    row.logo = fields.logo or ""
    row.client_id = fields.client_id or ""
    if fields.template_id is not None:
        row.template_id = fields.template_id
    row.discovery_url = fields.discovery_url or ""
    row.authorization_url = fields.authorization_url or ""
    row.authorization_url_params = _params(fields.authorization_url_params)
    row.token_url = fields.token_url or ""
    row.token_url_params = _params(fields.token_url_params)
    row.revocation_url = fields.revocation_url or ""
    row.default_scopes = [s for s in fields.default_scopes or [] if s]
    row.default_redirect_url = fields.default_redirect_url or ""
    row.callback_domain = fields.callback_domain or ""
    row.pkce = True if fields.pkce is None else fields.pkce
    row.access_type = access_type
    row.prompt = prompt
    row.app_type = fields.app_type or "oauth"
    row.use_dcr = bool(fields.use_dcr)
    row.dcr_url = fields.dcr_url or ""
    row.tenant_id = fields.tenant_id or ""
    if fields.client_secret:
        row.client_secret_sealed = broker.ring.seal(
            fields.client_secret, context=secret_context(row.id)
        )
    row.updated_at = now_s()
    _discover(broker, row)


def _discover(broker: Broker, row: OutboundAppRow) -> None:
    """Fill missing endpoints (and remember auth methods) from the discovery URL's metadata."""
    needs_endpoints = row.app_type == "oauth" and not (row.authorization_url and row.token_url)
    template = find_template(row.template_id)
    # A relative template (a self-hosted provider such as the demo) is asked for its metadata
    # too: its issuer and RFC 9207 support guard the callback against mix-up.
    if not row.discovery_url or (template and not template.relative and not needs_endpoints):
        return
    try:
        meta = fetch_metadata(broker.settings, row.discovery_url)
    except ProviderError as exc:
        if needs_endpoints:
            raise InvalidArguments(f"Cannot read provider metadata: {exc.error}") from None
        return
    row.provider_metadata = {
        k: meta[k]
        for k in (
            "issuer",
            "token_endpoint_auth_methods_supported",
            "code_challenge_methods_supported",
            "userinfo_endpoint",
            "scopes_supported",
            "authorization_response_iss_parameter_supported",
        )
        if k in meta
    }
    for attr, key in (
        ("authorization_url", "authorization_endpoint"),
        ("token_url", "token_endpoint"),
        ("revocation_url", "revocation_endpoint"),
    ):
        value = meta.get(key)
        if not getattr(row, attr) and isinstance(value, str) and value:
            # Checked exactly as if the operator had typed it: metadata is the provider's word.
            if attr == "authorization_url":
                check_authorization_url(value)
            else:
                check_outbound_url(value, broker.settings, resolve=False)
            setattr(row, attr, value)
    if needs_endpoints and not (row.authorization_url and row.token_url):
        raise InvalidArguments("Provider metadata lacks authorization or token endpoints")


def _insert(
    broker: Broker, session: Session, row: OutboundAppRow, fields: AppFields
) -> dict[str, Any]:
    if session.get(OutboundAppRow, row.id) is not None:
        raise ValidationFailed(f"Outbound app id {row.id!r} already exists")
    _apply(broker, row, fields)
    if session.scalar(select(OutboundAppRow.id).where(OutboundAppRow.name == row.name)):
        raise ValidationFailed(f"Outbound app name {row.name!r} already exists")
    session.add(row)
    session.flush()
    return app_to_wire(row)


def _new_row(app_id: str | None) -> OutboundAppRow:
    t = now_s()
    return OutboundAppRow(id=app_id or new_id("OA"), created_at=t, updated_at=t)


def create_app(broker: Broker, fields: AppFields) -> dict[str, Any]:
    """Create a custom app from the flat wire body; answers the app object."""
    with broker.db.session() as s:
        return _insert(broker, s, _new_row(fields.id), fields)


def template_fields(
    template: ProviderTemplate, *, base_url: str = "", variables: dict[str, str] | None = None
) -> AppFields:
    """An app's fields as a template sets them (endpoints made concrete)."""
    urls = template.endpoints(base_url=base_url, variables=variables)
    params = template.authorize_params
    return AppFields(
        name=template.name,
        description=template.description,
        logo=template.logo,
        template_id=template.id,
        discovery_url=urls.get("discovery_url"),
        authorization_url=urls.get("authorization_url"),
        token_url=urls.get("token_url"),
        revocation_url=urls.get("revocation_url"),
        default_scopes=list(template.default_scopes),
        pkce=template.pkce,
        access_type=params.get("access_type"),
        prompt=params["prompt"].split() if params.get("prompt") else None,
    )


def create_by_template(broker: Broker, req: ByTemplateRequest) -> dict[str, Any]:
    """Create an app from a catalog template, with the request's overrides on top."""
    template = get_template(req.template_id)
    base_url = req.base_url or ""
    overrides = req.overrides.model_dump(exclude_none=True) if req.overrides else {}
    if template.relative and not base_url:
        discovery = overrides.get("discovery_url") or ""
        base_url = origin_of(discovery) if discovery else DEMO_PROVIDER_URL
    fields = template_fields(template, base_url=base_url, variables=req.variables)
    merged = fields.model_copy(update=overrides)
    for key in ("client_id", "client_secret", "tenant_id"):
        if getattr(req, key) is not None:
            merged = merged.model_copy(update={key: getattr(req, key)})
    merged = merged.model_copy(update={"template_id": template.id})
    with broker.db.session() as s:
        return _insert(broker, s, _new_row(req.id or overrides.get("id")), merged)


def update_app(broker: Broker, fields: AppFields) -> dict[str, Any]:
    """Replace an app's fields (empty fields override populated ones; the secret is kept if absent)."""
    if not fields.id:
        raise MissingArguments("app.id is required")
    with broker.db.session() as s:
        row = find_app(s, fields.id)
        _apply(broker, row, fields)
        clash = s.scalar(
            select(OutboundAppRow.id).where(
                OutboundAppRow.name == row.name, OutboundAppRow.id != row.id
            )
        )
        if clash:
            raise ValidationFailed(f"Outbound app name {row.name!r} already exists")
        return app_to_wire(row)


def delete_app(broker: Broker, app_id: str) -> None:
    """Delete an app and every token stored for it."""
    with broker.db.session() as s:
        row = find_app(s, app_id)
        s.execute(delete(ManagedTokenRow).where(ManagedTokenRow.app_id == app_id))
        s.delete(row)


def load_app(broker: Broker, app_id: str) -> dict[str, Any]:
    """One app's wire object."""
    with broker.db.session() as s:
        return app_to_wire(find_app(s, app_id))


def list_apps(broker: Broker) -> list[dict[str, Any]]:
    """Every app's wire object, by name."""
    with broker.db.session() as s:
        rows = s.scalars(select(OutboundAppRow).order_by(OutboundAppRow.name)).all()
        return [app_to_wire(r) for r in rows]
