"""The route convention's ``DbSession``: one unit of work per request, committed before the
answer leaves, rolled back whole when the handler fails."""

from __future__ import annotations

import secrets

import httpx

from broker.identity.users import find_user
from tests.support.servers import LiveBroker


def _create(live: LiveBroker, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{live.url}/v1/mgmt/user/create", json=body, headers=live.mgmt_headers())


def test_a_handlers_work_is_committed_before_its_answer(live_broker: LiveBroker) -> None:
    login = f"committed-{secrets.token_hex(4)}@example.test"
    assert _create(live_broker, {"loginId": login}).status_code == 200
    # Read at once on a connection of our own: the commit did not wait for the response to leave.
    with live_broker.broker.db.session() as s:
        user = find_user(s, login)
        assert user is not None


def test_a_failing_handler_leaves_nothing_behind(live_broker: LiveBroker) -> None:
    login = f"rolled-back-{secrets.token_hex(4)}@example.test"
    # The user row is flushed, then joining the unknown tenant fails: the whole request rolls back.
    failed = _create(live_broker, {"loginId": login, "userTenants": [{"tenantId": "Tnope"}]})
    assert failed.status_code == 400
    assert failed.json()["errorDescription"]
    with live_broker.broker.db.session() as s:
        assert find_user(s, login) is None
    loaded = httpx.get(
        f"{live_broker.url}/v1/mgmt/user",
        params={"loginId": login},
        headers=live_broker.mgmt_headers(),
    )
    assert loaded.status_code == 404
    assert _create(live_broker, {"loginId": login}).status_code == 200  # the login id is free
