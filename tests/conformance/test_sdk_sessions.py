"""The official SDK's user-management calls that end sessions, against a live broker.

``mgmt.user.logout_user`` / ``logout_user_by_user_id`` (``POST /v1/mgmt/user/logout``),
``deactivate`` / ``activate``, ``set_active_password`` / ``set_temporary_password`` and
``expire_password``: each ends the refresh JWTs issued before it (docs/security.md).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from descope import AuthException, DescopeClient

PASSWORD = "sdk-password-1"


def _signed_up(client: DescopeClient) -> tuple[str, dict[str, Any]]:
    login = f"sdk-{secrets.token_hex(4)}@example.test"
    return login, client.password.sign_up(login, PASSWORD)


def _refresh_of(jwt: dict[str, Any]) -> str:
    token: str = jwt["refreshSessionToken"]["jwt"]
    return token


def _assert_ended(client: DescopeClient, refresh_jwt: str) -> None:
    for call in (client.me, client.refresh_session):
        with pytest.raises(AuthException) as caught:
            call(refresh_jwt)
        assert caught.value.status_code == 401


def test_logout_user_by_user_id_ends_every_session(client: DescopeClient) -> None:
    login, first = _signed_up(client)
    second = client.password.sign_in(login, PASSWORD)
    assert client.me(_refresh_of(second))["userId"] == first["userId"]
    client.mgmt.user.logout_user_by_user_id(first["userId"])
    _assert_ended(client, _refresh_of(first))
    _assert_ended(client, _refresh_of(second))
    # Signing in again works: logout ends sessions, not the account.
    assert client.me(_refresh_of(client.password.sign_in(login, PASSWORD)))["userId"]


def test_logout_user_by_login_id_ends_every_session(client: DescopeClient) -> None:
    login, jwt = _signed_up(client)
    client.mgmt.user.logout_user(login)
    _assert_ended(client, _refresh_of(jwt))


def test_deactivate_ends_sessions_and_activate_does_not_revive_them(
    client: DescopeClient,
) -> None:
    login, jwt = _signed_up(client)
    assert client.mgmt.user.deactivate(login)["user"]["status"] == "disabled"
    _assert_ended(client, _refresh_of(jwt))
    with pytest.raises(AuthException):
        client.password.sign_in(login, PASSWORD)
    assert client.mgmt.user.activate(login)["user"]["status"] == "enabled"
    _assert_ended(client, _refresh_of(jwt))
    assert client.password.sign_in(login, PASSWORD)["userId"] == jwt["userId"]


def test_set_active_password_ends_old_sessions_and_the_new_one_signs_in(
    client: DescopeClient,
) -> None:
    login, jwt = _signed_up(client)
    client.mgmt.user.set_active_password(login, "sdk-password-2")
    _assert_ended(client, _refresh_of(jwt))
    with pytest.raises(AuthException):
        client.password.sign_in(login, PASSWORD)
    assert client.password.sign_in(login, "sdk-password-2")["userId"] == jwt["userId"]


@pytest.mark.parametrize("how", ["expire_password", "set_temporary_password"])
def test_an_expired_password_ends_sessions_and_no_longer_signs_in(
    client: DescopeClient, how: str
) -> None:
    login, jwt = _signed_up(client)
    if how == "expire_password":
        client.mgmt.user.expire_password(login)
    else:
        client.mgmt.user.set_temporary_password(login, PASSWORD)
    _assert_ended(client, _refresh_of(jwt))
    with pytest.raises(AuthException) as caught:
        client.password.sign_in(login, PASSWORD)
    assert caught.value.status_code == 401 and caught.value.error_message
    assert "E062909" in str(caught.value)
