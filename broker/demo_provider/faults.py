"""Fault switches: the ways real providers misbehave, switched on over ``/admin/faults`` by tests.

Each switch has a value and an optional ``remaining`` count: every time the fault takes effect the
count goes down, and at zero the switch turns itself off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from broker.demo_provider.directory import ScopeName

RefreshError = Literal[
    "invalid_grant", "invalid_client", "invalid_scope", "unauthorized_client", "invalid_request"
]

# name → the type of its value. Booleans switch a behaviour on; ``false``/``null`` switch it off.
SWITCHES: dict[str, TypeAdapter[Any]] = {
    "latency_ms": TypeAdapter(Annotated[int, Field(ge=0, le=120_000)]),
    "token_status": TypeAdapter(Literal[429, 500, 502, 503, 504]),
    "retry_after_s": TypeAdapter(Annotated[int, Field(ge=0)]),
    "refresh_error": TypeAdapter(RefreshError),
    "omit_expires_in": TypeAdapter(bool),
    "no_refresh_token": TypeAdapter(bool),
    "non_rotating": TypeAdapter(bool),
    "narrow_scopes": TypeAdapter(list[ScopeName]),
    "garbage_json": TypeAdapter(bool),
    "wrong_content_type": TypeAdapter(bool),
    "lost_response": TypeAdapter(bool),
    "access_token_ttl_s": TypeAdapter(Annotated[int, Field(ge=1)]),
    # The API refuses a still-unexpired token with 401, as when an org's own session timeout
    # (Salesforce) ends a token before the lifetime the client assumed.
    "api_unauthorized": TypeAdapter(bool),
}


class FaultError(ValueError):
    """A fault setting that names an unknown switch or has a value of the wrong type."""


@dataclass
class FaultSwitch:
    """One switched-on fault: its value, and how many more times it takes effect (None: always)."""

    value: Any
    remaining: int | None = None


class Faults:
    """The provider's current fault switches (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._switches: dict[str, FaultSwitch] = {}

    def merge(self, settings: dict[str, Any]) -> None:
        """Apply ``{name: value}`` or ``{name: {"value": v, "remaining": n}}``; falsy values switch off."""
        parsed: dict[str, FaultSwitch | None] = {}
        for name, raw in settings.items():
            adapter = SWITCHES.get(name)
            if adapter is None:
                raise FaultError(f"unknown fault {name!r}; known: {', '.join(SWITCHES)}")
            value, remaining = raw, None
            if isinstance(raw, dict):
                value, remaining = raw.get("value", True), raw.get("remaining")
                if remaining is not None and (not isinstance(remaining, int) or remaining < 1):
                    raise FaultError(f"{name}: 'remaining' must be a positive integer")
            try:
                if value is not None and value is not False:
                    value = adapter.validate_python(value)
                else:
                    value = None
            except ValidationError as exc:
                raise FaultError(f"{name}: {exc.errors()[0]['msg']}") from exc
            parsed[name] = None if value is None else FaultSwitch(value, remaining)
        with self._lock:
            for name, switch in parsed.items():
                if switch is None:
                    self._switches.pop(name, None)
                else:
                    self._switches[name] = switch

    def reset(self) -> None:
        """Switch every fault off."""
        with self._lock:
            self._switches.clear()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The switched-on faults as ``{name: {"value", "remaining"}}``."""
        with self._lock:
            return {
                n: {"value": s.value, "remaining": s.remaining} for n, s in self._switches.items()
            }

    def peek(self, name: str) -> Any:
        """The value of a switch without counting a use (None when off)."""
        with self._lock:
            switch = self._switches.get(name)
            return None if switch is None else switch.value

    def take(self, name: str) -> Any:
        """The value of a switch, counting one use of it (None when off)."""
        with self._lock:
            switch = self._switches.get(name)
            if switch is None:
                return None
            if switch.remaining is not None:
                switch.remaining -= 1
                if switch.remaining <= 0:
                    del self._switches[name]
            return switch.value
