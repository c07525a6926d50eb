"""Typed settings of the broker's areas, carried inside ``BrokerSettings``: the token lifecycle
and its webhooks (``LifecycleSettings``), the sign-in throttles (``ThrottlePolicy``) and the
connect overrides (``ConnectOptions``).

Worker processes get them as one JSON object in ``OUTBOUND_EXTRA`` (``{"lifecycle": {…},
"throttle": {…}, "connect": {…}}``, only the values that differ from the defaults), which
operators may also set by hand (docs/operations.md). A name no area knows refuses to start.
Imports the standard library and ``broker.crypto`` only, so ``broker.config`` can hold them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from broker.crypto import Secret

_Area = TypeVar("_Area", "LifecycleSettings", "ThrottlePolicy", "ConnectOptions")


@dataclass(frozen=True)
class LifecycleSettings:
    """Knobs of the refresh engine, the scheduler and webhook delivery (whose HTTP timeouts are
    the provider calls' ``url_policy.HTTP_TIMEOUT``)."""

    # A refresh lease outlives the provider calls: httpx allows 5 s to connect and 10 s per
    # read/write phase, and an ambiguous failure is retried once (2 × 25 s at worst).
    lease_ttl_s: float = 60.0
    # How often a worker waiting on another's refresh reads the lease (one indexed read; only
    # one waiter per worker polls): a waiter is answered within this of the holder's commit.
    lease_poll_s: float = 0.02
    # Transient failures: the first retry is immediate, then base·2ⁿ (±20 % jitter), capped.
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    scheduler_interval_s: float = 30.0
    scheduler_concurrency: int = 4
    scheduler_batch: int = 200
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: Secret | None = None
    webhook_max_attempts: int = 6
    webhook_backoff_s: float = 1.0

    def __post_init__(self) -> None:
        # An unsigned webhook can be forged by anyone who learns the URL: refuse to start.
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError(
                "webhooks need a signing secret: set OUTBOUND_WEBHOOK_SECRET "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures each kind of bucket may hold within ``window_s`` seconds."""

    login_failures: int = 10
    address_failures: int = 100
    management_failures: int = 30
    signups_per_login: int = 5
    signups_per_address: int = 30
    codes_per_login: int = 5
    codes_per_address: int = 50
    window_s: int = 900
    # Memory the password hashes of one process may take at once (64 MiB each), and how many
    # more requests may wait for a slot (each waiting request holds a worker thread).
    hash_memory_mib: int = 256
    hash_waiting: int = 8
    hash_wait_s: float = 10.0


@dataclass(frozen=True)
class ConnectOptions:
    """Connect settings given in code or ``OUTBOUND_EXTRA``; each one left None comes from its
    ``OUTBOUND_*`` variable (``outbound.connect_settings``)."""

    confirmation: bool | None = None
    tenant_admin_role: str | None = None
    reconnect_link_ttl_s: int | None = None
    strict_descope: bool | None = None


def _to_json(value: object) -> object:
    if isinstance(value, Secret):
        return value.reveal()
    return list(value) if isinstance(value, tuple) else value


def _from_json(area: type[_Area], name: str, raw: Any) -> Any:
    if area is ConnectOptions and name in ("confirmation", "strict_descope") and raw is not None:
        return raw is True or str(raw).strip().lower() in {"1", "true", "yes", "on"}
    if area is LifecycleSettings and name == "webhook_urls":
        return tuple(raw) if isinstance(raw, list | tuple) else raw
    if area is LifecycleSettings and name == "webhook_secret":
        return Secret(str(raw)) if raw else None
    return raw


def area_from(area: type[_Area], key: str, raw: object) -> _Area:
    """The area's settings from its JSON object (``raw``), or ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"OUTBOUND_EXTRA: {key!r} must be an object")
    known = {f.name for f in fields(area)}
    if unknown := sorted(set(raw) - known):
        raise ValueError(f"OUTBOUND_EXTRA: {key} has no setting {unknown[0]!r}")
    return area(**{name: _from_json(area, name, value) for name, value in raw.items()})


def area_json(settings: LifecycleSettings | ThrottlePolicy | ConnectOptions) -> dict[str, Any]:
    """The values of ``settings`` that differ from the defaults, as JSON values."""
    default = type(settings)()
    return {
        f.name: _to_json(getattr(settings, f.name))
        for f in fields(settings)
        if getattr(settings, f.name) != getattr(default, f.name)
    }


def extra_json(
    lifecycle: LifecycleSettings, throttle: ThrottlePolicy, connect: ConnectOptions
) -> str:
    """``OUTBOUND_EXTRA`` for these areas ("" when all are defaults)."""
    areas = {
        "lifecycle": area_json(lifecycle),
        "throttle": area_json(throttle),
        "connect": area_json(connect),
    }
    kept = {key: values for key, values in areas.items() if values}
    return json.dumps(kept) if kept else ""


def areas_from_extra(text: str) -> tuple[LifecycleSettings, ThrottlePolicy, ConnectOptions]:
    """The areas in an ``OUTBOUND_EXTRA`` value (defaults for what it leaves out)."""
    raw = json.loads(text or "{}")
    if not isinstance(raw, dict):
        raise ValueError("OUTBOUND_EXTRA must be a JSON object")
    if unknown := sorted(set(raw) - {"lifecycle", "throttle", "connect"}):
        raise ValueError(f"OUTBOUND_EXTRA has no area {unknown[0]!r}")
    return (
        area_from(LifecycleSettings, "lifecycle", raw.get("lifecycle", {})),
        area_from(ThrottlePolicy, "throttle", raw.get("throttle", {})),
        area_from(ConnectOptions, "connect", raw.get("connect", {})),
    )
