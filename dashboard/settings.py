"""Dashboard settings: ``.env`` and the environment, read once into a frozen, typed object.

The target is Descope's cloud when ``DESCOPE_PROJECT_ID`` is set, otherwise the embedded broker
whose credentials ``outbound`` wrote to ``<OUTBOUND_DATA_DIR or .outbound>/local.env``.
Real environment variables win over ``.env`` (``OUTBOUND_ENV_FILE`` names another file).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from dashboard.demo_mode import demo_mode_on
from dashboard.descope import (
    ConfigurationError,
    Secret,
)

DESCOPE_DEFAULT_BASE_URL = "https://api.descope.com"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8501"
DEFAULT_ADMIN_ROLES = ("outbound-admin",)
LOCAL_ENV_FILE = "local.env"


def base_url_for_project_id(project_id: str) -> str:
    """Descope's API host for a project, as the Python and Go SDKs derive it (reference §7)."""
    if len(project_id) >= 32:
        return f"https://api.{project_id[1:5]}.descope.com"
    return DESCOPE_DEFAULT_BASE_URL


def descope_base_url(env: Mapping[str, str], project_id: str) -> str:
    """``DESCOPE_BASE_URI`` (the Python SDK's variable), else ``DESCOPE_BASE_URL`` (Go's, and
    this dashboard's before), else the project's regional host as the SDK derives it."""
    chosen = env.get("DESCOPE_BASE_URI") or env.get("DESCOPE_BASE_URL")
    return (chosen or base_url_for_project_id(project_id)).strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Where the dashboard sends its requests and who may use the management key."""

    target: Literal["local", "descope"]
    project_id: str
    base_url: str
    management_key: Secret | None
    admin_roles: tuple[str, ...]
    dashboard_url: str
    # ``outbound up``'s demo, against the embedded broker only (dashboard/demo_mode.py).
    demo_mode: bool = False

    @property
    def is_local(self) -> bool:
        """Whether this is the embedded broker (not Descope's cloud)."""
        return self.target == "local"

    @property
    def target_label(self) -> str:
        """A short description of the target for the sidebar."""
        if self.target == "local":
            return "Local broker"
        return f"Descope project {self.project_id}"


def _roles(raw: str | None) -> tuple[str, ...]:
    roles = tuple(part.strip() for part in (raw or "").split(",") if part.strip())
    return roles or DEFAULT_ADMIN_ROLES


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment over ``.env`` (or the file ``OUTBOUND_ENV_FILE`` names)."""
    env_now = os.environ if environ is None else environ
    env_file = Path(env_now.get("OUTBOUND_ENV_FILE", ".env"))
    file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**file_values, **env_now}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment over ``.env``; raise ConfigurationError if unusable."""
    env = environment(environ)
    dashboard_url = env.get("OUTBOUND_DASHBOARD_URL") or DEFAULT_DASHBOARD_URL
    admin_roles = _roles(env.get("OUTBOUND_ADMIN_ROLES"))
    project_id = env.get("DESCOPE_PROJECT_ID", "").strip()
    if project_id:
        key = env.get("DESCOPE_MANAGEMENT_KEY", "").strip()
        return Settings(
            target="descope",
            project_id=project_id,
            base_url=descope_base_url(env, project_id),
            management_key=Secret(key) if key else None,
            admin_roles=admin_roles,
            dashboard_url=dashboard_url.rstrip("/"),
        )
    data_dir = Path(env.get("OUTBOUND_DATA_DIR") or ".outbound")
    local = {k: v for k, v in dotenv_values(data_dir / LOCAL_ENV_FILE).items() if v is not None}
    local_pid = local.get("OUTBOUND_PROJECT_ID", "")
    broker_url = local.get("OUTBOUND_BROKER_URL", "")
    if not local_pid or not broker_url:
        raise ConfigurationError(
            f"The embedded broker is not set up yet: run `outbound up` (no {data_dir / LOCAL_ENV_FILE})."
        )
    key = local.get("OUTBOUND_MANAGEMENT_KEY", "")
    return Settings(
        target="local",
        project_id=local_pid,
        base_url=broker_url.rstrip("/"),
        management_key=Secret(key) if key else None,
        admin_roles=admin_roles,
        dashboard_url=dashboard_url.rstrip("/"),
        demo_mode=demo_mode_on(env),
    )


@functools.cache
def get_settings() -> Settings:
    """The process's settings, loaded once (tests call ``get_settings.cache_clear()``)."""
    return load_settings()
