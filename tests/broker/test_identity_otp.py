"""Email OTP in demo mode: codes reach the local outbox, are six digits, single use, short-lived,
few tries. (Delivery by SMTP, and no outbox outside demo mode: test_identity_mail.py.)"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from broker.identity.otp import MAX_ATTEMPTS
from broker.store.identity import OtpCode, OutboxMessage
from tests.support.identity import sign_in_new_user
from tests.support.servers import LiveBroker


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """The outbox exists in demo mode only."""
    return {"demo_mode": True}


def _post(live: LiveBroker, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{live.url}{path}", json=body, headers=live.project_headers())


def _latest_code(live: LiveBroker, login_id: str) -> str:
    r = httpx.get(
        f"{live.url}/v1/x/outbox", params={"loginId": login_id}, headers=live.mgmt_headers()
    )
    assert r.status_code == 200
    code: str = r.json()["messages"][0]["code"]
    return code


def _verify(live: LiveBroker, login_id: str, code: str) -> httpx.Response:
    return _post(live, "/v1/auth/otp/verify/email", {"loginId": login_id, "code": code})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_sign_in_sends_a_six_digit_code_and_verify_signs_in(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    r = _post(
        live_broker, "/v1/auth/otp/signin/email", {"loginId": user.login_id, "loginOptions": {}}
    )
    assert r.status_code == 200
    assert r.json()["maskedEmail"].endswith("@example.test") and "***" in r.json()["maskedEmail"]
    code = _latest_code(live_broker, user.login_id)
    assert len(code) == 6 and code.isdigit()
    verified = _verify(live_broker, user.login_id, code)
    assert verified.status_code == 200
    body = verified.json()
    assert body["user"]["userId"] == user.user_id and body["user"]["verifiedEmail"] is True
    assert live_broker.broker.signing.verify(body["sessionJwt"])["amr"] == ["email"]


def test_a_code_works_only_once(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    _post(live_broker, "/v1/auth/otp/signin/email", {"loginId": user.login_id})
    code = _latest_code(live_broker, user.login_id)
    assert _verify(live_broker, user.login_id, code).status_code == 200
    again = _verify(live_broker, user.login_id, code)
    assert again.status_code == 401 and again.json()["errorCode"] == "E061102"


def test_wrong_code_is_e061102_then_too_many_attempts_e061103(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    _post(live_broker, "/v1/auth/otp/signin/email", {"loginId": user.login_id})
    code = _latest_code(live_broker, user.login_id)
    codes = [
        _verify(live_broker, user.login_id, _wrong(code)).json()["errorCode"]
        for _ in range(MAX_ATTEMPTS)
    ]
    assert codes == ["E061102"] * (MAX_ATTEMPTS - 1) + ["E061103"]
    # The code is burnt: even the right one no longer works.
    assert _verify(live_broker, user.login_id, code).json()["errorCode"] == "E061102"


def test_an_expired_code_is_refused(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    _post(live_broker, "/v1/auth/otp/signin/email", {"loginId": user.login_id})
    code = _latest_code(live_broker, user.login_id)
    with live_broker.broker.db.session() as s:
        row = s.get(OtpCode, user.login_id)
        assert row is not None and 290 <= row.expires_at - row.created_at <= 300
        row.expires_at = row.created_at - 1
    assert _verify(live_broker, user.login_id, code).json()["errorCode"] == "E061102"


def test_codes_are_kept_only_as_digests_and_sealed_in_the_outbox(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    _post(live_broker, "/v1/auth/otp/signin/email", {"loginId": user.login_id})
    code = _latest_code(live_broker, user.login_id)
    with live_broker.broker.db.session() as s:
        row = s.get(OtpCode, user.login_id)
        message = s.scalars(
            select(OutboxMessage).where(OutboxMessage.login_id == user.login_id)
        ).first()
        assert row is not None and message is not None
        assert code not in row.digest and len(row.digest) == 64
        assert code not in message.code_sealed


def test_sign_up_creates_the_user_only_once_verified(live_broker: LiveBroker) -> None:
    login = f"otp-{secrets.token_hex(4)}@example.test"
    r = _post(
        live_broker,
        "/v1/auth/otp/signup/email",
        {"loginId": login, "user": {"name": "Otto"}, "email": None},
    )
    assert r.status_code == 200
    search = httpx.post(
        f"{live_broker.url}/v2/mgmt/user/search",
        json={"loginIds": [login]},
        headers=live_broker.mgmt_headers(),
    )
    assert search.json()["total"] == 0
    verified = _verify(live_broker, login, _latest_code(live_broker, login))
    assert verified.status_code == 200
    assert verified.json()["firstSeen"] is True and verified.json()["user"]["name"] == "Otto"
    again = _post(live_broker, "/v1/auth/otp/signup/email", {"loginId": login})
    assert again.json()["errorCode"] == "E062107"


def test_sign_up_or_in_serves_new_and_known_login_ids(live_broker: LiveBroker) -> None:
    login = f"otp-{secrets.token_hex(4)}@example.test"
    for first_seen in (True, False):
        r = _post(
            live_broker, "/v1/auth/otp/signup-in/email", {"loginId": login, "loginOptions": None}
        )
        assert r.status_code == 200
        verified = _verify(live_broker, login, _latest_code(live_broker, login))
        assert verified.status_code == 200 and verified.json()["firstSeen"] is first_seen


def test_unknown_login_id_gets_the_same_answer_but_no_code(live_broker: LiveBroker) -> None:
    login = f"nobody-{secrets.token_hex(4)}@example.test"
    r = _post(live_broker, "/v1/auth/otp/signin/email", {"loginId": login})
    assert r.status_code == 200 and "maskedEmail" in r.json()
    outbox = httpx.get(
        f"{live_broker.url}/v1/x/outbox",
        params={"loginId": login},
        headers=live_broker.mgmt_headers(),
    )
    assert outbox.json() == {"messages": []}
    assert _verify(live_broker, login, "123456").json()["errorCode"] == "E061102"


def test_outbox_needs_the_management_key(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    for headers in (live_broker.project_headers(), live_broker.user_headers(user.refresh_jwt)):
        r = httpx.get(
            f"{live_broker.url}/v1/x/outbox", params={"loginId": user.login_id}, headers=headers
        )
        assert r.status_code == 401
