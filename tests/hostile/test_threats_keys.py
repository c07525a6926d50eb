"""Keys and the data folder: what an operator's rotation or a local OS user must not undo.

Each test is an attack from the threat model (docs/security.md, "broker ↔ disk").
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker import crypto
from broker.cli import main
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker, start_broker


def _license_status(live: LiveBroker, key: str) -> int:
    return httpx.get(
        f"{live.url}/v1/mgmt/license",
        headers={"Authorization": f"Bearer {live.project_id}:{key}"},
    ).status_code


def _new_key_and_revoke_the_rest(data: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["keys", "new-management-key", "--name", "kept", "--data-dir", str(data)]) == 0
    kept = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "revoke-other-keys", "--keep", kept, "--data-dir", str(data)]) == 0
    return kept


def _rotate_master_with_first_sorting_id(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``outbound keys rotate-master`` whose new key id sorts before every other id."""
    with monkeypatch.context() as m:
        m.setattr(crypto.secrets, "token_hex", lambda n=4: "0" * (2 * n))
        assert main(["keys", "rotate-master", "--data-dir", str(data)]) == 0


@pytest.mark.parametrize(
    "revoked_key_pinned", [False, True], ids=["local.env", "OUTBOUND_MANAGEMENT_KEY"]
)
def test_revoked_management_key_stays_revoked_after_master_rotation(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    revoked_key_pinned: bool,
) -> None:
    """``new-management-key``, ``revoke-other-keys --keep K2``, ``rotate-master``, restart.

    With the revoked key still named at start-up (an operator's old environment), it must not
    come back either.
    """
    data = tmp_path / "data"
    first = start_broker(data)
    revoked = first.management_key
    first.stop()
    kept = _new_key_and_revoke_the_rest(data, capsys)
    _rotate_master_with_first_sorting_id(data, monkeypatch)
    if revoked_key_pinned:
        monkeypatch.setenv("OUTBOUND_MANAGEMENT_KEY", revoked)
    again = start_broker(data)
    try:
        assert _license_status(again, kept) == 200
        assert _license_status(again, revoked) == 401
    finally:
        again.stop()


def test_revoking_the_local_key_points_local_env_at_the_kept_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    start_broker(data).stop()
    kept = _new_key_and_revoke_the_rest(data, capsys)
    assert f"OUTBOUND_MANAGEMENT_KEY={kept}\n" in (data / "local.env").read_text()


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """An operator whose shell creates world-readable files (umask 022)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(data: Path) -> dict[str, int]:
    return {
        str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]
    }


def _assert_private(data: Path) -> None:
    modes = _modes(data)
    for name in ("broker.db", "broker.db-wal", "broker.db-shm", "master.keys", "local.env"):
        assert name in modes, f"{name} missing: {sorted(modes)}"
    loose = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (data / name).is_dir() else 0o600)
    }
    assert not loose, f"readable by other local users: {loose}"


def test_local_user_cannot_read_the_database_wal_or_keys(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "data"
    live = start_broker(data)
    try:
        sign_in_new_user(live)  # a write: the WAL and SHM files exist now
        _assert_private(data)
    finally:
        live.stop()


def test_loose_modes_on_the_data_folder_are_repaired_at_start(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    live = start_broker(data)
    sign_in_new_user(live)
    live.stop()
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    again = start_broker(data)
    try:
        sign_in_new_user(again)
        _assert_private(data)
    finally:
        again.stop()


def test_sealed_value_copied_to_another_row_does_not_open(tmp_path: Path) -> None:
    """Someone with write access to the database moves a sealed token under their own row."""
    ring = crypto.KeyRing.load_or_create(tmp_path)
    sealed = ring.seal("victim-refresh-token", context="token:T-victim:refresh")
    with pytest.raises(crypto.SealError):
        ring.unseal(sealed, context="token:T-attacker:refresh")
    with pytest.raises(crypto.SealError):
        ring.unseal(sealed, context="token:T-victim:access")
    assert ring.rotated().unseal(sealed, context="token:T-victim:refresh") == "victim-refresh-token"
