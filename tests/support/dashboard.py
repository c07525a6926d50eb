"""The dashboard for tests: pointed at a live broker, in-process (AppTest) or as a real server.

Two modes (``MODES``): ``local``, the embedded broker as ``outbound up`` runs it (the dashboard
reads ``local.env``); and ``strict``, the broker with ``--strict-descope`` standing in for
Descope's cloud, the dashboard configured for the cloud (``DESCOPE_PROJECT_ID``,
``DESCOPE_MANAGEMENT_KEY``, ``DESCOPE_BASE_URI`` pointing at it).

``start_dashboard`` runs ``python -m streamlit run dashboard`` as a subprocess on a free port
(the same command ``outbound up`` uses) and waits for ``/_stcore/health``. Other areas' e2e
tests reuse it: pass ``env`` overrides for their own settings.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from broker.area_settings import ThrottlePolicy
from broker.cli import dashboard_argv
from broker.readiness import DASHBOARD_HEALTH, wait_until_up
from dashboard.descope import DescopeClient, MemorySessions, Secret, Session, Transport, User
from tests.support.servers import (
    REPO_ROOT,
    LiveBroker,
    free_port,
    spawn,
    start_broker,
    stop_process_group,
)

ENTRYPOINT = REPO_ROOT / "dashboard" / "streamlit_app.py"
PASSWORD = "correct horse battery staple"
ADMIN_ROLE = "outbound-admin"
# Small limits so a test can reach the sign-in throttle in a few attempts.
TEST_THROTTLE = ThrottlePolicy(login_failures=3, window_s=30)
# A developer's own Descope settings never leak into a test's dashboard.
DESCOPE_VARIABLES = (
    "DESCOPE_PROJECT_ID",
    "DESCOPE_MANAGEMENT_KEY",
    "DESCOPE_BASE_URL",
    "DESCOPE_BASE_URI",
)


MODES = ("local", "strict")
# For a test of what only the embedded broker offers (its outbox, catalog, bulk inventory,
# first-run banner): run it against the ``local`` broker alone.
LOCAL_ONLY = pytest.mark.parametrize("live", ["local"], indirect=True)
# For what only the cloud's way does (the tokens page's collected, kept inventory).
STRICT_ONLY = pytest.mark.parametrize("live", ["strict"], indirect=True)


def dashboard_broker_settings(**settings: Any) -> dict[str, Any]:
    """Broker ``settings`` for dashboard tests: the small sign-in throttle added."""
    return {"throttle": TEST_THROTTLE, **settings}


def start_dashboard_broker(data_dir: Path, mode: str = "local", **settings: Any) -> LiveBroker:
    """A SQLite broker for dashboard tests, with a small sign-in throttle; ``mode="strict"``
    serves only Descope's surface (the cloud's stand-in)."""
    strict = mode == "strict"
    return start_broker(data_dir, strict_descope=strict, **dashboard_broker_settings(**settings))


def client_of(transport: Transport, refresh_jwt: str | None = None) -> DescopeClient:
    """A dashboard client over ``transport``, acting as the holder of ``refresh_jwt`` if given."""
    client = DescopeClient(transport)
    return client.holding(Secret(refresh_jwt)) if refresh_jwt else client


def client_signed_in_as(transport: Transport, refresh_jwt: str) -> DescopeClient:
    """A client whose session holds ``refresh_jwt`` unverified (a JWT the target must refuse)."""
    user = User("U0", (), "", "", "enabled", (), ())
    session = Session(Secret(""), Secret(refresh_jwt), 0.0, user, (), 0.0)
    return DescopeClient(transport, sessions=MemorySessions(session))


def is_strict(live: LiveBroker) -> bool:
    """Whether ``live`` stands in for Descope's cloud."""
    return live.broker.settings.strict_descope


def dashboard_env(live: LiveBroker, env_file: Path, **overrides: str) -> dict[str, str]:
    """Environment variables that point the dashboard's settings at ``live``: its ``local.env``,
    or, for a strict broker, the cloud settings with ``DESCOPE_BASE_URI`` set to it.

    ``env_file`` stands in for ``.env`` (an empty file keeps a developer's own ``.env`` out).
    """
    env_file.touch()
    cloud = (
        {
            "DESCOPE_PROJECT_ID": live.project_id,
            "DESCOPE_MANAGEMENT_KEY": live.management_key,
            "DESCOPE_BASE_URI": live.url,
        }
        if is_strict(live)
        else {}
    )
    return {
        "OUTBOUND_DATA_DIR": str(live.data_dir),
        "OUTBOUND_ENV_FILE": str(env_file),
        **cloud,
        **overrides,
    }


def point_dashboard_at(
    monkeypatch: pytest.MonkeyPatch, live: LiveBroker, tmp_path: Path, **overrides: str
) -> None:
    """Point this process's dashboard settings at ``live`` (for AppTest and unit tests)."""
    from dashboard.settings import get_settings

    for name in DESCOPE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in dashboard_env(live, tmp_path / "test.env", **overrides).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def create_user(
    live: LiveBroker,
    login_id: str,
    *,
    password: str = PASSWORD,
    roles: tuple[str, ...] = (),
    name: str = "",
) -> str:
    """Create an enabled user with a password through the management API; its user id."""
    response = httpx.post(
        f"{live.url}/v1/mgmt/user/create",
        headers=live.mgmt_headers(),
        json={
            "loginId": login_id,
            "email": login_id if "@" in login_id else None,
            "displayName": name or login_id.split("@")[0],
            "password": password,
            "roleNames": list(roles),
        },
    )
    response.raise_for_status()
    user_id: str = response.json()["user"]["userId"]
    return user_id


@dataclass
class RunningDashboard:
    """A dashboard server started by ``start_dashboard``."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Stop the server and its children."""
        stop_process_group(self.process)


def start_dashboard(
    live: LiveBroker,
    work_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> RunningDashboard:
    """Run ``python -m streamlit run dashboard`` against ``live`` on a free loopback port."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    child_env = {k: v for k, v in os.environ.items() if k not in DESCOPE_VARIABLES}
    child_env.update(dashboard_env(live, work_dir / "test.env", OUTBOUND_DASHBOARD_URL=url))
    child_env.update(env or {})
    log_path = work_dir / "dashboard.log"
    process = spawn(dashboard_argv(port, watch_files=False), log_path, child_env)
    running = RunningDashboard(url=url, process=process, log_path=log_path)
    if not wait_until_up(url + DASHBOARD_HEALTH, process=process):
        running.stop()
        tail = log_path.read_text()[-3000:]
        raise RuntimeError(f"dashboard did not start; log:\n{tail}")
    return running


@contextmanager
def running_dashboard(
    live: LiveBroker, work_dir: Path, **kwargs: Any
) -> Iterator[RunningDashboard]:
    """``start_dashboard`` as a context manager that always stops it."""
    dashboard = start_dashboard(live, work_dir, **kwargs)
    try:
        yield dashboard
    finally:
        dashboard.stop()
