"""Secrets at rest: AES-256-GCM sealing under a master key ring with key ids, and keyed digests.

A sealed value reads ``v1.<kid>.<base64url(nonce || ciphertext)>``; the key id lets the ring
rotate (new values sealed with the current key, old ones still opened). The associated data
binds a ciphertext to its column and row, so a sealed value copied elsewhere does not open.

Keyed digests (management keys, one-time codes, connect states) derive from one key of the
ring, the *digest key*, recorded in the ring by id and kept through every rotation: a digest
stored before a rotation still matches after it, and a revoked key stays revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEYRING_FILE = "master.keys"
MASTER_KEY_ENV = "OUTBOUND_MASTER_KEY"


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The clear value, for the one place that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keyed_digest(subkey: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value`` under ``subkey``, hex."""
    return hmac.new(subkey, value.encode(), hashlib.sha256).hexdigest()


class SealError(Exception):
    """A sealed value could not be opened (wrong key, tampered, or wrong context)."""


@dataclass(frozen=True)
class KeyRing:
    """AES-GCM keys by id; ``current`` seals, every key opens, ``digest_key`` derives digests."""

    keys: dict[str, bytes]
    current: str
    # Empty in rings written before it was recorded: they used the smallest id, so that is
    # what such a ring keeps using (and records at its next rotation).
    digest_key: str = ""
    # One AES-GCM cipher per key id, made on first use: making one costs more than a token's
    # decryption (≈1.6 µs against ≈1 µs), and the fetch unseals on every request.
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _cipher(self, kid: str) -> AESGCM:
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = self._ciphers[kid] = AESGCM(self.keys[kid])
        return cipher

    def seal(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context`` (e.g. ``"token:<id>:access"``)."""
        nonce = os.urandom(12)
        ct = self._cipher(self.current).encrypt(nonce, plaintext.encode(), context.encode())
        return f"v1.{self.current}.{_b64e(nonce + ct)}"

    def unseal(self, sealed: str, *, context: str) -> str:
        """Decrypt a value made by ``seal`` with the same context."""
        try:
            version, kid, payload = sealed.split(".", 2)
            if version != "v1":
                raise SealError("unknown sealing version")
            raw = _b64d(payload)
            return self._cipher(kid).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except SealError:
            raise
        except Exception as exc:  # InvalidTag, KeyError, ValueError: all mean "cannot open"
            raise SealError("sealed value cannot be opened") from exc

    def digest(self, value: str, *, purpose: str) -> str:
        """A keyed SHA-256 digest of a high-entropy secret (management keys), hex."""
        return keyed_digest(self.subkey(f"digest:{purpose}"), value)

    def subkey(self, info: str) -> bytes:
        """A key derived for one purpose (HKDF-SHA256); cache it on hot paths."""
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=info.encode()).derive(
            self.keys[self.digest_key_id]
        )

    @property
    def digest_key_id(self) -> str:
        """The id of the key digests derive from (never changes through rotation)."""
        return self.digest_key or sorted(self.keys)[0]

    def rotated(self) -> KeyRing:
        """A ring with a fresh current key; old keys stay for opening, the digest key stays."""
        kid = secrets.token_hex(4)
        return KeyRing(
            keys={**self.keys, kid: AESGCM.generate_key(256)},
            current=kid,
            digest_key=self.digest_key_id,
        )

    def to_json(self) -> str:
        """Serialise for the key file."""
        return json.dumps(
            {
                "current": self.current,
                "digest": self.digest_key_id,
                "keys": {k: _b64e(v) for k, v in self.keys.items()},
            }
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        """Parse the key file (or the ``OUTBOUND_MASTER_KEY`` value)."""
        data = json.loads(text)
        keys = {k: _b64d(v) for k, v in data["keys"].items()}
        return cls(keys=keys, current=data["current"], digest_key=data.get("digest", ""))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> KeyRing:
        """The ring from ``OUTBOUND_MASTER_KEY``, else the data folder's key file, else new."""
        from_env = os.environ.get(MASTER_KEY_ENV)
        if from_env:
            return cls.from_json(from_env)
        path = data_dir / KEYRING_FILE
        if path.exists():
            return cls.from_json(path.read_text())
        kid = secrets.token_hex(4)
        ring = cls(keys={kid: AESGCM.generate_key(256)}, current=kid, digest_key=kid)
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(ring.to_json())
        return ring

    def save(self, data_dir: Path) -> None:
        """Write the ring to the data folder's key file (0600)."""
        path = data_dir / KEYRING_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.to_json())
        tmp.replace(path)
