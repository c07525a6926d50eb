"""Looking inside a token: its JWT header and claims (unverified), and its scopes against the app's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

UNVERIFIED = (
    "Decoded without verifying the signature: this shows what the token says, not that it is "
    "genuine."
)


@dataclass(frozen=True)
class DecodedJwt:
    """A JWT's header and claims, read without checking the signature."""

    header: dict[str, Any]
    claims: dict[str, Any]


def decode_unverified(token: str) -> DecodedJwt | None:
    """Header and claims when ``token`` is a JWT, else None (opaque tokens are common)."""
    if token.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return DecodedJwt(header=dict(header), claims=dict(claims))


@dataclass(frozen=True)
class ScopeRow:
    """One scope and where it shows up: granted, the app's defaults, asked for at connect."""

    scope: str
    granted: bool
    default: bool
    requested: bool | None


def compare_scopes(
    granted: Sequence[str], default: Sequence[str], requested: Sequence[str] | None
) -> list[ScopeRow]:
    """Every scope named anywhere, granted ones first; ``requested`` None when unknown."""
    names = list(dict.fromkeys([*granted, *default, *(requested or ())]))
    rows = [
        ScopeRow(
            scope=name,
            granted=name in granted,
            default=name in default,
            requested=None if requested is None else name in requested,
        )
        for name in names
    ]
    return sorted(rows, key=lambda r: (not r.granted, r.scope))


def missing_defaults(granted: Sequence[str], default: Sequence[str]) -> tuple[str, ...]:
    """The app's default scopes the provider did not grant."""
    return tuple(s for s in default if s not in granted)
