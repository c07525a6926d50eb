"""The broker's first floor: it starts, answers JSON errors in Descope's shape, keeps its data."""

from __future__ import annotations

import httpx

from tests.support.servers import LiveBroker, start_broker


def test_health_answers_with_the_project_id(live_broker: LiveBroker) -> None:
    r = httpx.get(f"{live_broker.url}/v1/x/health")
    assert r.status_code == 200
    assert r.json()["projectId"] == live_broker.project_id


def test_project_id_has_descope_shape(live_broker: LiveBroker) -> None:
    pid = live_broker.project_id
    assert pid.startswith("P") and len(pid) == 28 and pid.isalnum()


def test_unknown_endpoint_is_a_descope_404(live_broker: LiveBroker) -> None:
    r = httpx.get(f"{live_broker.url}/v1/nothing/here")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "E011006"


def test_license_needs_a_valid_management_key(live_broker: LiveBroker) -> None:
    ok = httpx.get(f"{live_broker.url}/v1/mgmt/license", headers=live_broker.mgmt_headers())
    assert ok.json() == {"rateLimitTier": "tier1"}
    wrong = httpx.get(
        f"{live_broker.url}/v1/mgmt/license",
        headers={"Authorization": f"Bearer {live_broker.project_id}:Kwrong"},
    )
    assert wrong.status_code == 401 and wrong.json()["errorCode"].startswith("E")
    other_project = httpx.get(
        f"{live_broker.url}/v1/mgmt/license",
        headers={"Authorization": f"Bearer Pother:{live_broker.management_key}"},
    )
    assert other_project.status_code == 401


def test_oversized_body_is_413(live_broker: LiveBroker) -> None:
    r = httpx.post(
        f"{live_broker.url}/v1/mgmt/license",
        content=b"x" * (2 << 20),
        headers=live_broker.mgmt_headers(),
    )
    assert r.status_code == 413
    assert r.json()["errorCode"] == "E011008"


def test_jwks_publishes_rs256_keys_with_kid_and_alg(live_broker: LiveBroker) -> None:
    keys = httpx.get(f"{live_broker.url}/v2/keys/{live_broker.project_id}").json()["keys"]
    assert keys and all(k["alg"] == "RS256" and k["kid"] and k["kty"] == "RSA" for k in keys)


def test_credentials_and_keys_survive_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = start_broker(tmp_path / "data")
    pid, key = first.project_id, first.management_key
    kids = [k["kid"] for k in first.broker.signing.jwks()["keys"]]
    first.stop()
    second = start_broker(tmp_path / "data")
    try:
        assert second.project_id == pid
        r = httpx.get(f"{second.url}/v1/mgmt/license", headers=second.mgmt_headers())
        assert second.management_key == key and r.status_code == 200
        assert [k["kid"] for k in second.broker.signing.jwks()["keys"]] == kids
    finally:
        second.stop()


def test_local_env_holds_the_credentials(live_broker: LiveBroker) -> None:
    text = (live_broker.data_dir / "local.env").read_text()
    assert f"OUTBOUND_PROJECT_ID={live_broker.project_id}" in text
    assert (live_broker.data_dir / "local.env").stat().st_mode & 0o077 == 0
