"""Passwords: argon2id hashes (memory-hard) and the length policy."""

from __future__ import annotations

from contextlib import AbstractContextManager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from broker.errors import PASSWORD_EXPIRED, USER_NOT_FOUND, Unauthorized, ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128

# argon2-cffi's defaults are RFC 9106's low-memory profile for argon2id (64 MiB, t=3, p=4).
_HASHER = PasswordHasher()
HASH_MEMORY_MIB = _HASHER.memory_cost // 1024
# Verified against when the login id is unknown, so both failures cost the same time.
_DECOY_HASH = _HASHER.hash("decoy-password-never-matches")


class InvalidCredentials(Unauthorized):
    """Unknown login id or wrong password: one answer for both, so neither is revealed (401)."""

    code = USER_NOT_FOUND
    description = "Invalid login credentials"


class PasswordExpired(Unauthorized):
    """The right password, but an admin expired it (401 E062909): it must be replaced."""

    code = PASSWORD_EXPIRED
    description = "Password expired"


def check_policy(password: str) -> None:
    """400 unless the password length is within the policy (8 to 128 characters)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(f"Password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")


def hash_password(password: str, slot: AbstractContextManager[None]) -> str:
    """The argon2id hash of ``password`` after checking the policy, computed inside ``slot``."""
    check_policy(password)
    with slot:
        return _HASHER.hash(password)


def verify_password(
    stored_hash: str | None, password: str, slot: AbstractContextManager[None]
) -> bool:
    """Whether ``password`` matches; an absent hash still spends one verification (in ``slot``)."""
    try:
        with slot:
            matched = _HASHER.verify(stored_hash or _DECOY_HASH, password)
        return matched and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
