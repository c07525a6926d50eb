"""Broker settings: read once from flags and the environment into a frozen, typed object."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from broker.area_settings import (
    ConnectOptions,
    LifecycleSettings,
    ThrottlePolicy,
    areas_from_extra,
    extra_json,
)
from broker.crypto import Secret

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_PROVIDER_PORT = 8788
DEFAULT_DASHBOARD_PORT = 8501


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name, "")
    return tuple(part.strip() for part in raw.split(",") if part.strip())


class StartupRefused(Exception):
    """Settings the broker will not start with; ``str()`` says why and what to do instead."""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is loopback only."""
    name = host.strip().strip("[]").lower()
    if name in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: what a browser sends as ``Origin`` for its pages."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the broker needs to start; built by ``from_env`` and overridden by CLI flags."""

    data_dir: Path = Path(".outbound")
    database_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str | None = None
    workers: int = 1
    dashboard_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_DASHBOARD_PORT}"
    allowed_redirects: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    session_ttl_s: int = 600
    refresh_ttl_s: int = 28 * 24 * 3600
    max_body_bytes: int = 1 << 20
    refresh_margin_s: int = 60
    scheduler_enabled: bool = True
    allow_private_urls: bool = False
    # Only Descope's own surface (broker/strict.py): the stand-in for Descope's cloud.
    strict_descope: bool = False
    log_level: str = "INFO"
    # The demo of `outbound up`: email codes wait in the local outbox, credentialed CORS from
    # any loopback origin. Loopback only (``refuse_unsafe_settings``); docs/security.md.
    demo_mode: bool = False
    smtp_url: Secret | None = None  # smtp:// or smtps://, credentials included: never logged
    smtp_from: str = ""
    # Roles whose holders may read connection health across users (MCP ``connection_health``).
    admin_roles: tuple[str, ...] = ("outbound-admin",)
    # The areas' own settings (broker/area_settings.py), to worker processes as OUTBOUND_EXTRA.
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    connect: ConnectOptions = field(default_factory=ConnectOptions)

    @property
    def base_url(self) -> str:
        """The URL browsers and providers reach the broker at (callback URLs are built on it)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the flag or env, else a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def callback_url(self) -> str:
        """The OAuth redirect URI to register at providers."""
        return f"{self.base_url}/v1/outbound/oauth/callback"

    @property
    def credentialed_origins(self) -> tuple[str, ...]:
        """The origins granted credentialed CORS: the dashboard's and ``OUTBOUND_CORS_ORIGINS``.

        Demo mode adds every loopback origin on top (``broker/app.py``).
        """
        listed = (origin_of(self.dashboard_url), *(origin_of(o) for o in self.cors_origins))
        return tuple(dict.fromkeys(o for o in listed if o))

    @classmethod
    def from_env(cls, **overrides: Any) -> BrokerSettings:
        """Settings from ``OUTBOUND_*`` variables, with explicit keyword overrides winning."""
        env = os.environ
        lifecycle, throttle, connect = areas_from_extra(env.get("OUTBOUND_EXTRA", ""))
        base = cls(
            data_dir=Path(env.get("OUTBOUND_DATA_DIR", ".outbound")),
            database_url=env.get("OUTBOUND_DATABASE_URL") or None,
            host=env.get("OUTBOUND_HOST", DEFAULT_HOST),
            port=int(env.get("OUTBOUND_PORT", DEFAULT_PORT)),
            public_url=env.get("OUTBOUND_PUBLIC_URL") or None,
            workers=int(env.get("OUTBOUND_WORKERS", "1")),
            dashboard_url=env.get(
                "OUTBOUND_DASHBOARD_URL", f"http://{DEFAULT_HOST}:{DEFAULT_DASHBOARD_PORT}"
            ),
            allowed_redirects=_env_list("OUTBOUND_ALLOWED_REDIRECTS"),
            cors_origins=_env_list("OUTBOUND_CORS_ORIGINS"),
            session_ttl_s=int(env.get("OUTBOUND_SESSION_TTL", "600")),
            refresh_ttl_s=int(env.get("OUTBOUND_REFRESH_TTL", str(28 * 24 * 3600))),
            max_body_bytes=int(env.get("OUTBOUND_MAX_BODY_BYTES", str(1 << 20))),
            refresh_margin_s=int(env.get("OUTBOUND_REFRESH_MARGIN", "60")),
            scheduler_enabled=_env_bool("OUTBOUND_SCHEDULER", True),
            allow_private_urls=_env_bool("OUTBOUND_ALLOW_PRIVATE_URLS", False),
            strict_descope=_env_bool("OUTBOUND_STRICT_DESCOPE", False),
            log_level=env.get("OUTBOUND_LOG_LEVEL", "INFO"),
            demo_mode=_env_bool("OUTBOUND_DEMO_MODE", False),
            smtp_url=Secret(env["OUTBOUND_SMTP_URL"]) if env.get("OUTBOUND_SMTP_URL") else None,
            smtp_from=env.get("OUTBOUND_SMTP_FROM", ""),
            admin_roles=_env_list("OUTBOUND_ADMIN_ROLES") or ("outbound-admin",),
            lifecycle=lifecycle,
            throttle=throttle,
            connect=connect,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(base, **clean)

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables (for worker processes)."""
        env = {
            "OUTBOUND_DATA_DIR": str(self.data_dir.resolve()),
            "OUTBOUND_HOST": self.host,
            "OUTBOUND_PORT": str(self.port),
            "OUTBOUND_WORKERS": str(self.workers),
            "OUTBOUND_DASHBOARD_URL": self.dashboard_url,
            "OUTBOUND_ALLOWED_REDIRECTS": ",".join(self.allowed_redirects),
            "OUTBOUND_CORS_ORIGINS": ",".join(self.cors_origins),
            "OUTBOUND_SESSION_TTL": str(self.session_ttl_s),
            "OUTBOUND_REFRESH_TTL": str(self.refresh_ttl_s),
            "OUTBOUND_MAX_BODY_BYTES": str(self.max_body_bytes),
            "OUTBOUND_REFRESH_MARGIN": str(self.refresh_margin_s),
            "OUTBOUND_SCHEDULER": "1" if self.scheduler_enabled else "0",
            "OUTBOUND_ALLOW_PRIVATE_URLS": "1" if self.allow_private_urls else "0",
            "OUTBOUND_STRICT_DESCOPE": "1" if self.strict_descope else "0",
            "OUTBOUND_LOG_LEVEL": self.log_level,
            "OUTBOUND_DEMO_MODE": "1" if self.demo_mode else "0",
            "OUTBOUND_SMTP_FROM": self.smtp_from,
            "OUTBOUND_ADMIN_ROLES": ",".join(self.admin_roles),
        }
        if self.smtp_url:
            env["OUTBOUND_SMTP_URL"] = self.smtp_url.reveal()
        if extra := extra_json(self.lifecycle, self.throttle, self.connect):
            env["OUTBOUND_EXTRA"] = extra  # the areas' settings, so worker processes get them too
        if self.database_url:
            env["OUTBOUND_DATABASE_URL"] = self.database_url
        if self.public_url:
            env["OUTBOUND_PUBLIC_URL"] = self.public_url
        return env


