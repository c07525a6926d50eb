"""Identity data lives in the database: users, passwords, tenants and sessions survive a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.support.servers import LiveBroker


@pytest.mark.parametrize("backend", BACKENDS)
def test_users_and_sessions_survive_a_restart(
    backend: str, make_broker: Callable[..., LiveBroker], tmp_path: Path
) -> None:
    first = make_broker(backend=backend, data_dir=tmp_path / "data")
    signed_up = httpx.post(
        f"{first.url}/v1/auth/password/signup",
        json={"loginId": "keeper@example.test", "password": "survives-restarts"},
        headers=first.project_headers(),
    ).json()
    tenant = httpx.post(
        f"{first.url}/v1/mgmt/tenant/create",
        json={"id": None, "name": "Kept"},
        headers=first.mgmt_headers(),
    ).json()["id"]
    first.stop()

    second = make_broker(
        backend=backend, data_dir=tmp_path / "data", database_url=first.broker.settings.database_url
    )
    assert second.project_id == first.project_id
    me = httpx.get(f"{second.url}/v1/auth/me", headers=second.user_headers(signed_up["refreshJwt"]))
    assert me.status_code == 200 and me.json()["userId"] == signed_up["user"]["userId"]
    refreshed = httpx.post(
        f"{second.url}/v1/auth/refresh",
        json={},
        headers=second.user_headers(signed_up["refreshJwt"]),
    )
    assert refreshed.status_code == 200
    signed_in = httpx.post(
        f"{second.url}/v1/auth/password/signin",
        json={"loginId": "keeper@example.test", "password": "survives-restarts"},
        headers=second.project_headers(),
    )
    assert signed_in.status_code == 200 and signed_in.json()["firstSeen"] is False
    tenants = httpx.get(f"{second.url}/v1/mgmt/tenant/all", headers=second.mgmt_headers()).json()
    assert [t["id"] for t in tenants["tenants"]] == [tenant]
