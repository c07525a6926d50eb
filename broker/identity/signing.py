"""RS256 signing keys and the session/refresh JWTs minted with them.

Keys are created once at start-up (before workers fork), sealed at rest, published at
``/v2/keys/{projectId}`` with ``kid`` and ``alg`` (the Python SDK skips a JWK without ``alg``,
reference §11), and kept published after rotation until the last token they signed expires.
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


@dataclass(frozen=True)
class _LoadedKey:
    kid: str
    private_key: Any
    public_key: Any
    retired: bool


class SigningKeys:
    """The project's signing keys, cached in memory and reloaded when an unknown kid appears."""

    def __init__(self, db: Database, ring: KeyRing, project_id: str) -> None:
        self._db = db
        self._ring = ring
        self._project_id = project_id
        self._lock = threading.Lock()
        self._keys: dict[str, _LoadedKey] = {}
        self._current: str | None = None

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
        """Sign ``claims`` with the current key."""
        if self._current is None:
            self._reload()
        assert self._current is not None
        key = self._keys[self._current]
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
        key = self._keys.get(kid)
        if key is None:
            self._reload()
            key = self._keys.get(kid)
            if key is None:
                raise Unauthorized("Invalid token: unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
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
        with self._lock, self._db.session() as s:
            rows = s.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
            keys: dict[str, _LoadedKey] = {}
            current = None
            for r in rows:
                pem = self._ring.unseal(r.private_pem_sealed, context=f"signing-key:{r.kid}")
                private = serialization.load_pem_private_key(pem.encode(), password=None)
                keys[r.kid] = _LoadedKey(
                    r.kid, private, private.public_key(), r.retired_at is not None
                )
                if r.retired_at is None:
                    current = r.kid
            self._keys, self._current = keys, current
