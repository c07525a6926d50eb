"""The project's signing keys (``GET /v2/keys/{projectId}``) and local JWT verification.

Like the SDKs' ``validate_session`` (reference §4.2): fetch the JWKS once, verify locally,
refetch when a token names a ``kid`` not yet known (keys rotate), at most once per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt

from dashboard.descope.errors import SessionExpired, Unauthorized
from dashboard.descope.transport import Transport

REFETCH_INTERVAL_S = 30.0


def issuer_matches(issuer: str, project_id: str) -> bool:
    """``iss`` is the project id, or a URL whose last or second-to-last segment is (§4.3)."""
    if issuer == project_id:
        return True
    segments = [s for s in issuer.split("/") if s]
    return project_id in segments[-2:]


class KeySet:
    """Verifies Descope JWTs against the project's JWKS, cached and refetched on a new kid."""

    def __init__(self, transport: Transport, clock: Callable[[], float] = time.monotonic) -> None:
        self._transport = transport
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        data = self._transport.request("GET", f"/v2/keys/{self._transport.project_id}")
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in data.get("keys", []) if isinstance(data, dict) else []:
            if isinstance(jwk, dict) and jwk.get("kid") and jwk.get("alg"):
                keys[str(jwk["kid"])] = jwt.PyJWK.from_dict(jwk)
        self._keys = keys
        self._fetched_at = self._clock()

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The public key named ``kid``; refetches the JWKS when it is unknown."""
        with self._lock:
            stale = (
                self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_INTERVAL_S
            )
            if kid not in self._keys and stale:
                self._fetch()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("Your sign-in could not be verified; please sign in again.")
        return key

    def verify(self, token: str, *, drn: str | None = None) -> dict[str, Any]:
        """The claims of a valid, unexpired token from this project; SessionExpired otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            key = self.key_for(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[key.algorithm_name],
                options={"verify_aud": False, "require": ["exp", "iat", "sub", "iss"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise SessionExpired() from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Your sign-in could not be verified; please sign in again.") from exc
        if not issuer_matches(str(claims.get("iss", "")), self._transport.project_id):
            raise Unauthorized("Your sign-in is for another project; please sign in again.")
        if drn is not None and claims.get("drn", drn) != drn:
            raise Unauthorized("Your sign-in could not be verified; please sign in again.")
        return claims
