"""Lifecycle settings, read from ``BrokerSettings.extra["lifecycle"]`` (so workers get them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from broker.config import BrokerSettings
from broker.context import Broker
from broker.crypto import Secret

EXTRA_KEY = "lifecycle"


@dataclass(frozen=True)
class LifecycleSettings:
    """Knobs of the refresh engine, the scheduler and webhook delivery."""

    # A refresh lease outlives the provider calls: httpx allows 5 s to connect and 10 s per
    # read/write phase, and an ambiguous failure is retried once (2 × 25 s at worst).
    lease_ttl_s: float = 60.0
    lease_poll_s: float = 0.05
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
    webhook_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        # An unsigned webhook can be forged by anyone who learns the URL: refuse to start.
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError(
                "webhooks need a signing secret: set OUTBOUND_WEBHOOK_SECRET "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )

    @classmethod
    def of(cls, settings: BrokerSettings) -> LifecycleSettings:
        """The lifecycle settings inside ``settings.extra`` (unknown keys are ignored)."""
        raw: dict[str, Any] = dict(settings.extra.get(EXTRA_KEY) or {})
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if "webhook_urls" in values:
            values["webhook_urls"] = tuple(values["webhook_urls"])
        if values.get("webhook_secret"):
            values["webhook_secret"] = Secret(str(values["webhook_secret"]))
        return cls(**values)


def with_lifecycle(settings: BrokerSettings, **values: Any) -> dict[str, Any]:
    """``settings.extra`` with lifecycle values merged in (for building settings)."""
    merged = {**(settings.extra.get(EXTRA_KEY) or {}), **values}
    return {**settings.extra, EXTRA_KEY: merged}


def lifecycle_settings(broker: Broker) -> LifecycleSettings:
    """This broker's lifecycle settings (parsed once)."""
    found = broker.services.get("lifecycle.settings")
    if not isinstance(found, LifecycleSettings):
        found = broker.services["lifecycle.settings"] = LifecycleSettings.of(broker.settings)
    return found
