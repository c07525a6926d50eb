"""Demo data: made through the real flow, with a token in every status, kept across restarts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from broker.project.credentials import LOCAL_ENV_FILE, read_env_file
from broker.seed import ADMIN_LOGIN, DEMO_APP_ID, USER_LOGIN, seed_first_run
from tests.support.provider import start_provider
from tests.support.servers import start_broker
from tests.support.stack import running_stack


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


def test_up_with_an_allowed_redirect_starts_and_seeds_on_a_fresh_data_folder(
    tmp_path: Path,
) -> None:
    # The flag replaces the loopback default; the seed's own connects land on the broker itself.
    flag = ["--allowed-redirect", "https://app.example.test"]
    with running_stack(tmp_path / "data", extra_args=flag) as stack:
        env = read_env_file(stack.data_dir / LOCAL_ENV_FILE)
        pid, key = env["OUTBOUND_PROJECT_ID"], env["OUTBOUND_MANAGEMENT_KEY"]
        seeded = _statuses(stack.broker_url, {"Authorization": f"Bearer {pid}:{key}"})
        assert {"active", "refresh_failed", "needs_reauth"} <= set(seeded), seeded
        jwt = httpx.post(
            f"{stack.broker_url}/v1/auth/password/signin",
            headers={"Authorization": f"Bearer {pid}"},
            json={"loginId": stack.sign_in.user_login, "password": stack.sign_in.password},
        ).json()["refreshJwt"]

        def connect_to(redirect: str) -> httpx.Response:
            return httpx.post(
                f"{stack.broker_url}/v1/outbound/oauth/connect",
                headers={"Authorization": f"Bearer {pid}:{jwt}"},
                json={"appId": DEMO_APP_ID, "options": {"redirectUrl": redirect}},
            )

        assert connect_to("https://app.example.test/connected").status_code == 200
        assert connect_to("http://127.0.0.1:9/elsewhere").status_code == 400
