"""Session keeping without Streamlit: the refresh predicate, JWKS verification, retry after 401."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dashboard.descope import auth
from dashboard.descope.errors import SessionExpired, Unauthorized
from dashboard.descope.keys import KeySet, issuer_matches
from dashboard.descope.models import User
from dashboard.descope.transport import Transport
from dashboard.session import Session, call_refreshing, open_session, restore_session
from dashboard.settings import Secret
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
    result = auth.password_sign_in(transport, "root@example.test", PASSWORD)
    now = time.time()
    session = open_session(KeySet(transport), result, now=now)
    assert session.user.email == "root@example.test"
    assert session.roles == ("outbound-admin",)
    assert session.obtained_at == now < session.expires_at
    assert result.session_jwt not in repr(session)


def test_a_forged_token_is_refused(live: LiveBroker, transport: Transport) -> None:
    create_user(live, "mal@example.test")
    result = auth.password_sign_in(transport, "mal@example.test", PASSWORD)
    header, payload, signature = result.session_jwt.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    with pytest.raises(Unauthorized):
        KeySet(transport).verify(forged)


def test_a_remembered_refresh_jwt_restores_the_session_until_logout(
    live: LiveBroker, transport: Transport
) -> None:
    create_user(live, "kim@example.test", name="Kim")
    result = auth.password_sign_in(transport, "kim@example.test", PASSWORD)
    assert result.refresh_jwt
    keys = KeySet(transport)
    restored = restore_session(transport, keys, result.refresh_jwt, now=NOW)
    assert restored.user.name == "Kim"
    auth.logout(transport, result.refresh_jwt)
    with pytest.raises(SessionExpired):
        restore_session(transport, keys, result.refresh_jwt, now=NOW)


def test_a_401_renews_once_and_retries() -> None:
    first, renewed = session_expiring_at(NOW), session_expiring_at(NOW + 600)
    seen: list[Session] = []

    def call(session: Session) -> str:
        seen.append(session)
        if session is first:
            raise Unauthorized()
        return "ok"

    assert call_refreshing(first, call, lambda _: renewed) == "ok"
    assert seen == [first, renewed]


def test_an_ended_session_is_not_retried() -> None:
    renewals: list[Session] = []

    def call(_: Session) -> str:
        raise SessionExpired()

    with pytest.raises(SessionExpired):
        call_refreshing(session_expiring_at(NOW), call, lambda s: renewals.append(s) or s)  # type: ignore[func-returns-value]
    assert renewals == []


@pytest.mark.parametrize(
    ("issuer", "ok"),
    [("P1", True), ("https://api.descope.com/P1", True), ("https://x/P1/v1", True), ("P2", False)],
)
def test_issuer_rule(issuer: str, ok: bool) -> None:
    assert issuer_matches(issuer, "P1") is ok
