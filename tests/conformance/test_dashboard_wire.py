"""One wire, tested from both ends: the dashboard's token parsers read what the real broker sends.

No hand-written dicts: every answer here comes from a broker on loopback after a real connect
through the demo provider. Each assertion names a value the broker knows, so a field the broker
renames (or the dashboard misspells) reads as empty and fails here. The identity and app parsers
are read the same way in tests/conformance/test_dashboard_client.py and test_outbound_client.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from dashboard.descope import Secret, events, tokens
from dashboard.descope.errors import NotFound, Unauthorized
from dashboard.descope.transport import Transport
from dashboard.inventory.collect import InventoryQuery, collect_inventory
from tests.support.dashboard import client_of, client_signed_in_as
from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, ThreadedServer

APP = "wire-cal"
_APPS = itertools.count()
SCOPES = ["profile", "calendar.read", "offline_access"]


@pytest.fixture
def connected(live: LiveBroker, provider: LiveProvider) -> Iterator[SignedInUser]:
    """A new user connected to a new demo app (``APP``) through the real flow."""
    global APP
    APP = f"wire-cal-{next(_APPS)}"
    create_demo_app(live, provider, APP, overrides={"defaultScopes": SCOPES})
    user = sign_in_new_user(live)
    outcome = connect(live, user, APP, ["profile", "calendar.read"])
    assert outcome["outbound"] == "connected"
    yield user


def test_a_fetched_token_is_read_field_by_field(
    transport: Transport, connected: SignedInUser
) -> None:
    token = tokens.latest_user_token(
        client_of(transport), APP, connected.user_id, with_refresh_token=True
    )
    now = datetime.now(UTC)

    assert token.id.startswith("OT") and token.app_id == APP
    assert token.user_id == connected.user_id and token.tenant_id == ""
    assert token.access_token.reveal() and token.refresh_token is not None
    assert token.access_token_type.lower() == "bearer"
    assert token.access_token_expiry is not None
    assert now < token.access_token_expiry < now + timedelta(days=2)
    assert token.has_refresh_token is True
    assert set(token.scopes) >= {"profile", "calendar.read"}
    assert token.requested_scopes == ("profile", "calendar.read")
    assert token.granted_by
    assert token.status == "active" and token.failure_count == 0
    assert token.last_refresh_time is None  # not refreshed since the connect


def test_the_inventory_reads_the_same_token(transport: Transport, connected: SignedInUser) -> None:
    fetched = tokens.latest_user_token(client_of(transport), APP, connected.user_id)
    inventory = collect_inventory(
        client_of(transport), InventoryQuery(user_ids=(connected.user_id,))
    )
    [row] = [c for c in inventory.connections if c.token.app_id == APP]

    assert row.token == fetched.without_secrets()
    assert row.user_login_id == connected.login_id


def test_apps_with_a_token_name_the_connected_app(
    transport: Transport, connected: SignedInUser
) -> None:
    assert APP in tokens.apps_with_user_token(client_of(transport), connected.user_id)
    # With the user's own JWT, userId=<me> as Descope's widget sends it.
    mine = tokens.apps_with_user_token(
        client_of(transport, connected.refresh_jwt), connected.user_id, as_user=True
    )
    assert APP in mine


def test_history_reads_every_column_the_broker_records(
    transport: Transport, connected: SignedInUser
) -> None:
    token = tokens.latest_user_token(client_of(transport), APP, connected.user_id)
    tokens.latest_user_token(client_of(transport), APP, connected.user_id, force_refresh=True)
    assert events.record_reveal(client_of(transport, connected.refresh_jwt), token.id) is True

    history = events.token_history(client_of(transport), token.id)

    assert history is not None
    assert [e.kind for e in history] == ["connected", "refreshed", "revealed"]
    connected_event, refreshed, revealed = history
    assert all(e.id.startswith("EV") and e.token_id == token.id for e in history)
    assert all(e.at is not None and e.at <= datetime.now(UTC) for e in history)
    assert connected_event.label == "Connected" and connected_event.outcome == "ok"
    assert connected_event.detail == "Scopes: " + " ".join(token.scopes) + " · refresh token: yes"
    assert refreshed.outcome == "ok"
    assert refreshed.detail.startswith("Forced · new refresh token: ")
    assert revealed.label == "Access token revealed" and revealed.outcome == "recorded"
    assert revealed.facts["byUserId"] == connected.user_id
    assert revealed.detail.startswith("By ") and revealed.detail != "By an unknown person"
    assert events.last_refreshed(history) == refreshed.at


def test_a_deleted_token_reads_as_one_revocation_and_a_disconnect_event(
    transport: Transport, connected: SignedInUser
) -> None:
    token = tokens.latest_user_token(client_of(transport), APP, connected.user_id)

    outcome = tokens.delete_token(client_of(transport), token.id)

    assert outcome.reported and outcome.deleted == 1
    [revocation] = outcome.revocations
    assert revocation.token_id == token.id
    assert revocation.access_token == "revoked" and revocation.refresh_token == "revoked"
    assert outcome.sentence == "Deleted 1 token and revoked it at the provider."
    history = events.token_history(client_of(transport), token.id)
    assert history is not None and history[-1].kind == "disconnected"
    assert history[-1].detail == "Access token: revoked · refresh token: revoked"
    with pytest.raises(NotFound):
        events.record_reveal(client_of(transport, connected.refresh_jwt), token.id)


def test_a_reveal_needs_the_revealers_own_session(
    transport: Transport, connected: SignedInUser
) -> None:
    token = tokens.latest_user_token(client_of(transport), APP, connected.user_id)

    with pytest.raises(Unauthorized):
        events.record_reveal(client_signed_in_as(transport, "not.a.jwt"), token.id)
    history = events.token_history(client_of(transport), token.id)
    assert history is not None and "revealed" not in [e.kind for e in history]


@pytest.mark.parametrize("bearer", ["key only", "jwt only"])
def test_a_reveal_is_recorded_only_with_both_the_key_and_a_session(
    live: LiveBroker, transport: Transport, connected: SignedInUser, bearer: str
) -> None:
    token = tokens.latest_user_token(client_of(transport), APP, connected.user_id)
    parts = {"key only": live.management_key, "jwt only": connected.refresh_jwt}[bearer]

    answer = httpx.post(
        f"{live.url}/v1/x/outbound/token/revealed",
        headers={"Authorization": f"Bearer {live.project_id}:{parts}"},
        json={"tokenId": token.id},
    )

    assert answer.status_code == 401
    history = events.token_history(client_of(transport), token.id)
    assert history is not None and "revealed" not in [e.kind for e in history]


def test_without_the_extensions_history_and_audit_read_as_not_offered() -> None:
    # Descope cloud cannot run here: this stand-in answers its 404 for any unknown endpoint.
    cloud = FastAPI()

    @cloud.api_route("/{path:path}", methods=["GET", "POST"])
    def missing(path: str) -> JSONResponse:
        body = {"errorCode": "E011006", "errorDescription": "endpoint not found"}
        return JSONResponse(body, status_code=404)

    server = ThreadedServer(cloud).start()
    try:
        with Transport(server.url, "P2cloud", Secret("K2cloud")) as t:
            assert events.token_history(client_of(t), "OT1") is None
            assert events.record_reveal(client_signed_in_as(t, "a.refresh.jwt"), "OT1") is False
    finally:
        server.stop()
