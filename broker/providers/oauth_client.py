"""The OAuth 2.0 client side, on Authlib's protocol core: authorize URL, code exchange, refresh,
RFC 7009 revocation, and RFC 8414 / OIDC metadata.

Authlib's ``OAuth2Client`` does the protocol (request bodies, client authentication,
PKCE challenge, error parsing); a small session adapter sends its requests with the SSRF-guarded
httpx client, encoded as the provider wants (``ProviderQuirks``: JSON bodies, extra headers).
Failures become ``ProviderError``, classified permanent (the grant is dead: only a new connect
heals it) or transient (network, 5xx, 429: try again later), RFC codes and the provider's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import jwt
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.client import OAuth2Client

from broker.config import BrokerSettings
from broker.crypto import Secret
from broker.errors import DescopeError
from broker.providers.quirks import ProviderQuirks
from broker.providers.url_policy import guarded_client

# RFC 6749 §5.2 codes that mean the grant or the client registration is unusable as is.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "unsupported_grant_type",
        "invalid_request",
    }
)


class ProviderError(Exception):
    """The provider refused or could not be reached; ``permanent`` says whether retrying helps."""

    def __init__(self, error: str, description: str = "", *, permanent: bool) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.permanent = permanent


@dataclass(frozen=True)
class ClientRegistration:
    """What the broker needs to call one provider's token and revocation endpoints."""

    client_id: str
    client_secret: Secret | None
    auth_method: str
    token_url: str
    revocation_url: str
    token_params: Mapping[str, str]
    quirks: ProviderQuirks = field(default_factory=ProviderQuirks)


@dataclass(frozen=True)
class TokenGrant:
    """A token endpoint response (RFC 6749 §5.1), secrets wrapped."""

    access_token: Secret | None
    token_type: str
    expires_in: int | None
    refresh_token: Secret | None
    scope: str | None
    id_token_sub: str
    # Non-secret connection metadata the provider named (instance_url, team.id, realmId…).
    metadata: Mapping[str, str] = field(default_factory=dict)


class _GuardedSession:
    """The ``session`` Authlib's client posts through: applies its client auth, sends with httpx
    (as a JSON body when ``json_body`` is set, with the provider's extra headers)."""

    def __init__(self, client: httpx.Client, headers: Mapping[str, str]) -> None:
        self.client = client
        self.headers = dict(headers)
        self.json_body = False

    def post(
        self,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        **_: Any,
    ) -> httpx.Response:
        body = urlencode(data or {})
        sent_headers = {**(headers or {}), **self.headers}
        if auth is not None:
            url, sent_headers, body = auth.prepare("POST", url, sent_headers, body)
        if self.json_body:  # the same fields, client_secret_post ones included, as JSON
            sent_headers["Content-Type"] = "application/json"
            body = json.dumps(dict(parse_qsl(body, keep_blank_values=True)))
        return self.client.post(url, content=body, headers=sent_headers)


def _check_status(resp: httpx.Response) -> httpx.Response:
    if resp.status_code == 429 or resp.status_code >= 500:
        raise ProviderError(
            "temporarily_unavailable", f"provider answered HTTP {resp.status_code}", permanent=False
        )
    return resp


@contextmanager
def _protocol_client(
    settings: BrokerSettings, reg: ClientRegistration, *, json_body: bool | None = None
) -> Iterator[OAuth2Client]:
    """Authlib's client over the guarded session; ``json_body`` defaults to the token body."""
    with guarded_client(settings) as http:
        session = _GuardedSession(http, reg.quirks.request_headers)
        session.json_body = reg.quirks.token_body == "json" if json_body is None else json_body
        client = OAuth2Client(
            session,
            client_id=reg.client_id,
            client_secret=reg.client_secret.reveal() if reg.client_secret else None,
            token_endpoint_auth_method=reg.auth_method,
            revocation_endpoint_auth_method=reg.auth_method,
        )
        client.register_compliance_hook("access_token_response", _check_status)
        client.register_compliance_hook("refresh_token_response", _check_status)
        try:
            yield client
        except OAuth2Error as exc:
            error = str(exc.error or "server_error")
            permanent = reg.quirks.is_permanent(error, PERMANENT_ERRORS)
            raise ProviderError(error, str(exc.description or ""), permanent=permanent) from None
        except httpx.HTTPError as exc:
            raise ProviderError(
                "temporarily_unavailable", type(exc).__name__, permanent=False
            ) from None
        except DescopeError as exc:  # the SSRF guard refused the URL
            raise ProviderError("url_refused", exc.message, permanent=False) from None
        except ValueError as exc:  # a non-JSON answer from the token endpoint
            raise ProviderError("invalid_response", str(exc)[:200], permanent=False) from None


def id_token_claims(id_token: object) -> dict[str, Any]:
    """The claims of an id_token, unverified; empty when there is none or it is unreadable."""
    if not isinstance(id_token, str):
        return {}
    try:
        # Received straight from the token endpoint over TLS (OIDC Core §3.1.3.7): the claims
        # are labels here (sub, tid, email), never an authorization decision.
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def id_token_sub(id_token: object) -> str:
    """The ``sub`` claim of an id_token, or empty."""
    return str(id_token_claims(id_token).get("sub") or "")


