"""Throttling: after N failures the next attempt gets 429 E130429 with Retry-After, per login id
(known or not) and per address, for passwords, OTP codes and management keys; counted in the DB."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from broker.errors import RateLimited
from broker.identity.throttle import Throttle, ThrottlePolicy
from tests.conftest import BACKENDS
from tests.support.servers import LiveBroker

LIMIT = 3
POLICY = {"login_failures": LIMIT, "address_failures": 50, "management_failures": LIMIT}


@pytest.fixture(params=BACKENDS)
def strict_broker(
    request: pytest.FixtureRequest, make_broker: Callable[..., LiveBroker]
) -> LiveBroker:
    """A broker with small throttle limits, on each storage backend."""
    return make_broker(backend=request.param, throttle=ThrottlePolicy(**POLICY))


def _sign_in(live: LiveBroker, login_id: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/auth/password/signin",
        json={"loginId": login_id, "password": password},
        headers=live.project_headers(),
    )


def _assert_throttled(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["errorCode"] == "E130429"
    assert 0 < int(r.headers["Retry-After"]) <= ThrottlePolicy().window_s


def test_unknown_login_id_is_throttled_after_n_failures(strict_broker: LiveBroker) -> None:
    login = f"ghost-{secrets.token_hex(4)}@example.test"
    statuses = [_sign_in(strict_broker, login, "wrong-password").status_code for _ in range(LIMIT)]
    assert statuses == [401] * LIMIT
    _assert_throttled(_sign_in(strict_broker, login, "wrong-password"))


def test_known_login_id_is_throttled_even_with_the_right_password(
    strict_broker: LiveBroker,
) -> None:
    login = f"real-{secrets.token_hex(4)}@example.test"
    httpx.post(
        f"{strict_broker.url}/v1/auth/password/signup",
        json={"loginId": login, "password": "right-password"},
        headers=strict_broker.project_headers(),
    )
    for _ in range(LIMIT):
        assert _sign_in(strict_broker, login, "wrong-password").status_code == 401
    _assert_throttled(_sign_in(strict_broker, login, "right-password"))
    # Another login id from the same address is not blocked by this one's failures.
    assert _sign_in(strict_broker, f"other-{login}", "wrong-password").status_code == 401


def test_success_clears_the_login_id_count(strict_broker: LiveBroker) -> None:
    login = f"clear-{secrets.token_hex(4)}@example.test"
    httpx.post(
        f"{strict_broker.url}/v1/auth/password/signup",
        json={"loginId": login, "password": "right-password"},
        headers=strict_broker.project_headers(),
    )
    for _ in range(LIMIT - 1):
        _sign_in(strict_broker, login, "wrong-password")
    assert _sign_in(strict_broker, login, "right-password").status_code == 200
    assert _sign_in(strict_broker, login, "wrong-password").status_code == 401


def test_otp_verify_failures_are_throttled(strict_broker: LiveBroker) -> None:
    login = f"otp-{secrets.token_hex(4)}@example.test"
    for _ in range(LIMIT):
        r = httpx.post(
            f"{strict_broker.url}/v1/auth/otp/verify/email",
            json={"loginId": login, "code": "000000"},
            headers=strict_broker.project_headers(),
        )
        assert r.status_code == 401
    r = httpx.post(
        f"{strict_broker.url}/v1/auth/otp/verify/email",
        json={"loginId": login, "code": "000000"},
        headers=strict_broker.project_headers(),
    )
    _assert_throttled(r)


def test_wrong_management_keys_are_throttled_per_address(strict_broker: LiveBroker) -> None:
    wrong = {"Authorization": f"Bearer {strict_broker.project_id}:Kguess{secrets.token_hex(8)}"}
    url = f"{strict_broker.url}/v1/mgmt/license"
    assert [httpx.get(url, headers=wrong).status_code for _ in range(LIMIT)] == [401] * LIMIT
    _assert_throttled(httpx.get(url, headers=wrong))
    # The real key still works from the same address: a guesser cannot lock the dashboard out.
    assert httpx.get(url, headers=strict_broker.mgmt_headers()).status_code == 200


def test_the_address_limit_covers_many_login_ids(make_broker: Callable[..., LiveBroker]) -> None:
    live = make_broker(throttle=ThrottlePolicy(login_failures=100, address_failures=LIMIT))
    for i in range(LIMIT):
        assert _sign_in(live, f"spray-{i}@example.test", "wrong-password").status_code == 401
    _assert_throttled(_sign_in(live, "spray-next@example.test", "wrong-password"))


def test_counts_are_shared_through_the_database(strict_broker: LiveBroker) -> None:
    """A second Throttle on the same database (as another worker would have) sees the count."""
    login = f"shared-{secrets.token_hex(4)}@example.test"
    for _ in range(LIMIT):
        _sign_in(strict_broker, login, "wrong-password")
    other_worker = Throttle(strict_broker.broker.db, ThrottlePolicy(**POLICY))
    with pytest.raises(RateLimited):
        other_worker.take(*other_worker.sign_in_buckets("pwd", login, "127.0.0.1"))
