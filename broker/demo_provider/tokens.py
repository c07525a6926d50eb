"""Access tokens: RS256 JWTs (RFC 9068 shape) that a dashboard can decode and the API verifies."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from broker.demo_provider.state import now_s

ALGORITHM = "RS256"


@dataclass(frozen=True)
class AccessToken:
    """The verified claims of an access token, with the grant (token family) it belongs to."""

    claims: dict[str, Any]

    @property
    def grant_id(self) -> str:
        """The grant the token was issued under (claim ``gid``)."""
        return str(self.claims["gid"])

    @property
    def scopes(self) -> list[str]:
        """The granted scopes."""
        return str(self.claims.get("scope", "")).split()


class AccessTokenSigner:
    """Mints and verifies the provider's access tokens with one RSA key."""

    def __init__(self, private_pem: str, issuer: str) -> None:
        private = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise TypeError("the demo provider signs with an RSA key")
        self._private = private
        self._public = private.public_key()
        self.issuer = issuer
        self.audience = f"{issuer}/api"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public))
        self.kid = hashlib.sha256(jwk["n"].encode()).hexdigest()[:16]
        self.jwk = {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def mint(self, *, sub: str, client_id: str, scope: str, grant_id: str, ttl_s: int) -> str:
        """A signed access token for ``sub`` valid ``ttl_s`` seconds."""
        iat = now_s()
        claims = {
            "iss": self.issuer,
            "sub": sub,
            "aud": self.audience,
            "client_id": client_id,
            "scope": scope,
            "iat": iat,
            "exp": iat + ttl_s,
            "jti": secrets.token_urlsafe(12),
            "gid": grant_id,
        }
        return jwt.encode(
            claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": "at+jwt"}
        )

    def verify(self, token: str, *, allow_expired: bool = False) -> AccessToken | None:
        """The token's claims if the signature, issuer, audience and expiry hold; else None."""
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iat", "sub", "gid", "client_id"],
                    "verify_exp": not allow_expired,
                },
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(claims)
