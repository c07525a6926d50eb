"""Operators rotate keys with `outbound keys`: nothing sealed or signed before is lost."""

from __future__ import annotations

from pathlib import Path

import httpx

from broker.cli import main
from tests.support.identity import sign_in_new_user
from tests.support.servers import start_broker


def test_master_key_rotation_keeps_old_secrets_readable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_broker(data)
    user = sign_in_new_user(first)
    first.stop()
    assert main(["keys", "rotate-master", "--data-dir", str(data)]) == 0
    again = start_broker(data)
    try:
        assert len(again.broker.ring.keys) == 2
        # Signing keys were sealed under the old master key: sessions still verify.
        claims = again.broker.signing.verify(user.refresh_jwt, drn="DSR")
        assert claims["sub"] == user.user_id
        assert (
            again.broker.ring.unseal(again.broker.ring.seal("x", context="c"), context="c") == "x"
        )
    finally:
        again.stop()


def test_signing_key_rotation_publishes_both_keys_and_old_tokens_still_verify(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = start_broker(data)
    user = sign_in_new_user(first)
    first.stop()
    assert main(["keys", "rotate-signing", "--data-dir", str(data)]) == 0
    again = start_broker(data)
    try:
        keys = httpx.get(f"{again.url}/v2/keys/{again.project_id}").json()["keys"]
        assert len(keys) == 2
        assert again.broker.signing.verify(user.refresh_jwt, drn="DSR")["sub"] == user.user_id
        fresh = sign_in_new_user(again)
        assert again.broker.signing.verify(fresh.refresh_jwt, drn="DSR")["sub"] == fresh.user_id
    finally:
        again.stop()


def test_a_new_management_key_works_and_revoking_others_keeps_only_it(
    tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    first = start_broker(data)
    old_key = first.management_key
    first.stop()
    assert main(["keys", "new-management-key", "--name", "ci", "--data-dir", str(data)]) == 0
    new_key = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "revoke-other-keys", "--keep", new_key, "--data-dir", str(data)]) == 0
    again = start_broker(data)
    try:

        def license_with(key: str) -> int:
            return httpx.get(
                f"{again.url}/v1/mgmt/license",
                headers={"Authorization": f"Bearer {again.project_id}:{key}"},
            ).status_code

        assert license_with(new_key) == 200
        assert license_with(old_key) == 401
    finally:
        again.stop()


def test_a_key_revoked_by_another_worker_stops_working_in_a_running_broker(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from broker.project import credentials as project
    from broker.project.credentials import ManagementKeys

    live = start_broker(tmp_path / "data")
    try:
        other_worker = ManagementKeys(live.broker.db, live.broker.ring)
        kept = other_worker.create("kept")
        url = f"{live.url}/v1/mgmt/license"
        assert httpx.get(url, headers=live.mgmt_headers()).status_code == 200
        other_worker.revoke_all_except(kept.reveal())
        later = project.now_s() + project.MAX_CACHE_AGE_S + 1
        monkeypatch.setattr(project, "now_s", lambda: later)
        assert httpx.get(url, headers=live.mgmt_headers()).status_code == 401
    finally:
        live.stop()
