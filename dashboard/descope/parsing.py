"""Lenient readers for JSON values whose type varies on the wire (reference §3.3, §4.2).

Descope sends optional fields missing or ``null``, numbers as numbers or numeric strings, and
times as Unix seconds (number or string) or RFC 3339. These readers never raise: a value of the
wrong shape reads as empty (``""``, ``()``, ``{}``) or ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# Unix times larger than this are in milliseconds (year 5138 in seconds).
_MILLISECONDS_FROM = 100_000_000_000


def text(value: Any) -> str:
    """A string, or ``""`` for anything else."""
    return value if isinstance(value, str) else ""


def texts(value: Any) -> tuple[str, ...]:
    """The strings of a list, or ``()`` for anything else."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def number(value: Any) -> float | None:
    """A number or numeric string as a float, else None (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value)
        except ValueError:
            return None
    return None


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object, or an empty mapping for anything else."""
    return value if isinstance(value, Mapping) else {}


def timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from Unix seconds (int, float, numeric string) or RFC 3339.

    Zero, empty and unreadable values are None: Descope sends ``"0"`` for "unknown".
    """
    seconds = number(value)
    if seconds is not None:
        if seconds <= 0:
            return None
        if seconds >= _MILLISECONDS_FROM:
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    raw = text(value).strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
