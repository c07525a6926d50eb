"""Outbound apps (reference §2, §3.1–§3.2): the app and catalog models, CRUD, catalog, connect.

Management calls (``Bearer pid:key``) create, update, delete and load apps. Listing apps and
connecting work with a user's refresh JWT alone (``as_user``), as Descope's widget does. The
provider catalog is in ``catalog.py``.

Errors keep their class but carry a sentence for what they mean here: an app that is gone, a
redirect URL that is not allowed, a connect the service refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import (
    ApiError,
    BadRequest,
    NotAllowed,
    NotFound,
    Unauthorized,
)
from dashboard.descope.parsing import mapping, text, texts
from dashboard.descope.secret import Secret

APP_GONE = "That app no longer exists (it may have just been deleted); the list has been reloaded."
REDIRECT_NOT_ALLOWED = (
    "That redirect URL is not on the service's allowed list; use the dashboard's landing page"
    " or ask an administrator to allow it."
)
CONNECT_REFUSED = (
    "The service refused to start this connection (for example, the tenant is not one of yours,"
    " or the app cannot be connected through OAuth)."
)
TOKEN_REFUSED = "The pasted refresh token was refused: it may have expired or been logged out."
NAME_TAKEN = "An app with that name or id already exists; choose another."


def _params(value: Any) -> tuple[tuple[str, str], ...]:
    """``[{key|name, value}]`` as pairs (the python SDK spells ``key`` as ``name``)."""
    if not isinstance(value, list):
        return ()
    pairs = []
    for item in value:
        entry = mapping(item)
        key = text(entry.get("key")) or text(entry.get("name"))
        if key:
            pairs.append((key, text(entry.get("value"))))
    return tuple(pairs)


@dataclass(frozen=True)
class OutboundApp:
    """Descope's OutboundApp object (the client secret is write-only and never read back)."""

    id: str
    name: str
    description: str = ""
    logo: str = ""
    client_id: str = ""
    template_id: str = ""
    discovery_url: str = ""
    authorization_url: str = ""
    authorization_url_params: tuple[tuple[str, str], ...] = ()
    token_url: str = ""
    token_url_params: tuple[tuple[str, str], ...] = ()
    revocation_url: str = ""
    default_scopes: tuple[str, ...] = ()
    default_redirect_url: str = ""
    callback_domain: str = ""
    pkce: bool = True
    access_type: str = ""
    prompt: tuple[str, ...] = ()
    app_type: str = "oauth"
    tenant_id: str = ""
    # The broker's extension field; None where the target (Descope cloud) does not say.
    has_client_secret: bool | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> OutboundApp:
        """Parse an OutboundApp object, leniently (missing and ``null`` fields read as empty)."""
        secret = data.get("hasClientSecret")
        return cls(
            id=text(data.get("id")),
            name=text(data.get("name")),
            description=text(data.get("description")),
            logo=text(data.get("logo")),
            client_id=text(data.get("clientId")),
            template_id=text(data.get("templateId")),
            discovery_url=text(data.get("discoveryUrl")),
            authorization_url=text(data.get("authorizationUrl")),
            authorization_url_params=_params(data.get("authorizationUrlParams")),
            token_url=text(data.get("tokenUrl")),
            token_url_params=_params(data.get("tokenUrlParams")),
            revocation_url=text(data.get("revocationUrl")),
            default_scopes=texts(data.get("defaultScopes")),
            default_redirect_url=text(data.get("defaultRedirectUrl")),
            callback_domain=text(data.get("callbackDomain")),
            pkce=data.get("pkce") is not False,
            access_type=text(data.get("accessType")),
            prompt=texts(data.get("prompt")),
            app_type=text(data.get("appType")) or "oauth",
            tenant_id=text(data.get("tenantId")),
            has_client_secret=secret if isinstance(secret, bool) else None,
        )

    def to_api(self) -> dict[str, Any]:
        """The wire object for create and update, composed as the Python SDK composes it.

        ``_compose_create_update_body`` sends ``name``, ``id``, ``description`` and ``logo``
        always (``null`` when unset), lists and ``pkce`` always, and every other field only when
        set. Update overwrites every field it is sent ("empty fields will override populated
        fields", §3.2), so an update carries the whole app as loaded. ``templateId`` (go sends
        it), ``appType`` and ``tenantId`` (docs) go beyond the Python SDK and are sent when set.
        """
        body: dict[str, Any] = {
            "name": self.name,
            "id": self.id or None,
            "description": self.description or None,
            "logo": self.logo or None,
        }
        optional = {
            "clientId": self.client_id,
            "templateId": self.template_id,
            "discoveryUrl": self.discovery_url,
            "authorizationUrl": self.authorization_url,
            "tokenUrl": self.token_url,
            "revocationUrl": self.revocation_url,
            "defaultRedirectUrl": self.default_redirect_url,
            "callbackDomain": self.callback_domain,
            "accessType": self.access_type,
            "appType": self.app_type,
            "tenantId": self.tenant_id,
        }
        body.update({k: v for k, v in optional.items() if v})
        body["authorizationUrlParams"] = [
            {"key": k, "value": v} for k, v in self.authorization_url_params
        ]
        body["tokenUrlParams"] = [{"key": k, "value": v} for k, v in self.token_url_params]
        body["defaultScopes"] = list(self.default_scopes)
        body["pkce"] = self.pkce
        body["prompt"] = list(self.prompt)
        return body


