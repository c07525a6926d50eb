"""Managed outbound tokens: fetch, list the apps a user is connected to, delete (§3.3–§3.5).

Every call is a management call (``Bearer pid:key``) except ``apps_with_user_token``, which a
signed-in user may also make about themselves with their refresh JWT (``as_user``). Tokens come
back as ``ManagedToken`` with the access and refresh tokens wrapped in ``Secret``: a repr, a log
line or a cache never shows them; ``reveal()`` is the one explicit way out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import ApiError, NotFound
from dashboard.descope.fetch_errors import NOT_CONNECTED as NOT_CONNECTED
from dashboard.descope.fetch_errors import ProviderUnavailable as ProviderUnavailable
from dashboard.descope.fetch_errors import TokenRefused as TokenRefused
from dashboard.descope.fetch_errors import fetch_error
from dashboard.descope.parsing import mapping, number, text, texts, timestamp
from dashboard.descope.secret import Secret

_UNFETCHED = "unfetched:"

RevocationResult = Literal["revoked", "failed", "unsupported", "none", "unknown"]
_RESULTS: tuple[RevocationResult, ...] = ("revoked", "failed", "unsupported", "none")


def _metadata(value: Any) -> dict[str, str] | None:
    """The ``providerMetadata`` extension: string values only; None when the target sends none."""
    if not isinstance(value, Mapping):
        return None
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float) and k}


def _optional_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class ManagedToken:
    """Descope's OutboundAppToken, plus the broker's extension fields when it sends them."""

    id: str
    app_id: str
    user_id: str
    tenant_id: str
    token_sub: str
    access_token: Secret
    access_token_type: str
    access_token_expiry: datetime | None
    has_refresh_token: bool
    refresh_token: Secret | None
    last_refresh_time: datetime | None
    last_refresh_error: str
    scopes: tuple[str, ...]
    granted_by: str
    external_identifier: str
    # Extensions of the embedded broker; None when the target (Descope cloud) leaves them out.
    status: str | None = None
    next_refresh_time: datetime | None = None
    failure_count: int | None = None
    requested_scopes: tuple[str, ...] | None = None
    expiry_assumed: bool | None = None
    token_kind: str | None = None
    # Non-secret values the provider named (Salesforce instance_url, Slack team_id, realmId).
    provider_metadata: Mapping[str, str] | None = None

    @classmethod
    def unfetched(cls, app_id: str, user_id: str, tenant_id: str) -> ManagedToken:
        """A token known only by its owner and app (its fetch has not answered it)."""
        return cls(
            id=f"{_UNFETCHED}{app_id}:{user_id}:{tenant_id}",
            app_id=app_id,
            user_id=user_id,
            tenant_id=tenant_id,
            token_sub="",
            access_token=Secret(""),
            access_token_type="Bearer",
            access_token_expiry=None,
            has_refresh_token=False,
            refresh_token=None,
            last_refresh_time=None,
            last_refresh_error="",
            scopes=(),
            granted_by="",
            external_identifier="",
        )

    @property
    def fetched(self) -> bool:
        """Whether the service answered this token (else only its owner, app and outcome are
        known, from a refused fetch: its id is not the service's)."""
        return not self.id.startswith(_UNFETCHED)

    def refused(self, exc: TokenRefused | ProviderUnavailable) -> ManagedToken:
        """This token as its refused fetch classifies it (the service's sentence as the error)."""
        if isinstance(exc, ProviderUnavailable):
            status = "refresh_failed"
        else:
            status = "expired" if exc.expired else "needs_reauth"
        return replace(self, status=status, last_refresh_error=exc.sentence)

    def without_secrets(self) -> ManagedToken:
        """The same metadata with the access and refresh tokens dropped (safe to cache)."""
        return replace(self, access_token=Secret(""), refresh_token=None)

    @property
    def is_tenant_token(self) -> bool:
        """Whether the token belongs to a tenant rather than a user."""
        return not self.user_id and bool(self.tenant_id)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ManagedToken:
        """Parse one OutboundAppToken (the ``token`` of a fetch answer), leniently."""
        refresh = text(data.get("refreshToken"))
        failures = number(data.get("failureCount"))
        requested = data.get("requestedScopes")
        return cls(
            id=text(data.get("id")),
            app_id=text(data.get("appId")),
            user_id=text(data.get("userId")),
            tenant_id=text(data.get("tenantId")),
            token_sub=text(data.get("tokenSub")),
            access_token=Secret(text(data.get("accessToken"))),
            access_token_type=text(data.get("accessTokenType")) or "Bearer",
            access_token_expiry=timestamp(data.get("accessTokenExpiry")),
            has_refresh_token=bool(data.get("hasRefreshToken")),
            refresh_token=Secret(refresh) if refresh else None,
            last_refresh_time=timestamp(data.get("lastRefreshTime")),
            last_refresh_error=text(data.get("lastRefreshError")),
            scopes=texts(data.get("scopes")),
            granted_by=text(data.get("grantedBy")),
            external_identifier=text(data.get("externalIdentifier")),
            status=text(data.get("status")) or None,
            next_refresh_time=timestamp(data.get("nextRefreshTime")),
            failure_count=int(failures) if failures is not None else None,
            requested_scopes=texts(requested) if isinstance(requested, list) else None,
            expiry_assumed=_optional_bool(data.get("expiryAssumed")),
            token_kind=text(data.get("tokenKind")) or None,
            provider_metadata=_metadata(data.get("providerMetadata")),
        )


@dataclass(frozen=True)
class Revocation:
    """What happened at the provider to one deleted token's access and refresh tokens."""

    token_id: str
    access_token: RevocationResult
    refresh_token: RevocationResult

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Revocation:
        """Parse one ``{id, accessToken, refreshToken}`` outcome of the broker's delete."""
        return cls(
            token_id=text(data.get("id")),
            access_token=_result(data.get("accessToken")),
            refresh_token=_result(data.get("refreshToken")),
        )


def _result(value: Any) -> RevocationResult:
    return next((r for r in _RESULTS if r == value), "unknown")


@dataclass(frozen=True)
class DeleteOutcome:
    """The tokens a delete removed and, when the target reports it, their revocation."""

    revocations: tuple[Revocation, ...]
    reported: bool

    @property
    def deleted(self) -> int:
        """How many tokens were deleted (known only when the target reports revocations)."""
        return len(self.revocations)

    @property
    def sentence(self) -> str:
        """The outcome in one sentence for the person."""
        if not self.reported:
            return "Deleted; the service does not report whether the provider revoked the tokens."
        if not self.revocations:
            return "There was no token to delete."
        results = [r.refresh_token for r in self.revocations] + [
            r.access_token for r in self.revocations
        ]
        noun = "token" if self.deleted == 1 else "tokens"
        if "failed" in results:
            return (
                f"Deleted {self.deleted} {noun}, but the provider did not confirm the revocation;"
                " revoke it in the provider's console to be sure."
            )
        if "revoked" in results:
            them = "it" if self.deleted == 1 else "them"
            return f"Deleted {self.deleted} {noun} and revoked {them} at the provider."
        if "unsupported" in results:
            return (
                f"Deleted {self.deleted} {noun}; the provider offers no revocation, so they stay"
                " valid there until they expire."
            )
        return f"Deleted {self.deleted} {noun}."

    @classmethod
    def from_api(cls, data: Any) -> DeleteOutcome:
        """Parse a delete answer: ``{}`` (Descope) or ``{revocations:[…]}`` (the broker)."""
        items = mapping(data).get("revocations")
        if not isinstance(items, list):
            return cls(revocations=(), reported=False)
        return cls(
            revocations=tuple(Revocation.from_api(i) for i in items if isinstance(i, Mapping)),
            reported=True,
        )


def _options(force_refresh: bool, with_refresh_token: bool) -> dict[str, bool] | None:
    options = {}
    if force_refresh:
        options["forceRefresh"] = True
    if with_refresh_token:
        options["withRefreshToken"] = True
    return options or None


def _fetch(client: DescopeClient, path: str, body: dict[str, Any]) -> ManagedToken:
    try:
        data = client.call("POST", path, management=True, json_body=body)
    except ApiError as exc:
        refused = fetch_error(exc)
        if refused is exc:
            raise
        raise refused from exc
    return ManagedToken.from_api(mapping(mapping(data).get("token")))


def _body(
    app_id: str,
    owner: Mapping[str, str | None],
    *,
    scopes: Sequence[str] | None = None,
    force_refresh: bool = False,
    with_refresh_token: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {"appId": app_id}
    body.update({k: v for k, v in owner.items() if v})
    if scopes is not None:
        body["scopes"] = list(scopes)
    options = _options(force_refresh, with_refresh_token)
    if options:
        body["options"] = options
    return body


def latest_user_token(
    client: DescopeClient,
    app_id: str,
    user_id: str,
    *,
    tenant_id: str | None = None,
    force_refresh: bool = False,
    with_refresh_token: bool = False,
) -> ManagedToken:
    """The user's newest token for an app; NotFound (one sentence) when not connected."""
    body = _body(
        app_id,
        {"userId": user_id, "tenantId": tenant_id},
        force_refresh=force_refresh,
        with_refresh_token=with_refresh_token,
    )
    return _fetch(client, "/v1/mgmt/outbound/app/user/token/latest", body)


def user_token_by_scopes(
    client: DescopeClient,
    app_id: str,
    user_id: str,
    scopes: Sequence[str],
    *,
    tenant_id: str | None = None,
    force_refresh: bool = False,
    with_refresh_token: bool = False,
) -> ManagedToken:
    """The user's newest token holding every one of ``scopes``; NotFound when none does."""
    body = _body(
        app_id,
        {"userId": user_id, "tenantId": tenant_id},
        scopes=scopes,
        force_refresh=force_refresh,
        with_refresh_token=with_refresh_token,
    )
    return _fetch(client, "/v1/mgmt/outbound/app/user/token", body)


def latest_tenant_token(
    client: DescopeClient,
    app_id: str,
    tenant_id: str,
    *,
    force_refresh: bool = False,
    with_refresh_token: bool = False,
) -> ManagedToken:
    """The tenant's newest token for an app; NotFound when the tenant is not connected."""
    body = _body(
        app_id,
        {"tenantId": tenant_id},
        force_refresh=force_refresh,
        with_refresh_token=with_refresh_token,
    )
    return _fetch(client, "/v1/mgmt/outbound/app/tenant/token/latest", body)


def tenant_token_by_scopes(
    client: DescopeClient,
    app_id: str,
    tenant_id: str,
    scopes: Sequence[str],
    *,
    force_refresh: bool = False,
    with_refresh_token: bool = False,
) -> ManagedToken:
    """The tenant's newest token holding every one of ``scopes``; NotFound when none does."""
    body = _body(
        app_id,
        {"tenantId": tenant_id},
        scopes=scopes,
        force_refresh=force_refresh,
        with_refresh_token=with_refresh_token,
    )
    return _fetch(client, "/v1/mgmt/outbound/app/tenant/token", body)


def apps_with_user_token(
    client: DescopeClient,
    user_id: str,
    *,
    tenant_id: str | None = None,
    as_user: bool = False,
) -> tuple[str, ...]:
    """Ids of the apps a user holds a usable token for.

    With the management key by default; ``as_user`` (the client's user's refresh JWT) asks
    about themselves and sends ``userId=<me>``, as Descope's outbound-applications widget does
    (reference §8).
    """
    params = {k: v for k, v in (("userId", user_id), ("tenantId", tenant_id)) if v}
    data = client.call(
        "GET",
        "/v1/mgmt/outbound/apps-with-user-token",
        as_user="refresh" if as_user else None,
        management=not as_user,
        params=params,
    )
    return texts(mapping(data).get("appIds"))


def delete_user_tokens(
    client: DescopeClient, *, app_id: str | None = None, user_id: str | None = None
) -> DeleteOutcome:
    """Delete (and, on the broker, revoke) the tokens of an app and/or a user."""
    params = {k: v for k, v in (("appId", app_id), ("userId", user_id)) if v}
    if not params:
        raise ValueError("delete_user_tokens needs an app id or a user id")
    data = client.call("DELETE", "/v1/mgmt/outbound/user/tokens", management=True, params=params)
    return DeleteOutcome.from_api(data)


def delete_token(client: DescopeClient, token_id: str) -> DeleteOutcome:
    """Delete (and, on the broker, revoke) one token by its id."""
    try:
        data = client.call(
            "DELETE", "/v1/mgmt/outbound/token", management=True, params={"id": token_id}
        )
    except NotFound as exc:
        raise NotFound(
            "That token no longer exists; refresh the list.",
            status=exc.status,
            code=exc.code,
            detail=exc.detail,
        ) from exc
    return DeleteOutcome.from_api(data)
