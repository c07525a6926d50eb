"""Dashboard settings: the target, Descope's regional base URL rule, precedence, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.descope import Secret
from dashboard.descope.errors import ConfigurationError
from dashboard.descope.transport import Transport
from dashboard.settings import base_url_for_project_id, load_settings

REGIONAL_ID = "Peuc1" + "a" * 27  # 32 characters: region "euc1"


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"OUTBOUND_ENV_FILE": str(tmp_path / "absent.env"), **values}


def test_a_32_character_project_id_targets_its_regional_descope_host(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, DESCOPE_PROJECT_ID=REGIONAL_ID))
    assert settings.target == "descope"
    assert settings.base_url == "https://api.euc1.descope.com"
    with Transport(settings.base_url, settings.project_id) as transport:
        assert transport.base_url == "https://api.euc1.descope.com"


def test_a_short_project_id_targets_the_default_host() -> None:
    assert base_url_for_project_id("P" + "b" * 27) == "https://api.descope.com"


def test_an_explicit_base_url_wins_over_the_region(tmp_path: Path) -> None:
    settings = load_settings(
        env(tmp_path, DESCOPE_PROJECT_ID=REGIONAL_ID, DESCOPE_BASE_URL="https://auth.example.com/")
    )
    assert settings.base_url == "https://auth.example.com"


@pytest.mark.parametrize("project_id", [REGIONAL_ID, "P" + "b" * 27, "Puse1" + "c" * 28, "Pshort"])
def test_the_region_is_derived_exactly_as_the_python_sdk_derives_it(project_id: str) -> None:
    from descope.http_client import HTTPClient

    assert base_url_for_project_id(project_id) == HTTPClient.base_url_for_project_id(project_id)


def test_descope_base_uri_is_honoured_as_the_python_sdk_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from descope.http_client import HTTPClient

    values = {"DESCOPE_BASE_URI": "https://auth.example.com", "DESCOPE_BASE_URL": "https://x.test"}
    settings = load_settings(env(tmp_path, DESCOPE_PROJECT_ID=REGIONAL_ID, **values))
    monkeypatch.setenv("DESCOPE_BASE_URI", values["DESCOPE_BASE_URI"])
    sdk = HTTPClient(project_id=REGIONAL_ID)
    assert settings.base_url == sdk.base_url == "https://auth.example.com"


def test_without_descope_the_embedded_broker_is_read_from_local_env(tmp_path: Path) -> None:
    (tmp_path / "local.env").write_text(
        "OUTBOUND_PROJECT_ID=Plocal\nOUTBOUND_MANAGEMENT_KEY=Ksecret\n"
        "OUTBOUND_BROKER_URL=http://127.0.0.1:8787\n"
    )
    settings = load_settings(env(tmp_path, OUTBOUND_DATA_DIR=str(tmp_path)))
    assert (settings.target, settings.project_id, settings.base_url) == (
        "local",
        "Plocal",
        "http://127.0.0.1:8787",
    )
    assert settings.management_key == Secret("Ksecret")
    assert "Ksecret" not in repr(settings)
    assert settings.admin_roles == ("outbound-admin",)
    assert settings.dashboard_url == "http://127.0.0.1:8501"


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"DESCOPE_PROJECT_ID={REGIONAL_ID}\nOUTBOUND_ADMIN_ROLES=from-file\nDESCOPE_MANAGEMENT_KEY=Kf\n"
    )
    settings = load_settings(
        {"OUTBOUND_ENV_FILE": str(dotenv), "OUTBOUND_ADMIN_ROLES": "ops, admins"}
    )
    assert settings.project_id == REGIONAL_ID
    assert settings.admin_roles == ("ops", "admins")
    assert settings.management_key is not None and settings.management_key.reveal() == "Kf"


def test_no_target_at_all_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env(tmp_path, OUTBOUND_DATA_DIR=str(tmp_path / "empty")))
    assert "outbound up" in str(caught.value)


def test_secrets_are_masked_everywhere_but_reveal() -> None:
    secret = Secret("K-very-secret")
    assert "very" not in repr(secret) and "very" not in str(secret) and "very" not in f"{secret}"
    assert secret.reveal() == "K-very-secret"


def test_demo_mode_is_for_the_embedded_broker_only(tmp_path: Path) -> None:
    (tmp_path / "local.env").write_text(
        "OUTBOUND_PROJECT_ID=Plocal\nOUTBOUND_BROKER_URL=http://127.0.0.1:8787\n"
    )
    local = env(tmp_path, OUTBOUND_DATA_DIR=str(tmp_path))
    assert not load_settings(local).demo_mode  # off unless asked for
    assert load_settings({**local, "OUTBOUND_DEMO_MODE": "1"}).demo_mode
    # Against Descope's cloud, codes are emailed by Descope: there is no demo to announce.
    cloud = {**local, "OUTBOUND_DEMO_MODE": "1", "DESCOPE_PROJECT_ID": REGIONAL_ID}
    assert not load_settings(cloud).demo_mode
