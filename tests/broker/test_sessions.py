"""Session JWTs: minted by the broker, verified against its keys, refused once logged out."""

from __future__ import annotations

import pytest

from broker.errors import TokenExpiredByLogout, Unauthorized
from broker.identity.sessions import check_session_live, end_session
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker


def test_minted_refresh_jwt_verifies_with_descope_claims(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker, roles=["outbound-admin"])
    claims = live_broker.broker.signing.verify(user.refresh_jwt, drn="DSR")
    assert claims["sub"] == user.user_id
    assert claims["iss"] == live_broker.project_id
    assert claims["roles"] == ["outbound-admin"]
    assert claims["amr"] == ["pwd"]
    assert {"iat", "exp", "tenants", "permissions"} <= claims.keys()


def test_session_jwt_is_not_a_refresh_jwt(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    with pytest.raises(Unauthorized):
        live_broker.broker.signing.verify(user.session_jwt, drn="DSR")


def test_logged_out_session_is_refused(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    claims = live_broker.broker.signing.verify(user.refresh_jwt, drn="DSR")
    end_session(live_broker.broker, claims["sid"])
    with pytest.raises(TokenExpiredByLogout):
        check_session_live(live_broker.broker, claims)
