"""Fetch a user's managed OAuth token through the Management API, with plain httpx.

Works against the embedded broker (credentials from ``.outbound/local.env``) and against
Descope's cloud (``DESCOPE_PROJECT_ID``, ``DESCOPE_MANAGEMENT_KEY``, optional
``DESCOPE_BASE_URI`` as the Python SDK reads it, or ``DESCOPE_BASE_URL``). The two outcomes a backend must handle are typed:
``NotConnected`` (send the person to connect) and ``NeedsReauthorization`` (the grant died;
only a new connect heals it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DASHBOARD_URL = os.environ.get("OUTBOUND_DASHBOARD_URL", "http://127.0.0.1:8501")


class NotConnected(Exception):
    """The user has no token for the app (404 E111504)."""


class NeedsReauthorization(Exception):
    """The provider refused the refresh for good; the user must connect again (another 404)."""


@dataclass(frozen=True)
class Config:
    """Where the Management API is and how to call it."""

    base_url: str
    project_id: str
    management_key: str

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer <projectId>:<managementKey>``."""
        return {"Authorization": f"Bearer {self.project_id}:{self.management_key}"}


def load_config() -> Config:
    """Descope cloud when ``DESCOPE_PROJECT_ID`` is set, else the embedded broker's local.env."""
    if pid := os.environ.get("DESCOPE_PROJECT_ID"):
        region = pid[1:5] if len(pid) >= 32 else ""
        default = f"https://api.{region}.descope.com" if region else "https://api.descope.com"
        base = os.environ.get("DESCOPE_BASE_URI") or os.environ.get("DESCOPE_BASE_URL")
        return Config(base or default, pid, os.environ["DESCOPE_MANAGEMENT_KEY"])
    data_dir = Path(os.environ.get("OUTBOUND_DATA_DIR", ".outbound"))
    values = dict(
        line.split("=", 1)
        for line in (data_dir / "local.env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return Config(
        values["OUTBOUND_BROKER_URL"],
        values["OUTBOUND_PROJECT_ID"],
        values["OUTBOUND_MANAGEMENT_KEY"],
    )


def user_id_for(config: Config, login_id: str) -> str:
    """The user id behind a login id (e.g. an email)."""
    r = httpx.get(
        f"{config.base_url}/v1/mgmt/user", params={"loginId": login_id}, headers=config.headers
    )
    r.raise_for_status()
    return str(r.json()["user"]["userId"])


def fetch_token(
    config: Config, app_id: str, user_id: str, *, force_refresh: bool = False
) -> dict[str, Any]:
    """The user's token object at ``app_id`` (refreshed by the broker if needed, or at once with
    ``force_refresh``): the access token, and the ``providerMetadata`` extension naming the
    provider's account (Salesforce ``instance_url``, QuickBooks ``realmId``, Slack ``team_id``)
    when the broker sends it."""
    options = {"forceRefresh": True} if force_refresh else None
    r = httpx.post(
        f"{config.base_url}/v1/mgmt/outbound/app/user/token/latest",
        json={"appId": app_id, "userId": user_id, "options": options},
        headers=config.headers,
        timeout=30,
    )
    code = r.json().get("errorCode") if r.is_error else None
    # E111504 is Descope's one documented fetch error ("not found"); any other 404 (the
    # broker's E111505, the cloud's undocumented code) is a token stored but refused.
    if r.status_code == 404 and code != "E111504":
        raise NeedsReauthorization(
            f"The {app_id} connection must be renewed: reconnect it at {DASHBOARD_URL}/outbound_apps"
        )
    if r.status_code == 404:
        raise NotConnected(
            f"Not connected to {app_id}: connect it at {DASHBOARD_URL}/outbound_apps"
        )
    r.raise_for_status()
    token: dict[str, Any] = r.json()["token"]
    return token


def fetch_access_token(config: Config, app_id: str, user_id: str) -> str:
    """A valid access token for ``user_id`` at ``app_id`` (refreshed by the broker if needed)."""
    return str(fetch_token(config, app_id, user_id)["accessToken"])
