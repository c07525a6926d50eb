"""Demo data: made through the real flow, with a token in every status, kept across restarts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from broker.seed import ADMIN_LOGIN, USER_LOGIN, seed_first_run
from tests.support.provider import start_provider
from tests.support.servers import start_broker


def _statuses(url: str, headers: dict[str, str]) -> Counter[str]:
    rows = httpx.get(
        f"{url}/v1/x/outbound/inventory", params={"limit": 500}, headers=headers
    ).json()
    return Counter(str(r["status"]) for r in rows["tokens"])


def test_first_run_seeds_every_status_and_a_second_run_keeps_it(tmp_path: Path) -> None:
    provider = start_provider(auto_approve=False)
    live = start_broker(tmp_path / "data")
    try:
        accounts = seed_first_run(live.broker.settings, provider_url=provider.url)
        first = _statuses(live.url, live.mgmt_headers())
        assert {"active", "refresh_failed", "needs_reauth", "expired"} <= set(first), first
        signed_in = httpx.post(
            f"{live.url}/v1/auth/password/signin",
            headers=live.project_headers(),
            json={"loginId": USER_LOGIN, "password": accounts.password},
        )
        assert signed_in.status_code == 200
        again = seed_first_run(live.broker.settings, provider_url=provider.url)
        assert again == accounts
        assert sum(_statuses(live.url, live.mgmt_headers()).values()) == sum(first.values())
        admin = httpx.get(
            f"{live.url}/v1/mgmt/user", params={"loginId": ADMIN_LOGIN}, headers=live.mgmt_headers()
        ).json()["user"]
        assert "outbound-admin" in admin["roleNames"]
    finally:
        live.stop()
        provider.stop()
