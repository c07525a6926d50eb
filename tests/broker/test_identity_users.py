"""Management of users and tenants on the wire: create, load, search, status, roles, tenants."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.servers import LiveBroker


def _mgmt(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", json=body, headers=live.mgmt_headers())


def _create_user(live: LiveBroker, **fields: Any) -> dict[str, Any]:
    body = {"loginId": f"u-{secrets.token_hex(5)}@example.test", "roleNames": [], **fields}
    r = _mgmt(live, "/v1/mgmt/user/create", body)
    assert r.status_code == 200, r.text
    user: dict[str, Any] = r.json()["user"]
    return user


def _create_tenant(live: LiveBroker, name: str | None = None) -> str:
    r = _mgmt(
        live, "/v1/mgmt/tenant/create", {"id": None, "name": name or f"T-{secrets.token_hex(4)}"}
    )
    assert r.status_code == 200, r.text
    tenant_id: str = r.json()["id"]
    return tenant_id


def _search(live: LiveBroker, **body: Any) -> dict[str, Any]:
    r = _mgmt(
        live,
        "/v2/mgmt/user/search",
        {"tenantIds": [], "roleNames": [], "limit": 0, "page": 0, **body},
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_create_accepts_the_sdk_body_with_explicit_nulls(live_broker: LiveBroker) -> None:
    user = _create_user(
        live_broker,
        email="ada@example.test",
        phone=None,
        displayName="Ada",
        userTenants=[],
        test=False,
        picture=None,
        customAttributes=None,
        additionalLoginIds=None,
        ssoAppIDs=None,
        invite=False,
    )
    assert user["name"] == "Ada" and user["email"] == "ada@example.test"
    assert user["status"] == "enabled" and user["userTenants"] == [] and user["password"] is False


def test_load_by_login_id_or_user_id(live_broker: LiveBroker) -> None:
    user = _create_user(live_broker)
    for params in ({"loginId": user["loginIds"][0]}, {"userId": user["userId"]}):
        r = httpx.get(
            f"{live_broker.url}/v1/mgmt/user", params=params, headers=live_broker.mgmt_headers()
        )
        assert r.json()["user"]["userId"] == user["userId"]
    missing = httpx.get(
        f"{live_broker.url}/v1/mgmt/user",
        params={"loginId": "nobody"},
        headers=live_broker.mgmt_headers(),
    )
    assert missing.status_code == 404 and missing.json()["errorCode"] == "E112102"


def test_users_load_leaves_out_unknown_ids(live_broker: LiveBroker) -> None:
    a, b = _create_user(live_broker), _create_user(live_broker)
    r = _mgmt(live_broker, "/v1/mgmt/users/load", {"userIds": [a["userId"], "Unope", b["userId"]]})
    assert [u["userId"] for u in r.json()["users"]] == [a["userId"], b["userId"]]


def test_search_pages_from_zero_and_limit_zero_means_default(live_broker: LiveBroker) -> None:
    tag = secrets.token_hex(4)
    made = {_create_user(live_broker, displayName=f"pager {tag} {i}")["userId"] for i in range(5)}
    everything = _search(live_broker, text=f"pager {tag}")
    assert everything["total"] == 5 and len(everything["users"]) == 5
    pages = [_search(live_broker, text=f"pager {tag}", limit=2, page=p) for p in range(3)]
    assert [len(p["users"]) for p in pages] == [2, 2, 1]
    assert {u["userId"] for p in pages for u in p["users"]} == made
    assert all(p["total"] == 5 for p in pages)


def test_search_filters_by_status_tenant_role_email_and_ids(live_broker: LiveBroker) -> None:
    tenant = _create_tenant(live_broker)
    member = _create_user(live_broker, userTenants=[{"tenantId": tenant, "roleNames": ["viewer"]}])
    admin = _create_user(
        live_broker, roleNames=["outbound-admin"], email=f"{secrets.token_hex(4)}@admins.test"
    )
    disabled = _create_user(live_broker)
    _mgmt(
        live_broker,
        "/v1/mgmt/user/update/status",
        {"loginId": disabled["loginIds"][0], "status": "disabled"},
    )

    assert [u["userId"] for u in _search(live_broker, tenantIds=[tenant])["users"]] == [
        member["userId"]
    ]
    assert admin["userId"] in {
        u["userId"] for u in _search(live_broker, roleNames=["outbound-admin"])["users"]
    }
    assert member["userId"] not in {
        u["userId"] for u in _search(live_broker, roleNames=["outbound-admin"])["users"]
    }
    assert [u["userId"] for u in _search(live_broker, emails=[admin["email"]])["users"]] == [
        admin["userId"]
    ]
    assert [u["userId"] for u in _search(live_broker, userIds=[member["userId"]])["users"]] == [
        member["userId"]
    ]
    assert [
        u["userId"] for u in _search(live_broker, loginIds=[admin["loginIds"][0]])["users"]
    ] == [admin["userId"]]
    disabled_ids = {u["userId"] for u in _search(live_broker, statuses=["disabled"])["users"]}
    assert disabled["userId"] in disabled_ids and member["userId"] not in disabled_ids


def test_search_sorts_and_rejects_bad_paging(live_broker: LiveBroker) -> None:
    tag = secrets.token_hex(4)
    for name in ("b", "c", "a"):
        _create_user(live_broker, displayName=f"{tag} {name}")
    names = [
        u["name"]
        for u in _search(live_broker, text=tag, sort=[{"field": "name", "desc": True}])["users"]
    ]
    assert names == [f"{tag} c", f"{tag} b", f"{tag} a"]
    bad = _mgmt(live_broker, "/v2/mgmt/user/search", {"limit": -1})
    assert bad.status_code == 400


def test_test_users_are_left_out_unless_asked_for(live_broker: LiveBroker) -> None:
    r = _mgmt(live_broker, "/v1/mgmt/user/create/test", {"loginId": f"t-{secrets.token_hex(4)}"})
    test_user = r.json()["user"]
    assert test_user["test"] is True
    assert test_user["userId"] not in {
        u["userId"] for u in _search(live_broker, limit=1000)["users"]
    }
    found = _search(live_broker, testUsersOnly=True, withTestUser=True, limit=1000)["users"]
    assert test_user["userId"] in {u["userId"] for u in found}


def test_a_disabled_user_cannot_sign_in(live_broker: LiveBroker) -> None:
    user = _create_user(live_broker)
    login = user["loginIds"][0]
    assert (
        _mgmt(
            live_broker,
            "/v1/mgmt/user/password/set/active",
            {"loginId": login, "password": "pa55word!", "setActive": True},
        ).json()
        == {}
    )
    ok = httpx.post(
        f"{live_broker.url}/v1/auth/password/signin",
        json={"loginId": login, "password": "pa55word!"},
        headers=live_broker.project_headers(),
    )
    assert ok.status_code == 200
    status = _mgmt(
        live_broker, "/v1/mgmt/user/update/status", {"loginId": login, "status": "disabled"}
    )
    assert status.json()["user"]["status"] == "disabled"
    refused = httpx.post(
        f"{live_broker.url}/v1/auth/password/signin",
        json={"loginId": login, "password": "pa55word!"},
        headers=live_broker.project_headers(),
    )
    assert refused.status_code == 401
    bad_status = _mgmt(
        live_broker, "/v1/mgmt/user/update/status", {"loginId": login, "status": "asleep"}
    )
    assert bad_status.status_code == 400


def test_roles_set_add_remove_reach_the_jwt(live_broker: LiveBroker) -> None:
    login = _create_user(live_broker)["loginIds"][0]
    _mgmt(
        live_broker,
        "/v1/mgmt/user/update/role/set",
        {"loginId": login, "roleNames": ["outbound-admin"]},
    )
    added = _mgmt(
        live_broker, "/v2/mgmt/user/update/role/add", {"loginId": login, "roleNames": ["viewer"]}
    )
    assert added.json()["user"]["roleNames"] == ["outbound-admin", "viewer"]
    removed = _mgmt(
        live_broker, "/v1/mgmt/user/update/role/remove", {"loginId": login, "roleNames": ["viewer"]}
    )
    assert removed.json()["user"]["roleNames"] == ["outbound-admin"]
    jwt = _mgmt(
        live_broker,
        "/v1/mgmt/auth/signin",
        {
            "loginId": login,
            "stepup": False,
            "mfa": False,
            "revokeOtherSessions": None,
            "customClaims": None,
            "jwt": None,
            "refreshDuration": None,
        },
    ).json()
    assert live_broker.broker.signing.verify(jwt["sessionJwt"])["roles"] == ["outbound-admin"]


def test_tenant_membership_shows_in_user_and_tenants_claim(live_broker: LiveBroker) -> None:
    tenant = _create_tenant(live_broker, name=f"Acme {secrets.token_hex(3)}")
    login = _create_user(live_broker)["loginIds"][0]
    added = _mgmt(
        live_broker, "/v1/mgmt/user/update/tenant/add", {"loginId": login, "tenantId": tenant}
    )
    assert [t["tenantId"] for t in added.json()["user"]["userTenants"]] == [tenant]
    _mgmt(
        live_broker,
        "/v2/mgmt/user/update/role/add",
        {"loginId": login, "tenantId": tenant, "roleNames": ["editor"]},
    )
    signed_in = _mgmt(live_broker, "/v1/mgmt/auth/signin", {"loginId": login}).json()
    claims = live_broker.broker.signing.verify(signed_in["refreshJwt"], drn="DSR")
    assert claims["tenants"] == {tenant: {"roles": ["editor"], "permissions": []}}
    mine = httpx.post(
        f"{live_broker.url}/v1/auth/me/tenants",
        json={"dct": False, "ids": [tenant]},
        headers=live_broker.user_headers(signed_in["refreshJwt"]),
    )
    assert [t["id"] for t in mine.json()["tenants"]] == [tenant]
    removed = _mgmt(
        live_broker, "/v1/mgmt/user/update/tenant/remove", {"loginId": login, "tenantId": tenant}
    )
    assert removed.json()["user"]["userTenants"] == []


def test_unknown_tenant_cannot_be_joined(live_broker: LiveBroker) -> None:
    r = _mgmt(
        live_broker,
        "/v1/mgmt/user/create",
        {
            "loginId": f"x-{secrets.token_hex(4)}",
            "userTenants": [{"tenantId": "Tnope", "roleNames": None}],
        },
    )
    assert r.status_code == 400


def test_delete_removes_the_user_and_its_sessions(live_broker: LiveBroker) -> None:
    login = _create_user(live_broker)["loginIds"][0]
    refresh = _mgmt(live_broker, "/v1/mgmt/auth/signin", {"loginId": login}).json()["refreshJwt"]
    assert _mgmt(live_broker, "/v1/mgmt/user/delete", {"loginId": login}).json() == {}
    assert _search(live_broker, loginIds=[login])["total"] == 0
    me = httpx.get(f"{live_broker.url}/v1/auth/me", headers=live_broker.user_headers(refresh))
    assert me.status_code == 401
    assert _mgmt(live_broker, "/v1/mgmt/user/delete", {"loginId": login}).json() == {}


def test_tenants_create_load_list_update_delete(live_broker: LiveBroker) -> None:
    name = f"Globex {secrets.token_hex(3)}"
    body = {
        "name": name,
        "id": None,
        "selfProvisioningDomains": ["globex.test"],
        "enforceSSO": False,
        "disabled": False,
    }
    tenant_id = _mgmt(live_broker, "/v1/mgmt/tenant/create", body).json()["id"]
    loaded = httpx.get(
        f"{live_broker.url}/v1/mgmt/tenant",
        params={"id": tenant_id},
        headers=live_broker.mgmt_headers(),
    )
    assert loaded.json()["name"] == name and loaded.json()["selfProvisioningDomains"] == [
        "globex.test"
    ]
    assert _mgmt(live_broker, "/v1/mgmt/tenant/create", body).status_code == 409
    renamed = _mgmt(
        live_broker, "/v1/mgmt/tenant/update", {**body, "id": tenant_id, "name": f"{name} 2"}
    )
    assert renamed.json() == {}
    listed = httpx.get(
        f"{live_broker.url}/v1/mgmt/tenant/all", headers=live_broker.mgmt_headers()
    ).json()
    assert {"id": tenant_id, "name": f"{name} 2"}.items() <= next(
        t for t in listed["tenants"] if t["id"] == tenant_id
    ).items()
    assert (
        _mgmt(live_broker, "/v1/mgmt/tenant/delete", {"id": tenant_id, "cascade": False}).json()
        == {}
    )
    gone = httpx.get(
        f"{live_broker.url}/v1/mgmt/tenant",
        params={"id": tenant_id},
        headers=live_broker.mgmt_headers(),
    )
    assert gone.status_code == 404


def test_tenant_with_a_chosen_id(live_broker: LiveBroker) -> None:
    chosen = f"acme-{secrets.token_hex(3)}"
    r = _mgmt(live_broker, "/v1/mgmt/tenant/create", {"id": chosen, "name": chosen})
    assert r.json() == {"id": chosen}