def _as(kind: type[ApiError], sentence: str, exc: ApiError) -> ApiError:
    """``exc`` re-raised as ``kind`` with the sentence of what it means here."""
    return kind(sentence, status=exc.status, code=exc.code, detail=exc.detail)


def _app_gone(exc: NotFound) -> ApiError:
    return _as(NotFound, APP_GONE, exc)


def list_apps(client: DescopeClient, *, as_user: bool = False) -> tuple[OutboundApp, ...]:
    """Every outbound app: with the management key, or as the client's user (``as_user``)."""
    data = client.call(
        "GET",
        "/v1/mgmt/outbound/apps",
        as_user="refresh" if as_user else None,
        management=not as_user,
    )
    items = mapping(data).get("apps")
    return tuple(
        OutboundApp.from_api(a) for a in items or [] if isinstance(a, Mapping) and a.get("id")
    )


def load_app(client: DescopeClient, app_id: str) -> OutboundApp:
    """One app by id (management key); NotFound with APP_GONE when it does not exist."""
    try:
        data = client.call("GET", f"/v1/mgmt/outbound/app/{app_id}", management=True)
    except NotFound as exc:
        raise _app_gone(exc) from exc
    return OutboundApp.from_api(mapping(mapping(data).get("app")))


def _created(data: Any) -> OutboundApp:
    return OutboundApp.from_api(mapping(mapping(data).get("app")))


def _name_taken(exc: BadRequest) -> ApiError:
    return _as(BadRequest, NAME_TAKEN, exc) if "already exists" in exc.detail else exc


def create_app(
    client: DescopeClient, app: OutboundApp, client_secret: Secret | None = None
) -> OutboundApp:
    """Create a custom OAuth app (the secret is sent once and never read back)."""
    body = app.to_api()
    if client_secret:
        body["clientSecret"] = client_secret.reveal()
    try:
        data = client.call("POST", "/v1/mgmt/outbound/app/create", management=True, json_body=body)
    except BadRequest as exc:
        raise _name_taken(exc) from exc
    return _created(data)


def create_by_template(
    client: DescopeClient,
    template_id: str,
    *,
    app_id: str = "",
    client_id: str = "",
    client_secret: Secret | None = None,
    overrides: Mapping[str, Any] | None = None,
    base_url: str = "",
    variables: Mapping[str, str] | None = None,
) -> OutboundApp:
    """Create an app from a catalog template; ``base_url`` and ``variables`` are extensions."""
    body: dict[str, Any] = {"templateId": template_id}
    for key, value in (("id", app_id), ("clientId", client_id), ("baseUrl", base_url)):
        if value:
            body[key] = value
    if client_secret:
        body["clientSecret"] = client_secret.reveal()
    if overrides:
        body["overrides"] = dict(overrides)
    if variables:
        body["variables"] = dict(variables)
    try:
        data = client.call(
            "POST", "/v1/mgmt/outbound/app/create/bytemplate", management=True, json_body=body
        )
    except BadRequest as exc:
        raise _name_taken(exc) from exc
    return _created(data)


