"""The OAuth grants and endpoints, as Authlib subclasses wired to the provider's state and faults.

* authorization code with PKCE S256 required of every client (RFC 7636), codes single use;
  replaying a used code revokes the grant it produced (RFC 6749 §4.1.2);
* refresh tokens rotate; presenting a rotated one revokes the whole grant (OAuth 2.1 §4.3.1);
* revocation (RFC 7009) of an access or refresh token ends the grant and all its tokens;
* introspection (RFC 7662) for the client the token was issued to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from broker.demo_provider.directory import DemoUser, user_by_id
from broker.demo_provider.server import AcmeAuthorizationServer, FormRequest
from broker.demo_provider.state import (
    CODE_TTL_S,
    SECRET_METHODS,
    AuthorizationCode,
    Client,
    RefreshStatus,
    RefreshToken,
    now_s,
)

CLIENT_AUTH = (*SECRET_METHODS, "none")


@dataclass(frozen=True)
class Approval:
    """The resource owner's yes at the consent page, with the scopes they left ticked."""

    user: DemoUser
    scopes: tuple[str, ...] | None = None  # None: everything requested

    def get_user_id(self) -> str:
        """The approving person's id."""
        return self.user.id

    def granted(self, requested: str) -> str:
        """The requested scope narrowed to what was approved."""
        asked = requested.split()
        return " ".join(s for s in asked if self.scopes is None or s in self.scopes)


@dataclass(frozen=True)
class GrantedUser:
    """The person a token is issued for, and the grant (token family) it belongs to."""

    user: DemoUser
    grant_id: str

    def get_user_id(self) -> str:
        """The token subject."""
        return self.user.id


@dataclass(frozen=True)
class PresentedToken:
    """An access or refresh token someone presented, resolved against the provider's state."""

    kind: Literal["access_token", "refresh_token"]
    client_id: str
    user_id: str
    grant_id: str
    scope: str
    status: RefreshStatus | Literal["expired"]
    iat: int
    exp: int | None = None

    def check_client(self, client: Client) -> bool:
        """Was it issued to this client?"""
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        """The token's scope."""
        return self.scope

    def is_expired(self) -> bool:
        """Past its ``exp`` (access tokens only)."""
        return self.status == "expired"

    def is_revoked(self) -> bool:
        """Rotated or revoked."""
        return self.status in ("rotated", "revoked")

    def describe(self, issuer: str) -> dict[str, Any]:
        """RFC 7662 introspection fields (``active`` added by the caller)."""
        user = user_by_id(self.user_id)
        body: dict[str, Any] = {
            "client_id": self.client_id,
            "token_type": self.kind,
            "scope": self.scope,
            "sub": self.user_id,
            "iss": issuer,
            "iat": self.iat,
        }
        if user is not None:
            body["username"] = user.email
        if self.exp is not None:
            body["exp"] = self.exp
        return body


def find_token(
    server: AcmeAuthorizationServer, token: str, hint: str | None = None
) -> PresentedToken | None:
    """Resolve an access token (JWT) or refresh token, whatever its status; None if unknown."""
    if hint != "refresh_token":
        access = server.signer.verify(token, allow_expired=True)
        if access is not None:
            grant = server.state.grant(access.grant_id)
            if grant is None:
                return None
            claims = access.claims
            status: RefreshStatus | Literal["expired"] = "active"
            if grant.revoked_at is not None:
                status = "revoked"
            elif claims["exp"] <= now_s():
                status = "expired"
            return PresentedToken(
                "access_token",
                claims["client_id"],
                claims["sub"],
                grant.grant_id,
                claims.get("scope", ""),
                status,
                claims["iat"],
                claims["exp"],
            )
    record = server.state.refresh_token(token)
    if record is None:
        return None
    return PresentedToken(
        "refresh_token",
        record.client_id,
        record.user_id,
        record.grant_id,
        record.scope,
        record.status,
        record.issued_at,
    )


class S256Required(CodeChallenge):  # type: ignore[misc]  # Authlib ships no type information
    """PKCE with S256 for every client, public or confidential (``plain`` is refused)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """Refuse an authorization request without an S256 code challenge."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be 'S256'.")
        super().validate_code_challenge(grant, redirect_uri)


