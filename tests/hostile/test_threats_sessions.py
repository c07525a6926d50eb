"""Sessions end when they should: deactivation, a new or expired password, a role taken away,
and Descope's management logout end every refresh JWT issued before, on every route a user's
JWT opens (docs/security.md, "dashboard ↔ broker").
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.seed import ADMIN_ROLE
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.servers import LiveBroker

PASSWORD = "a-long-enough-password"


def _doors(live: LiveBroker, jwt: str, app_id: str) -> dict[str, httpx.Response]:
    """Every route a user's refresh JWT opens, called once each."""
    headers = live.user_headers(jwt)
    url = live.url
    return {
        "me": httpx.get(f"{url}/v1/auth/me", headers=headers),
        "my tenants": httpx.post(f"{url}/v1/auth/me/tenants", headers=headers, json={"dct": True}),
        "refresh": httpx.post(f"{url}/v1/auth/refresh", headers=headers),
        "try-refresh": httpx.post(f"{url}/v1/auth/try-refresh", headers=headers),
        "apps": httpx.get(f"{url}/v1/mgmt/outbound/apps", headers=headers),
        "catalog": httpx.get(f"{url}/v1/x/outbound/catalog", headers=headers),
        "apps with tokens": httpx.get(
            f"{url}/v1/mgmt/outbound/apps-with-user-token", headers=headers
        ),
        "connect": httpx.post(
            f"{url}/v1/outbound/oauth/connect",
            headers=headers,
            json={"appId": app_id, "options": {"redirectUrl": "http://127.0.0.1:9/landing"}},
        ),
        "logout": httpx.post(f"{url}/v1/auth/logout", headers=headers),
    }


def _me_status(live: LiveBroker, jwt: str) -> int:
    """One door only (``_doors`` ends with a logout, so it is for the final check)."""
    return httpx.get(f"{live.url}/v1/auth/me", headers=live.user_headers(jwt)).status_code


def _assert_every_door_shut(live: LiveBroker, jwt: str, app_id: str) -> None:
    open_doors = {
        name: f"{r.status_code} {r.text[:80]}"
        for name, r in _doors(live, jwt, app_id).items()
        if r.status_code != 401
    }
    assert not open_doors, f"still open after the session should have ended: {open_doors}"


def _mgmt(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    answer = httpx.post(f"{live.url}{path}", headers=live.mgmt_headers(), json=body)
    assert answer.status_code == 200, answer.text
    return answer


def _user_with_password(live: LiveBroker, roles: list[str] | None = None) -> SignedInUser:
    user = sign_in_new_user(live, roles=roles)
    _mgmt(
        live,
        "/v1/mgmt/user/password/set/active",
        {"loginId": user.login_id, "password": PASSWORD, "setActive": True},
    )
    return sign_in_with_password(live, user)


def sign_in_with_password(live: LiveBroker, user: SignedInUser) -> SignedInUser:
    """A fresh password sign-in of ``user``."""
    r = _password_sign_in(live, user.login_id)
    assert r.status_code == 200, r.text
    body = r.json()
    return SignedInUser(user.user_id, user.login_id, body["sessionJwt"], body["refreshJwt"])


def _password_sign_in(live: LiveBroker, login_id: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/auth/password/signin",
        headers=live.project_headers(),
        json={"loginId": login_id, "password": PASSWORD},
    )


def test_deactivated_user_refresh_jwt_is_refused_everywhere(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    assert _me_status(live_broker, user.refresh_jwt) == 200
    _mgmt(
        live_broker,
        "/v1/mgmt/user/update/status",
        {"loginId": user.login_id, "status": "disabled"},
    )
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)


def test_reactivating_a_user_does_not_revive_its_old_refresh_jwt(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    for status in ("disabled", "enabled"):
        _mgmt(
            live_broker,
            "/v1/mgmt/user/update/status",
            {"loginId": user.login_id, "status": status},
        )
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)


def test_refresh_jwt_from_before_an_admin_set_the_password_is_refused(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = _user_with_password(live_broker)
    _mgmt(
        live_broker,
        "/v1/mgmt/user/password/set/active",
        {"loginId": user.login_id, "password": "another-long-password", "setActive": True},
    )
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)


def test_expired_password_ends_sessions_and_no_longer_signs_in(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = _user_with_password(live_broker)
    _mgmt(live_broker, "/v1/mgmt/user/password/expire", {"loginId": user.login_id})
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)
    refused = _password_sign_in(live_broker, user.login_id)
    assert refused.status_code == 401 and refused.json()["errorCode"] == "E062909"


def test_temporary_password_does_not_sign_in(live_broker: LiveBroker) -> None:
    user = _user_with_password(live_broker)
    _mgmt(
        live_broker,
        "/v1/mgmt/user/password/set/temporary",
        {"loginId": user.login_id, "password": PASSWORD, "setActive": False},
    )
    assert _password_sign_in(live_broker, user.login_id).json()["errorCode"] == "E062909"


@pytest.mark.parametrize("tenant_level", [False, True], ids=["project role", "tenant role"])
def test_refresh_jwt_carrying_a_removed_admin_role_is_refused(
    live_broker: LiveBroker, app_id: str, tenant_level: bool
) -> None:
    user = sign_in_new_user(live_broker, roles=[] if tenant_level else [ADMIN_ROLE])
    role_body: dict[str, Any] = {"loginId": user.login_id, "roleNames": [ADMIN_ROLE]}
    if tenant_level:
        tenant = _mgmt(live_broker, "/v1/mgmt/tenant/create", {"name": f"t-{user.user_id}"})
        role_body["tenantId"] = tenant.json()["id"]
        _mgmt(
            live_broker,
            "/v1/mgmt/user/update/tenant/add",
            {"loginId": user.login_id, "tenantId": role_body["tenantId"]},
        )
        _mgmt(live_broker, "/v1/mgmt/user/update/role/add", role_body)
        user = sign_in_new_user_again(live_broker, user)
    # Adding a role takes nothing away: the session lives on.
    _mgmt(live_broker, "/v1/mgmt/user/update/role/add", {**role_body, "roleNames": ["viewer"]})
    assert _me_status(live_broker, user.refresh_jwt) == 200
    _mgmt(live_broker, "/v1/mgmt/user/update/role/remove", role_body)
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)


def sign_in_new_user_again(live: LiveBroker, user: SignedInUser) -> SignedInUser:
    """A fresh sign-in of an existing user (management sign-in), so its JWTs carry new roles."""
    body = _mgmt(live, "/v1/mgmt/auth/signin", {"loginId": user.login_id}).json()
    return SignedInUser(user.user_id, user.login_id, body["sessionJwt"], body["refreshJwt"])


@pytest.mark.parametrize("by", ["loginId", "userId"])
def test_management_logout_ends_every_session_of_the_user(
    live_broker: LiveBroker, app_id: str, by: str
) -> None:
    user = sign_in_new_user(live_broker)
    second = sign_in_new_user_again(live_broker, user)
    bystander = sign_in_new_user(live_broker)
    ref = user.login_id if by == "loginId" else user.user_id
    _mgmt(live_broker, "/v1/mgmt/user/logout", {by: ref})
    _assert_every_door_shut(live_broker, user.refresh_jwt, app_id)
    _assert_every_door_shut(live_broker, second.refresh_jwt, app_id)
    assert _me_status(live_broker, bystander.refresh_jwt) == 200
