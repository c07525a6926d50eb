"""Descope's official Python SDK manages access keys and exchanges one against a live broker."""

from __future__ import annotations

import time

import httpx
import pytest
from descope import AuthException, DescopeClient
from sqlalchemy import select

from broker.store.agents import AccessKeyRow
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker


def _anonymous(live_broker: LiveBroker) -> DescopeClient:
    return DescopeClient(project_id=live_broker.project_id, base_url=live_broker.url)


def test_sdk_creates_a_user_bound_key_and_exchanges_it(
    live_broker: LiveBroker, client: DescopeClient
) -> None:
    user = sign_in_new_user(live_broker, roles=["reader"])
    created = client.mgmt.access_key.create(
        name="my agent", user_id=user.user_id, description="laptop", expire_time=0
    )
    key, cleartext = created["key"], created["cleartext"]
    assert key["boundUserId"] == user.user_id and key["status"] == "active"
    assert ":" not in cleartext and "." not in cleartext

    info = _anonymous(live_broker).exchange_access_key(cleartext)
    # The SDK verified the session JWT against the broker's JWKS; it acts for the user.
    assert info["sessionToken"]["sub"] == user.user_id
    assert info["roles"] == ["reader"]
    me = httpx.get(
        f"{live_broker.url}/v1/x/outbound/connections",
        headers=live_broker.user_headers(info["sessionToken"]["jwt"]),
    )
    assert me.status_code == 200, me.text

    loaded = client.mgmt.access_key.load(key["id"])["key"]
    assert loaded["name"] == "my agent" and loaded["lastUsedTime"] > 0
    found = client.mgmt.access_key.search_all_access_keys(bound_user_id=user.user_id)["keys"]
    assert [k["id"] for k in found] == [key["id"]]
    client.mgmt.access_key.update(key["id"], "renamed", description="desk")
    assert client.mgmt.access_key.load(key["id"])["key"]["name"] == "renamed"


def test_keys_are_stored_only_as_digests(live_broker: LiveBroker, client: DescopeClient) -> None:
    user = sign_in_new_user(live_broker)
    created = client.mgmt.access_key.create(name="digest", user_id=user.user_id)
    cleartext = created["cleartext"]
    with live_broker.broker.db.session() as s:
        row = s.scalars(select(AccessKeyRow).where(AccessKeyRow.id == created["key"]["id"])).one()
        stored = " ".join(str(getattr(row, c.name)) for c in AccessKeyRow.__table__.columns)
    assert cleartext not in stored
    assert cleartext[len(row.id) :] not in stored  # not even the secret part
    assert len(row.key_digest) == 64


def test_deactivated_key_is_refused_and_its_sessions_end(
    live_broker: LiveBroker, client: DescopeClient
) -> None:
    user = sign_in_new_user(live_broker)
    created = client.mgmt.access_key.create(name="revoke me", user_id=user.user_id)
    info = _anonymous(live_broker).exchange_access_key(created["cleartext"])
    session_jwt = info["sessionToken"]["jwt"]
    client.mgmt.access_key.deactivate(created["key"]["id"])

    with pytest.raises(AuthException) as refused:
        _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert refused.value.status_code == 401
    # A JWT exchanged before the deactivation stops working at once.
    after = httpx.get(
        f"{live_broker.url}/v1/x/outbound/connections",
        headers=live_broker.user_headers(session_jwt),
    )
    assert after.status_code == 401

    client.mgmt.access_key.activate(created["key"]["id"])
    assert _anonymous(live_broker).exchange_access_key(created["cleartext"])["sessionToken"]
    client.mgmt.access_key.delete(created["key"]["id"])
    with pytest.raises(AuthException):
        _anonymous(live_broker).exchange_access_key(created["cleartext"])


def test_expired_key_is_refused(live_broker: LiveBroker, client: DescopeClient) -> None:
    user = sign_in_new_user(live_broker)
    created = client.mgmt.access_key.create(
        name="short", user_id=user.user_id, expire_time=int(time.time()) + 5
    )
    assert _anonymous(live_broker).exchange_access_key(created["cleartext"])
    time.sleep(max(0.0, created["key"]["expireTime"] - time.time()) + 0.5)
    with pytest.raises(AuthException) as refused:
        _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert refused.value.status_code == 401


def test_rotation_retires_the_old_secret(live_broker: LiveBroker, client: DescopeClient) -> None:
    user = sign_in_new_user(live_broker)
    created = client.mgmt.access_key.create(name="rotate", user_id=user.user_id)
    rotated = client.mgmt.access_key.rotate(created["key"]["id"])
    assert rotated["cleartext"] != created["cleartext"]
    with pytest.raises(AuthException):
        _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert _anonymous(live_broker).exchange_access_key(rotated["cleartext"])


def test_a_key_must_be_bound_to_an_existing_user(client: DescopeClient) -> None:
    with pytest.raises(AuthException) as unbound:
        client.mgmt.access_key.create(name="machine")
    assert unbound.value.status_code == 400 and "userId is required" in str(unbound.value)
    with pytest.raises(AuthException) as unknown:
        client.mgmt.access_key.create(name="ghost", user_id="U-nobody")
    assert unknown.value.status_code == 404


def test_permitted_ips_and_app_scope_survive_updates(
    live_broker: LiveBroker, client: DescopeClient
) -> None:
    user = sign_in_new_user(live_broker)
    created = client.mgmt.access_key.create(
        name="office only",
        user_id=user.user_id,
        permitted_ips=["10.9.8.0/24"],
        custom_attributes={"appIds": ["acme-calendar"]},
    )
    with pytest.raises(AuthException) as elsewhere:
        _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert elsewhere.value.status_code == 401 and "not permitted" in str(elsewhere.value)

    key_id = created["key"]["id"]
    client.mgmt.access_key.update(key_id, "office only", custom_attributes={"team": "ops"})
    assert client.mgmt.access_key.load(key_id)["key"]["appIds"] == ["acme-calendar"]
    client.mgmt.access_key.update(key_id, "loopback", permitted_ips=["127.0.0.0/8"])
    info = _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert info["sessionToken"]["sub"] == user.user_id


def test_a_disabled_user_gets_no_session_from_their_key(
    live_broker: LiveBroker, client: DescopeClient
) -> None:
    user = sign_in_new_user(live_broker, login_id=f"k-{time.time_ns()}@example.test")
    created = client.mgmt.access_key.create(name="owner leaves", user_id=user.user_id)
    client.mgmt.user.deactivate(user.login_id)
    with pytest.raises(AuthException) as refused:
        _anonymous(live_broker).exchange_access_key(created["cleartext"])
    assert refused.value.status_code == 401
    client.mgmt.user.activate(user.login_id)
    assert _anonymous(live_broker).exchange_access_key(created["cleartext"])["sessionToken"]