def refuse_unsafe_settings(settings: BrokerSettings) -> None:
    """Raise StartupRefused for settings that would open the broker to strangers.

    Demo mode shows email codes to whoever holds the local management key and lets any local
    origin make credentialed calls: harmless on one laptop, an open door on a network, so it
    runs bound to, and published at, loopback only. A ``*`` among the CORS origins would grant
    credentialed calls to every web page.
    """
    if any(origin.strip() == "*" for origin in settings.cors_origins):
        raise StartupRefused(
            "OUTBOUND_CORS_ORIGINS cannot be '*': list the origins that may make credentialed "
            "calls (https://app.example.com,…)."
        )
    if not settings.demo_mode:
        return
    if not is_loopback_host(settings.host):
        raise StartupRefused(
            f"Demo mode runs on loopback only, and --host is {settings.host!r}: bind to "
            "127.0.0.1, or turn demo mode off (OUTBOUND_DEMO_MODE=0) and set OUTBOUND_SMTP_URL."
        )
    public_host = urlsplit(settings.public_url or "").hostname
    if public_host and not is_loopback_host(public_host):
        raise StartupRefused(
            f"Demo mode runs on loopback only, and --public-url is {settings.public_url!r}: "
            "turn demo mode off (OUTBOUND_DEMO_MODE=0) to publish the broker."
        )
