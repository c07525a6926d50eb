"""Counters of what clients asked the provider, read by tests over ``/admin/stats``."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class ProviderStats:
    """Token-endpoint calls by grant type and outcome, revocations, introspections, consents."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._token: defaultdict[str, Counter[str]] = defaultdict(Counter)
            self._events: Counter[str] = Counter()

    def token_call(self, grant_type: str, outcome: str) -> None:
        """Count one token-endpoint call (outcome: ``ok``, an OAuth error code, or a fault)."""
        with self._lock:
            self._token[grant_type][outcome] += 1

    def event(self, name: str) -> None:
        """Count one other event (``revocations``, ``api_calls`` (authorized API calls)…)."""
        with self._lock:
            self._events[name] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON-ready data."""
        with self._lock:
            return {
                "token_calls": {g: sum(c.values()) for g, c in self._token.items()},
                "token_outcomes": {g: dict(c) for g, c in self._token.items()},
                **{
                    name: self._events[name]
                    for name in (
                        "revocations",
                        "introspections",
                        "reuse_detected",
                        "approvals",
                        "denials",
                        "api_calls",
                    )
                },
            }
