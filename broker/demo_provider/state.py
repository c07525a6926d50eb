"""What the provider remembers: clients, authorization codes, grants and refresh tokens.

Codes, refresh tokens and client secrets are kept only as SHA-256 digests. Without a path the
state lives in memory; with one it is written (atomically, mode 0600) to a JSON file after every
change, so a restarted provider keeps its clients, grants and signing key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from broker.demo_provider.directory import DEFAULT_SCOPE

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
RefreshStatus = Literal["active", "rotated", "revoked"]
SECRET_METHODS: tuple[AuthMethod, ...] = ("client_secret_basic", "client_secret_post")
CODE_TTL_S = 600
STATE_VERSION = 1


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now_s() -> int:
    """The current Unix time in whole seconds."""
    return int(time.time())


@dataclass
class Client:
    """A registered OAuth client; implements Authlib's ``ClientMixin`` protocol."""

    client_id: str
    secret_hash: str | None
    redirect_uris: list[str]
    # None: a confidential client may use either client_secret_basic or client_secret_post.
    token_endpoint_auth_method: AuthMethod | None = None
    access_token_ttl_s: int | None = None
    client_name: str = ""  # shown on the consent page (RFC 7591 ``client_name``)

    def get_client_id(self) -> str:
        """The client identifier."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """The redirect URI used when a request names none (only if exactly one is registered)."""
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scope granted for a request: the requested one, or ``profile`` when omitted."""
        return " ".join(dict.fromkeys((scope or DEFAULT_SCOPE).split()))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match against the registered redirect URIs."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time comparison of the presented secret's digest."""
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients use ``none``; confidential ones their registered method (or either)."""
        if self.secret_hash is None:
            return method == "none"
        if self.token_endpoint_auth_method is None:
            return method in SECRET_METHODS
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization code flow."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """Authorization code and refresh token grants."""
        return grant_type in {"authorization_code", "refresh_token"}


@dataclass
class AuthorizationCode:
    """An issued code (single use, 10 minutes); remembers the grant it became, for replay defence."""

    client_id: str
    redirect_uri: str | None
    scope: str
    user_id: str
    code_challenge: str
    code_challenge_method: str
    expires_at: int
    grant_id: str | None = None

    def get_redirect_uri(self) -> str | None:
        """The redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The scope the person approved."""
        return self.scope


@dataclass
class Grant:
    """One consent, i.e. a token family: every access and refresh token derived from one code."""

    grant_id: str
    client_id: str
    user_id: str
    scope: str
    created_at: int
    revoked_at: int | None = None
    revoked_reason: str | None = None


@dataclass
class RefreshToken:
    """A refresh token of a grant; implements Authlib's ``TokenMixin`` protocol."""

    grant_id: str
    client_id: str
    user_id: str
    scope: str
    issued_at: int
    status: RefreshStatus = "active"

    def check_client(self, client: Client) -> bool:
        """Was it issued to this client?"""
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        """The scope of the grant when this token was issued."""
        return self.scope

    def get_expires_in(self) -> int:
        """Refresh tokens do not expire by time here."""
        return 0

    def is_expired(self) -> bool:
        """Never by time; rotation or revocation ends a refresh token."""
        return False

    def is_revoked(self) -> bool:
        """Rotated or revoked tokens are no longer usable."""
        return self.status != "active"


@dataclass
class _Snapshot:
    signing_key_pem: str
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)


def _new_signing_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class ProviderState:
    """Thread-safe store of the provider's clients, codes, grants and refresh tokens."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.RLock()
        self._data = self._load() if path and path.exists() else _Snapshot(_new_signing_key_pem())
        self._save()

    @property
    def signing_key_pem(self) -> str:
        """The PEM of the RSA key that signs access tokens."""
        return self._data.signing_key_pem

    @contextmanager
    def change(self) -> Iterator[None]:
        """Hold the lock for a read-modify-write and persist afterwards."""
        with self._lock:
            yield
            self._save()

    # clients
    def upsert_client(self, client: Client) -> bool:
        """Register or replace a client; True when it is new."""
        with self.change():
            created = client.client_id not in self._data.clients
            self._data.clients[client.client_id] = client
            return created

    def client(self, client_id: str) -> Client | None:
        """The registered client with this id."""
        return self._data.clients.get(client_id)

    # codes
    def add_code(self, code: str, record: AuthorizationCode) -> None:
        """Remember an issued code (expired ones are dropped on the way)."""
        with self.change():
            t = now_s()
            self._data.codes = {k: c for k, c in self._data.codes.items() if c.expires_at > t}
            self._data.codes[digest(code)] = record

    def code(self, code: str) -> AuthorizationCode | None:
        """The record of an unexpired code, used or not."""
        record = self._data.codes.get(digest(code))
        return record if record and record.expires_at > now_s() else None

    def consume_code(self, record: AuthorizationCode, grant_id: str) -> None:
        """Mark a code used by naming the grant it became (a replay then revokes that grant)."""
        with self.change():
            record.grant_id = grant_id

    # grants and refresh tokens
    def start_grant(self, grant_id: str, client_id: str, user_id: str, scope: str) -> Grant:
        """Record a new token family."""
        with self.change():
            grant = Grant(grant_id, client_id, user_id, scope, now_s())
            self._data.grants[grant_id] = grant
            return grant

    def grant(self, grant_id: str) -> Grant | None:
        """The grant with this id."""
        return self._data.grants.get(grant_id)

    def add_refresh_token(self, token: str, grant: Grant, scope: str) -> None:
        """Record a refresh token issued for ``grant``."""
        with self.change():
            self._data.refresh_tokens[digest(token)] = RefreshToken(
                grant.grant_id, grant.client_id, grant.user_id, scope, now_s()
            )

    def refresh_token(self, token: str) -> RefreshToken | None:
        """The record of a refresh token in any status."""
        return self._data.refresh_tokens.get(digest(token))

    def retire_refresh_token(self, token: str) -> None:
        """Mark a refresh token as rotated: presenting it again is reuse."""
        with self.change():
            record = self._data.refresh_tokens.get(digest(token))
            if record is not None and record.status == "active":
                record.status = "rotated"

    def revoke_grant(self, grant_id: str, reason: str) -> None:
        """End a token family: the grant and all its refresh tokens (access tokens check it)."""
        with self.change():
            grant = self._data.grants.get(grant_id)
            if grant is None or grant.revoked_at is not None:
                return
            grant.revoked_at = now_s()
            grant.revoked_reason = reason
            for record in self._data.refresh_tokens.values():
                if record.grant_id == grant_id:
                    record.status = "revoked"

    # persistence
    def _load(self) -> _Snapshot:
        assert self._path is not None
        raw: dict[str, Any] = json.loads(self._path.read_text())
        if raw.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported demo provider state version in {self._path}")
        return _Snapshot(
            signing_key_pem=raw["signing_key_pem"],
            clients={k: Client(**v) for k, v in raw["clients"].items()},
            codes={k: AuthorizationCode(**v) for k, v in raw["codes"].items()},
            grants={k: Grant(**v) for k, v in raw["grants"].items()},
            refresh_tokens={k: RefreshToken(**v) for k, v in raw["refresh_tokens"].items()},
        )

    def _save(self) -> None:
        if self._path is None:
            return
        with self._lock:
            body = json.dumps({"version": STATE_VERSION, **asdict(self._data)})
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(body)
            os.replace(tmp, self._path)