class _IssuesTokens:
    """Token responses shaped by the fault switches (scope narrowing, no refresh token…)."""

    server: AcmeAuthorizationServer
    request: FormRequest

    def generate_token(
        self,
        user: GrantedUser,
        scope: str,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """Mint the access token JWT and, unless a fault withholds it, a refresh token."""
        faults = self.server.faults
        dropped = faults.take("narrow_scopes") or []
        scope = " ".join(s for s in scope.split() if s not in dropped)
        client: Client = self.request.client
        ttl = self.server.access_token_ttl_s(client)
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.server.signer.mint(
                sub=user.user.id,
                client_id=client.client_id,
                scope=scope,
                grant_id=user.grant_id,
                ttl_s=ttl,
            ),
            "expires_in": ttl,
            "scope": scope,
        }
        if faults.take("omit_expires_in"):
            del token["expires_in"]
        if include_refresh_token and not faults.take("no_refresh_token"):
            token["refresh_token"] = generate_token(48)
        return token


class CodeGrant(_IssuesTokens, AuthorizationCodeGrant):  # type: ignore[misc]
    """Authorization code grant; the code remembers the PKCE challenge and approved scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def save_authorization_code(self, code: str, request: FormRequest) -> None:
        """Store the code's digest with everything the token request will be checked against."""
        approval: Approval = request.user
        data = request.payload.data
        self.server.state.add_code(
            code,
            AuthorizationCode(
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=approval.granted(request.scope),
                user_id=approval.user.id,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=now_s() + CODE_TTL_S,
            ),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """An unused code of this client; a replayed code revokes what it produced."""
        record = self.server.state.code(code)
        if record is None or record.client_id != client.client_id:
            return None
        if record.grant_id is not None:
            self.server.state.revoke_grant(record.grant_id, "authorization_code_reuse")
            raise InvalidGrantError("Authorization code reuse; its tokens are revoked.")
        return record

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Mark the code used, remembering the grant it became."""
        self.server.state.consume_code(authorization_code, self.request.user.grant_id)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> GrantedUser | None:
        """The approving person, under a new grant id."""
        user = user_by_id(authorization_code.user_id)
        return None if user is None else GrantedUser(user, secrets.token_urlsafe(12))


class RefreshGrant(_IssuesTokens, RefreshTokenGrant):  # type: ignore[misc]
    """Refresh token grant with rotation and reuse detection."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        """An active refresh token; a rotated one is reuse and revokes its whole grant."""
        record = self.server.state.refresh_token(refresh_token)
        if record is None:
            return None
        if record.status == "rotated":
            self.server.state.revoke_grant(record.grant_id, "refresh_token_reuse")
            self.server.stats.event("reuse_detected")
            raise InvalidGrantError("Refresh token reuse detected; the grant is revoked.")
        return record if record.status == "active" else None

    def authenticate_user(self, refresh_token: RefreshToken) -> GrantedUser | None:
        """The grant's person."""
        user = user_by_id(refresh_token.user_id)
        return None if user is None else GrantedUser(user, refresh_token.grant_id)

    def issue_token(self, user: GrantedUser, refresh_token: RefreshToken) -> dict[str, Any]:
        """A new pair; with ``non_rotating`` the presented refresh token is handed back."""
        presented = self.request.form["refresh_token"]
        if self.server.faults.take("non_rotating"):
            scope = self.request.payload.scope or refresh_token.get_scope()
            token = self.generate_token(user, scope, include_refresh_token=False)
            token["refresh_token"] = presented
        else:
            token = super().issue_token(user, refresh_token)
        self._rotated = token.get("refresh_token") not in (None, presented)
        return token

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Retire the presented refresh token once a different one was issued in its place."""
        if self._rotated:
            self.server.state.retire_refresh_token(self.request.form["refresh_token"])


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: revoking an access or a refresh token ends the grant and all its tokens."""

    CLIENT_AUTH_METHODS = CLIENT_AUTH
    server: AcmeAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        """The presented token, if the provider issued it."""
        return find_token(self.server, token_string, token_type_hint)

    def revoke_token(self, token: PresentedToken, request: FormRequest) -> None:
        """Revoke the token's whole grant."""
        self.server.state.revoke_grant(token.grant_id, "revoked")


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662, for the client the token was issued to (client-authenticated)."""

    CLIENT_AUTH_METHODS = SECRET_METHODS
    server: AcmeAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> PresentedToken | None:
        """The presented token, if the provider issued it."""
        return find_token(self.server, token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client: Client, request: Any) -> bool:
        """Only the token's own client may introspect it."""
        return token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        """The RFC 7662 fields of an active token."""
        return token.describe(self.server.signer.issuer)


def register_grants(server: AcmeAuthorizationServer) -> None:
    """The code grant (PKCE S256 required), refresh, revocation and introspection on ``server``."""
    server.register_grant(CodeGrant, [S256Required()])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
