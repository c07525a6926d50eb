"""Descope's official Python SDK, pointed at a live broker with ``base_url=``, works unpatched."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from descope import AuthException, DeliveryMethod, DescopeClient, RateLimitException

from broker.area_settings import ThrottlePolicy
from broker.crypto import Secret
from tests.support.mailbox import Mailbox
from tests.support.servers import LiveBroker

PASSWORD = "sdk-password-1"


@pytest.fixture(scope="module")
def broker_settings(mailbox: Mailbox) -> dict[str, Any]:
    """Email codes go out by SMTP to the module's loopback mailbox."""
    return {"smtp_url": Secret(mailbox.url)}


def _login() -> str:
    return f"sdk-{secrets.token_hex(4)}@example.test"


def test_construction_reads_the_license_tier(client: DescopeClient) -> None:
    # The SDK keeps the tier on its management HTTP client and sends it as x-descope-license.
    assert client._mgmt_http_client.rate_limit_tier == "tier1"


def test_password_sign_up_then_sign_in(client: DescopeClient) -> None:
    login = _login()
    signed_up = client.password.sign_up(login, PASSWORD, {"name": "Sdk User"})
    assert signed_up["user"]["loginIds"] == [login] and signed_up["firstSeen"] is True
    signed_in = client.password.sign_in(login, PASSWORD)
    assert signed_in["userId"] == signed_up["userId"]
    assert signed_in["sessionToken"]["drn"] == "DS"
    assert signed_in["refreshSessionToken"]["drn"] == "DSR"


def test_validate_session_verifies_locally_against_the_jwks(client: DescopeClient) -> None:
    login = _login()
    jwt = client.password.sign_up(login, PASSWORD)
    claims = client.validate_session(jwt["sessionToken"]["jwt"])
    assert claims["sub"] == jwt["userId"] and claims["projectId"]


def test_refresh_me_and_logout(client: DescopeClient) -> None:
    jwt = client.password.sign_up(_login(), PASSWORD)
    refresh_token = jwt["refreshSessionToken"]["jwt"]
    refreshed = client.refresh_session(refresh_token)
    assert refreshed["sessionToken"]["jwt"] != jwt["sessionToken"]["jwt"]
    assert client.me(refresh_token)["userId"] == jwt["userId"]
    client.logout(refresh_token)
    with pytest.raises(AuthException) as caught:
        client.me(refresh_token)
    assert caught.value.status_code == 401


def test_wrong_password_raises_401(client: DescopeClient) -> None:
    login = _login()
    client.password.sign_up(login, PASSWORD)
    with pytest.raises(AuthException) as caught:
        client.password.sign_in(login, "not-the-password")
    assert caught.value.status_code == 401


def test_otp_sign_in_with_the_emailed_code(client: DescopeClient, mailbox: Mailbox) -> None:
    login = _login()
    client.password.sign_up(login, PASSWORD)
    masked = client.otp.sign_in(DeliveryMethod.EMAIL, login)
    assert masked.endswith("@example.test")
    jwt = client.otp.verify_code(DeliveryMethod.EMAIL, login, mailbox.latest_code(login))
    assert jwt["user"]["verifiedEmail"] is True and jwt["sessionToken"]["amr"] == ["email"]


def test_mgmt_user_create_load_search_all(client: DescopeClient) -> None:
    login = _login()
    created = client.mgmt.user.create(login, email=login, display_name="Managed")
    assert created["user"]["loginIds"] == [login]
    loaded = client.mgmt.user.load(login)
    assert loaded["user"]["userId"] == created["user"]["userId"]
    assert client.mgmt.user.load_by_user_id(created["user"]["userId"])["user"]["name"] == "Managed"
    found = client.mgmt.user.search_all()
    assert found["total"] >= 1 and created["user"]["userId"] in {
        u["userId"] for u in found["users"]
    }
    assert client.mgmt.user.search_all(login_ids=[login])["users"][0]["email"] == login


def test_mgmt_tenant_create_and_load_all(client: DescopeClient) -> None:
    name = f"SDK tenant {secrets.token_hex(3)}"
    created = client.mgmt.tenant.create(name, self_provisioning_domains=["sdk.test"])
    tenants = client.mgmt.tenant.load_all()["tenants"]
    assert {"id": created["id"], "name": name}.items() <= next(
        t for t in tenants if t["id"] == created["id"]
    ).items()
    assert client.mgmt.tenant.load(created["id"])["name"] == name


def test_mgmt_sign_in_and_roles(client: DescopeClient) -> None:
    login = _login()
    client.mgmt.user.create(login)
    client.mgmt.user.set_roles(login, ["outbound-admin"])
    client.mgmt.user.set_active_password(login, PASSWORD)
    jwt = client.password.sign_in(login, PASSWORD)
    assert jwt["sessionToken"]["roles"] == ["outbound-admin"]
    embedded = client.mgmt.jwt.sign_in(login)
    assert embedded["userId"] == jwt["userId"]


def test_rate_limit_surfaces_as_the_sdk_rate_limit_exception(
    make_broker: Callable[..., LiveBroker],
) -> None:
    strict = make_broker(throttle=ThrottlePolicy(login_failures=1))
    sdk = DescopeClient(project_id=strict.project_id, base_url=strict.url)
    with pytest.raises(AuthException):
        sdk.password.sign_in("ghost@example.test", "wrong-password")
    with pytest.raises(RateLimitException) as caught:
        sdk.password.sign_in("ghost@example.test", "wrong-password")
    assert caught.value.rate_limit_parameters["Retry-After"] > 0