def update_app(
    client: DescopeClient, app: OutboundApp, client_secret: Secret | None = None
) -> OutboundApp:
    """Replace an app's fields (``{app:{…}}``); the stored secret is kept unless one is given."""
    body = app.to_api()
    if client_secret:
        body["clientSecret"] = client_secret.reveal()
    try:
        data = client.call(
            "POST", "/v1/mgmt/outbound/app/update", management=True, json_body={"app": body}
        )
    except NotFound as exc:
        raise _app_gone(exc) from exc
    except BadRequest as exc:
        raise _name_taken(exc) from exc
    return _created(data)


def with_defaults(app: OutboundApp, scopes: Sequence[str], redirect_url: str) -> OutboundApp:
    """The app with new default scopes and default redirect URL, everything else unchanged."""
    cleaned = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip()))
    return replace(app, default_scopes=cleaned, default_redirect_url=redirect_url.strip())


def delete_app(client: DescopeClient, app_id: str) -> None:
    """Delete an app (and, on the service, every token stored for it)."""
    try:
        client.call(
            "POST", "/v1/mgmt/outbound/app/delete", management=True, json_body={"id": app_id}
        )
    except NotFound as exc:
        raise _app_gone(exc) from exc


@dataclass(frozen=True)
class ConnectRequest:
    """The options of Descope's ``connect()``: redirect URL, scopes, tenant (§2.2)."""

    app_id: str
    redirect_url: str
    scopes: tuple[str, ...] = ()
    tenant_id: str = ""

    def to_api(self) -> dict[str, Any]:
        """The connect body; no scopes means the app's default scopes."""
        options: dict[str, Any] = {"redirectUrl": self.redirect_url}
        if self.scopes:
            options["scopes"] = list(self.scopes)
        body: dict[str, Any] = {"appId": self.app_id, "options": options}
        if self.tenant_id:
            body["tenantId"] = self.tenant_id
        return body


def _connect_error(exc: ApiError, *, explicit_token: bool) -> ApiError:
    """The error a refused connect raises: one sentence for what went wrong."""
    if isinstance(exc, NotFound):
        return _as(NotFound, APP_GONE, exc)
    if isinstance(exc, BadRequest):
        if "redirect" in exc.detail.lower():
            return _as(BadRequest, REDIRECT_NOT_ALLOWED, exc)
        return _as(BadRequest, CONNECT_REFUSED, exc)
    if isinstance(exc, NotAllowed):
        return _as(NotAllowed, CONNECT_REFUSED, exc)
    if isinstance(exc, Unauthorized) and explicit_token:
        return _as(Unauthorized, TOKEN_REFUSED, exc)
    return exc


CONNECT_PATH = "/v1/outbound/oauth/connect"  # core-js, Descope's sample (reference §2.1)
MANAGEMENT_CONNECT_PATH = "/v1/mgmt/outbound/app/connect"  # the API docs, agent-auth


def _start_connect(client: DescopeClient, request: ConnectRequest) -> Any:
    """POST connect as core-js does; where that path is unknown (404 ``E011006``, "endpoint not
    found"), the documented management connect with the same refresh JWT and body."""
    body = request.to_api()
    try:
        return client.call("POST", CONNECT_PATH, as_user="refresh", json_body=body)
    except NotFound as exc:
        if exc.code != "E011006" or "endpoint" not in exc.detail.lower():
            raise
    return client.call("POST", MANAGEMENT_CONNECT_PATH, as_user="refresh", json_body=body)


def connect(client: DescopeClient, request: ConnectRequest) -> str:
    """Start a connect as the client's user; answers the authorization URL."""
    try:
        data = _start_connect(client, request)
    except ApiError as exc:
        raise _connect_error(exc, explicit_token=client.holds_given_jwt) from exc
    url = text(mapping(data).get("url"))
    if not url.startswith(("https://", "http://")):
        raise BadRequest("The service answered no usable authorization URL; try again.")
    return url
