"""RS256 signing keys and the session/refresh JWTs minted with them.

Keys are created once at start-up (before workers fork), sealed at rest, published at
``/v2/keys/{projectId}`` with ``kid`` and ``alg`` (the Python SDK skips a JWK without ``alg``,
reference §11), and kept published after rotation until the last token they signed expires.

Verifying needs only public keys, read from the published JWKs (nothing is decrypted). A token
naming a ``kid`` not in memory re-reads them at most once per ``RELOAD_INTERVAL_S``, so a flood
of forged kids costs a dictionary miss, not a database read and an RSA key parse each. Only
minting opens a private key, once per current key.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from broker.crypto import KeyRing
from broker.errors import Unauthorized
from broker.store.db import Database, now_s
from broker.store.identity import SigningKey

ALGORITHM = "RS256"
Drn = Literal["DS", "DSR"]
# A key minted by another worker (after a rotation) is found within this many seconds.
RELOAD_INTERVAL_S = 5.0


@dataclass(frozen=True)
class _CurrentKey:
    kid: str
    private_key: Any


class SigningKeys:
    """The project's signing keys, cached in memory and reloaded when an unknown kid appears."""

    def __init__(self, db: Database, ring: KeyRing, project_id: str) -> None:
        self._db = db
        self._ring = ring
        self._project_id = project_id
        self._lock = threading.Lock()
        self._public: dict[str, Any] = {}
        self._current_kid: str | None = None
        self._current: _CurrentKey | None = None
        self._loaded_at = 0.0

    def ensure(self) -> None:
        """Create the first key if the project has none; load all keys."""
        with self._db.session() as s:
            if s.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))) is None:
                s.add(self._new_key_row())
        self._reload()

    def rotate(self, *, publish_old_for_s: float) -> str:
        """Retire the current key (kept published for ``publish_old_for_s``) and start a new one."""
        with self._db.session() as s:
            t = now_s()
            for row in s.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
                row.retired_at = t
                row.publish_until = t + publish_old_for_s
            row = self._new_key_row()
            s.add(row)
            kid = row.kid
        self._reload()
        return kid

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Every key still valid for verification, as a JWK set."""
        t = now_s()
        with self._db.session() as s:
            rows = s.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())).all()
            return {
                "keys": [
                    r.public_jwk for r in rows if r.publish_until is None or r.publish_until > t
                ]
            }

    def mint(self, claims: dict[str, Any]) -> str:
        """Sign ``claims`` with the current key (its private half opened once)."""
        if self._current_kid is None:
            self._reload()
        key = self._current
        if key is None or key.kid != self._current_kid:
            key = self._open_current()
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})

    def verify(self, token: str, *, drn: Drn | None = None) -> dict[str, Any]:
        """Verify signature, expiry, issuer and (optionally) the token kind; 401 otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("Invalid token algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("Invalid token: no key id")
        public_key = self._public.get(kid)
        if public_key is None and now_s() - self._loaded_at > RELOAD_INTERVAL_S:
            self._reload()
            public_key = self._public.get(kid)
        if public_key is None:
            raise Unauthorized("Invalid token: unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        if str(claims.get("iss", "")).rsplit("/", 1)[-1] != self._project_id:
            raise Unauthorized("Token belongs to another project")
        if drn is not None and claims.get("drn") != drn:
            raise Unauthorized("Wrong token kind")
        return claims

    def _new_key_row(self) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = f"{self._project_id[:8]}-{secrets.token_hex(6)}"
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
        return SigningKey(
            kid=kid,
            private_pem_sealed=self._ring.seal(pem, context=f"signing-key:{kid}"),
            public_jwk=jwk,
            created_at=now_s(),
        )

    def _reload(self) -> None:
        """Re-read the public keys and which key is current; nothing is decrypted."""
        with self._lock:
            with self._db.session() as s:
                rows = s.execute(
                    select(SigningKey.kid, SigningKey.public_jwk, SigningKey.retired_at).order_by(
                        SigningKey.created_at
                    )
                ).all()
            public: dict[str, Any] = {}
            current = None
            for kid, jwk, retired_at in rows:
                public[kid] = self._public.get(kid) or jwt.algorithms.RSAAlgorithm.from_jwk(jwk)
                if retired_at is None:
                    current = kid
            self._public, self._current_kid, self._loaded_at = public, current, now_s()

    def _open_current(self) -> _CurrentKey:
        """Unseal the current key's private half (once per current key)."""
        with self._lock:
            kid = self._current_kid
            if kid is None:
                raise Unauthorized("No signing key")
            with self._db.session() as s:
                sealed = s.scalar(
                    select(SigningKey.private_pem_sealed).where(SigningKey.kid == kid)
                )
            if sealed is None:
                raise Unauthorized("No signing key")
            pem = self._ring.unseal(sealed, context=f"signing-key:{kid}")
            private = serialization.load_pem_private_key(pem.encode(), password=None)
            self._current = _CurrentKey(kid, private)
            return self._current
