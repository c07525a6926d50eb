"""Session keeping without Streamlit: the refresh predicate, JWKS verification, renewal after a 401."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from dashboard.descope import (
    DescopeClient,
    MemorySessions,
    Secret,
    agent_calls,
    list_apps,
    password_sign_in,
)
from dashboard.descope.errors import SessionExpired, Unauthorized
from dashboard.descope.keys import KeySet, issuer_matches
from dashboard.descope.models import User
from dashboard.descope.session import Session, open_session
from dashboard.descope.transport import Transport
from tests.support.dashboard import PASSWORD, create_user
from tests.support.servers import LiveBroker

NOW = 1_800_000_000.0


def session_expiring_at(expires_at: float, roles: tuple[str, ...] = ()) -> Session:
    user = User("U1", ("ada",), "Ada", "ada@example.test", "enabled", roles, ())
    return Session(Secret("s"), Secret("r"), expires_at, user, roles, obtained_at=NOW)


@pytest.fixture
def transport(live: LiveBroker) -> Iterator[Transport]:
    with Transport(live.url, live.project_id) as t:
        yield t


def test_a_session_needs_refresh_only_inside_the_leeway() -> None:
    session = session_expiring_at(NOW + 600)
    assert not session.needs_refresh(NOW, leeway=60)
    assert not session.needs_refresh(NOW + 539, leeway=60)
    assert session.needs_refresh(NOW + 540, leeway=60)
    assert session.needs_refresh(NOW + 700, leeway=60)
    assert session.renews_at(60) == NOW + 540


def test_roles_decide_admin_views() -> None:
    assert session_expiring_at(NOW, roles=("outbound-admin",)).has_any_role(["outbound-admin"])
    assert not session_expiring_at(NOW, roles=("viewer",)).has_any_role(["outbound-admin"])


def test_a_session_is_verified_against_the_jwks_and_carries_roles(
    live: LiveBroker, transport: Transport
) -> None:
    create_user(live, "root@example.test", roles=("outbound-admin",))
    result = password_sign_in(DescopeClient(transport), "root@example.test", PASSWORD)
    now = time.time()
    session = open_session(KeySet(transport), result, now=now)
    assert session.user.email == "root@example.test"
    assert session.roles == ("outbound-admin",)
    assert session.obtained_at == now < session.expires_at
    assert result.session_jwt not in repr(session)


def test_a_forged_token_is_refused(live: LiveBroker, transport: Transport) -> None:
    create_user(live, "mal@example.test")
    result = password_sign_in(DescopeClient(transport), "mal@example.test", PASSWORD)
    header, payload, signature = result.session_jwt.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    with pytest.raises(Unauthorized):
        KeySet(transport).verify(forged)


def test_a_remembered_refresh_jwt_restores_the_session_until_logout(
    live: LiveBroker, transport: Transport
) -> None:
    create_user(live, "kim@example.test", name="Kim")
    result = password_sign_in(DescopeClient(transport), "kim@example.test", PASSWORD)
    assert result.refresh_jwt
    remembered = Secret(result.refresh_jwt)
    client = DescopeClient(transport, clock=lambda: NOW)
    restored = client.restore(remembered)
    assert restored.user.name == "Kim" and client.session is restored
    client.sign_out()
    with pytest.raises(SessionExpired):
        DescopeClient(transport).restore(remembered)


def _signed_in(live: LiveBroker, transport: Transport, login_id: str) -> DescopeClient:
    create_user(live, login_id, roles=("outbound-admin",))
    client = DescopeClient(transport)
    client.start(password_sign_in(client, login_id, PASSWORD))
    return client


def test_a_401_renews_the_session_once_and_sends_the_call_again(
    live: LiveBroker, transport: Transport
) -> None:
    client = _signed_in(live, transport, "ray@example.test")
    kept = MemorySessions()
    before = client.session
    assert before is not None
    # The session JWT the broker no longer takes (the call below sends it: ``as_user="session"``).
    kept.put(replace(before, session_jwt=Secret("not-a-session-jwt")))
    renewing = DescopeClient(transport, client.keys, kept)
    assert agent_calls(renewing) == ()  # answered after the renewal, not a 401
    assert kept.session is not None and kept.session.session_jwt != Secret("not-a-session-jwt")
    assert kept.session.user == before.user


def test_an_ended_session_is_not_retried_and_says_so(
    live: LiveBroker, transport: Transport
) -> None:
    client = _signed_in(live, transport, "sue@example.test")
    ended = client.session
    assert ended is not None
    client.sign_out()
    with pytest.raises(SessionExpired):
        list_apps(client, as_user=True)
    assert client.session is ended  # nothing renewed, nothing replaced


def test_a_client_given_a_refresh_jwt_never_renews_it(
    live: LiveBroker, transport: Transport
) -> None:
    client = _signed_in(live, transport, "tom@example.test")
    assert client.session is not None
    holder = client.holding(client.session.refresh_jwt)
    assert holder.holds_given_jwt and holder.session is None
    client.sign_out()
    with pytest.raises(Unauthorized) as refused:
        list_apps(holder, as_user=True)
    assert not isinstance(refused.value, SessionExpired)  # a 401 as is: no renewal was tried


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [("P1", True), ("https://api.descope.com/P1", True), ("https://x/P1/v1", True), ("P2", False)],
)
def test_issuer_rule(issuer: str, ok: bool) -> None:
    assert issuer_matches(issuer, "P1") is ok