def _seconds(value: object) -> int | None:
    try:
        return int(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None


def _grant_of(answer: Mapping[str, Any], quirks: ProviderQuirks) -> TokenGrant:
    token = quirks.token_set(answer)
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProviderError("invalid_response", "no access_token in the answer", permanent=False)
    refresh = token.get("refresh_token")
    scope = token.get("scope")
    claims = id_token_claims(token.get("id_token") or answer.get("id_token"))
    return TokenGrant(
        access_token=Secret(access),
        token_type=str(token.get("token_type") or "Bearer"),
        expires_in=_seconds(token.get("expires_in")),
        refresh_token=Secret(refresh) if isinstance(refresh, str) and refresh else None,
        scope=scope
        if isinstance(scope, str)
        else " ".join(scope)
        if isinstance(scope, list)
        else None,
        id_token_sub=str(claims.get("sub") or ""),
        metadata=quirks.metadata_of(answer, claims),
    )


def exchange_code(
    settings: BrokerSettings,
    reg: ClientRegistration,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> TokenGrant:
    """Trade an authorization code (and its PKCE verifier) for tokens (RFC 6749 §4.1.3)."""
    extra: dict[str, str] = dict(reg.token_params)
    if code_verifier:
        extra["code_verifier"] = code_verifier
    with _protocol_client(settings, reg) as client:
        token = client.fetch_token(
            reg.token_url,
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            **extra,
        )
        grant = _grant_of(token, reg.quirks)
    return _with_introspected_expiry(settings, reg, grant)


def refresh_grant(
    settings: BrokerSettings, reg: ClientRegistration, refresh_token: Secret
) -> TokenGrant:
    """Use a refresh token (RFC 6749 §6); the answer may or may not carry a new one."""
    with _protocol_client(settings, reg) as client:
        client.token = {"access_token": "", "token_type": "Bearer"}
        token = client.refresh_token(
            reg.token_url, refresh_token=refresh_token.reveal(), **dict(reg.token_params)
        )
        grant = _grant_of(token, reg.quirks)
    # Authlib copies the presented refresh token into answers that have none; say "none" then.
    if grant.refresh_token == refresh_token:
        grant = replace(grant, refresh_token=None)
    return _with_introspected_expiry(settings, reg, grant)


def _with_introspected_expiry(
    settings: BrokerSettings, reg: ClientRegistration, grant: TokenGrant
) -> TokenGrant:
    """A grant without ``expires_in`` given the expiry the provider's RFC 7662 endpoint reports
    (Salesforce), so the org's own session timeout is used, not an assumed lifetime."""
    path = reg.quirks.introspection_path
    if grant.expires_in is not None or not path or grant.access_token is None:
        return grant
    parts = urlsplit(reg.token_url)
    url = f"{parts.scheme}://{parts.netloc}{path}"
    try:
        with _protocol_client(settings, reg, json_body=False) as client:
            resp = client.introspect_token(
                url, token=grant.access_token.reveal(), token_type_hint="access_token"
            )
        answer = resp.json() if resp.status_code == 200 else {}
    except (ProviderError, ValueError):
        return grant  # the template's assumed lifetime applies
    exp = _seconds(answer.get("exp")) if isinstance(answer, dict) else None
    if not (isinstance(answer, dict) and answer.get("active") is True and exp):
        return grant
    return replace(grant, expires_in=max(0, exp - int(time.time())))


def revoke(settings: BrokerSettings, reg: ClientRegistration, token: Secret, hint: str) -> str:
    """RFC 7009 revocation, best effort: ``"revoked"``, ``"unsupported"`` or ``"failed"``."""
    if not reg.revocation_url:
        return "unsupported"
    quirks = reg.quirks
    as_json = quirks.revocation_body == "json"
    try:
        with _protocol_client(settings, reg, json_body=as_json) as client:
            resp = client.revoke_token(
                reg.revocation_url, token=token.reveal(), token_type_hint=None if as_json else hint
            )
    except ProviderError:
        return "failed"
    # RFC 7009 §2.2: 200 for a revoked (or already invalid) token; a provider answering errors
    # as 200 (Slack's ok:false) is read from the body.
    if resp.status_code != 200:
        return "failed"
    if quirks.ok_field:
        try:
            body = resp.json()
        except ValueError:
            return "failed"
        return "revoked" if quirks.answer_ok(body) else "failed"
    return "revoked"


def fetch_metadata(settings: BrokerSettings, url: str) -> dict[str, Any]:
    """Authorization-server metadata (RFC 8414 or OIDC discovery); ProviderError when unreadable."""
    try:
        with guarded_client(settings) as http:
            resp = http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ProviderError("metadata_unreachable", type(exc).__name__, permanent=False) from None
    if resp.status_code != 200:
        raise ProviderError("metadata_unreadable", f"HTTP {resp.status_code}", permanent=False)
    try:
        data = resp.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ProviderError("metadata_unreadable", "not a JSON object", permanent=False)
    return data


def userinfo_sub(settings: BrokerSettings, url: str, access_token: Secret) -> str:
    """The ``sub`` (or ``id``) the provider's userinfo endpoint reports; empty on any failure."""
    try:
        with guarded_client(settings) as http:
            resp = http.get(url, headers={"Authorization": f"Bearer {access_token.reveal()}"})
        data = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError, DescopeError):
        return ""
    if not isinstance(data, dict):
        return ""
    return str(data.get("sub") or data.get("id") or "")
