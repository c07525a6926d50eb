"""The target the dashboard talks to: settings, the shared transport and the key set, once."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from dashboard.descope.keys import KeySet
from dashboard.descope.transport import Transport, shared_transport
from dashboard.settings import Settings, get_settings


@dataclass(frozen=True)
class Target:
    """Everything needed to call Descope (or the broker) and verify its JWTs."""

    settings: Settings
    transport: Transport
    keys: KeySet

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded broker (not Descope's cloud)."""
        return self.settings.target == "local"


@functools.cache
def connect(settings: Settings) -> Target:
    """The process-wide Target for ``settings`` (no per-user state on it)."""
    transport = shared_transport(settings)
    return Target(settings=settings, transport=transport, keys=KeySet(transport))


def current_target() -> Target:
    """The Target of the process's settings."""
    return connect(get_settings())
