"""Demo mode in the dashboard: on with ``OUTBOUND_DEMO_MODE`` (``outbound up``), loopback only.

In demo mode the embedded broker keeps email codes in a local outbox instead of sending them;
the dashboard says so on every page and offers a developer outbox that opens only with the
management key (docs/security.md, "Email codes and demo mode"). A dashboard bound to anything
but loopback refuses demo mode when it starts (``refusal``), the broker likewise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

DEMO_MODE_ENV = "OUTBOUND_DEMO_MODE"


def demo_mode_on(env: Mapping[str, str]) -> bool:
    """Whether ``OUTBOUND_DEMO_MODE`` asks for demo mode."""
    return env.get(DEMO_MODE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_loopback(address: str | None) -> bool:
    """Whether a bind address is loopback only (an empty one means every interface)."""
    name = (address or "").strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def refusal(env: Mapping[str, str], address: str | None) -> str | None:
    """Why the dashboard must not start in demo mode on ``address``, or None when it may."""
    if not demo_mode_on(env) or is_loopback(address):
        return None
    where = address or "every interface"
    return (
        f"Demo mode runs on loopback only, and the dashboard is bound to {where}: start it with "
        f"--server.address 127.0.0.1, or turn demo mode off ({DEMO_MODE_ENV}=0)."
    )
