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


@dataclass(frozen=True)
class ScopeFindings:
    """What the detail says about a token's scopes: the table, and what was asked but refused."""

    rows: list[ScopeRow]
    not_granted: tuple[str, ...]
    asked_for: str  # how the request is named in the warning
    defaults_absent: tuple[str, ...]  # only when what was asked for is not known


def scope_findings(
    granted: Sequence[str], default: Sequence[str], requested: Sequence[str] | None
) -> ScopeFindings:
    """Compare granted with *requested* scopes; with the defaults only when nothing says what
    was asked (an uploaded token, Descope cloud). The broker records the defaults as the
    request when a connect named no scopes, so "asked for" is always what the provider saw."""
    rows = compare_scopes(granted, default, requested or None)
    if requested:
        refused = tuple(s for s in requested if s not in granted)
        return ScopeFindings(rows, refused, "these requested scopes", ())
    absent = tuple(s for s in default if s not in granted)
    return ScopeFindings(rows, (), "", absent)
