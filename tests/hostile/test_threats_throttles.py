"""Throttles and costs under concurrency: guesses counted before they are evaluated, floods
that cannot exhaust memory, and forged key ids that cost nothing (docs/security.md, "browser ↔
broker": spoofing and denial of service).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from broker.area_settings import ThrottlePolicy
from broker.crypto import KeyRing
from broker.identity import otp, sign_in_flows
from broker.project.credentials import new_management_key, new_project_id
from broker.store.db import now_s
from tests.broker.test_refresh_workers import BrokerProcess, Deployment
from tests.conftest import BACKENDS
from tests.support.servers import LiveBroker

PASSWORD = "a-long-enough-password"
LOGIN_LIMIT = 10  # the default ThrottlePolicy.login_failures


class Counter:
    """Counts calls to a wrapped function, across threads."""

    def __init__(self, wrapped: Callable[..., Any]) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        self._wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
        return self._wrapped(*args, **kwargs)


@pytest.fixture(params=BACKENDS)
def fresh_broker(
    request: pytest.FixtureRequest, make_broker: Callable[..., LiveBroker]
) -> LiveBroker:
    """A broker of its own (default limits), so no other test's counts interfere; in demo
    mode, so email codes are kept in the outbox rather than refused for want of SMTP."""
    return make_broker(backend=request.param, demo_mode=True)


def _all_at_once(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def _sign_in(live: LiveBroker, login_id: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/auth/password/signin",
        json={"loginId": login_id, "password": password},
        headers=live.project_headers(),
        timeout=120,
    )


def test_concurrent_wrong_passwords_are_counted_atomically(
    fresh_broker: LiveBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = f"victim-{secrets.token_hex(4)}@example.test"
    created = httpx.post(
        f"{fresh_broker.url}/v1/mgmt/user/create",
        headers=fresh_broker.mgmt_headers(),
        json={"loginId": login, "password": PASSWORD},
    )
    assert created.status_code == 200, created.text
    evaluated = Counter(sign_in_flows.verify_password)
    monkeypatch.setattr(sign_in_flows, "verify_password", evaluated)
    answers = _all_at_once(60, lambda i: _sign_in(fresh_broker, login, f"guess-{i:04d}-wrong"))
    statuses = sorted({r.status_code for r in answers})
    assert set(statuses) <= {401, 429}, statuses
    # Ten sequential wrong passwords are ten evaluations; sixty at once may not be more (+2).
    assert evaluated.calls <= LOGIN_LIMIT + 2, f"{evaluated.calls} passwords evaluated"
    assert sum(r.status_code == 401 for r in answers) <= LOGIN_LIMIT


def test_concurrent_wrong_codes_get_no_extra_tries(
    fresh_broker: LiveBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = f"otp-{secrets.token_hex(4)}@example.test"
    sent = httpx.post(
        f"{fresh_broker.url}/v1/auth/otp/signup/email",
        headers=fresh_broker.project_headers(),
        json={"loginId": login},
    )
    assert sent.status_code == 200, sent.text
    compared = Counter(otp._digest)
    monkeypatch.setattr(otp, "_digest", compared)

    def guess(i: int) -> httpx.Response:
        return httpx.post(
            f"{fresh_broker.url}/v1/auth/otp/verify/email",
            headers=fresh_broker.project_headers(),
            json={"loginId": login, "code": f"{i:06d}"[-6:]},
            timeout=60,
        )

    answers = _all_at_once(30, guess)
    assert {r.status_code for r in answers} <= {401, 429}
    assert compared.calls <= otp.MAX_ATTEMPTS, f"{compared.calls} codes compared"


def test_sign_up_flood_from_one_address_is_throttled(
    make_broker: Callable[..., LiveBroker],
) -> None:
    live = make_broker(throttle=ThrottlePolicy(signups_per_address=5))

    def sign_up(i: int) -> int:
        return httpx.post(
            f"{live.url}/v1/auth/password/signup",
            headers=live.project_headers(),
            json={
                "loginId": f"flood-{i}-{secrets.token_hex(3)}@example.test",
                "password": PASSWORD,
            },
            timeout=60,
        ).status_code

    statuses = [sign_up(i) for i in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3


def test_repeated_sign_ups_of_one_login_id_are_throttled(fresh_broker: LiveBroker) -> None:
    """Each sign-up hashes a password before it learns the id is taken: the repeats are capped."""
    login = f"taken-{secrets.token_hex(4)}@example.test"

    def sign_up() -> int:
        return httpx.post(
            f"{fresh_broker.url}/v1/auth/password/signup",
            headers=fresh_broker.project_headers(),
            json={"loginId": login, "password": PASSWORD},
            timeout=60,
        ).status_code

    statuses = [sign_up() for _ in range(7)]
    assert statuses == [200] + [409] * 4 + [429] * 2


def test_code_send_flood_to_one_mailbox_is_throttled(fresh_broker: LiveBroker) -> None:
    login = f"mailbox-{secrets.token_hex(4)}@example.test"

    def send() -> int:
        return httpx.post(
            f"{fresh_broker.url}/v1/auth/otp/signup-in/email",
            headers=fresh_broker.project_headers(),
            json={"loginId": login},
        ).status_code

    statuses = [send() for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2


# ---- memory --------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """Resident memory of one process (``VmRSS``), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1]) / 1024


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[BrokerProcess]:
    """``outbound broker`` in its own process, so its memory is its own."""
    deployment = Deployment(tmp_path, None, new_project_id(), new_management_key())
    live = deployment.start(workers=1)
    try:
        yield live
    finally:
        live.stop()


def test_sign_up_flood_keeps_memory_bounded(broker_process: BrokerProcess) -> None:
    pid = broker_process.process.pid
    idle = rss_mib(pid)
    peak = idle
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mib(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()

    def sign_up(i: int) -> httpx.Response:
        return httpx.post(
            f"{broker_process.url}/v1/auth/password/signup",
            headers={"Authorization": f"Bearer {broker_process.project_id}"},
            json={
                "loginId": f"flood-{i}-{secrets.token_hex(3)}@example.test",
                "password": PASSWORD,
            },
            timeout=300,
        )

    try:
        with ThreadPoolExecutor(max_workers=41) as pool:
            flood = [pool.submit(sign_up, i) for i in range(40)]
            # The broker keeps answering while the flood runs.
            health = httpx.get(f"{broker_process.url}/v1/x/health", timeout=60)
            answers = [f.result() for f in flood]
    finally:
        done.set()
        sampler.join()
    assert health.status_code == 200
    assert {r.status_code for r in answers} <= {200, 429}
    assert any(r.status_code == 200 for r in answers)
    assert peak - idle < 400, f"RSS went from {idle:.0f} MiB to {peak:.0f} MiB"


# ---- forged key ids ------------------------------------------------------------------------


def test_unknown_kid_flood_does_not_reload_keys(
    live_broker: LiveBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing = live_broker.broker.signing
    reloads = Counter(signing._reload)
    monkeypatch.setattr(signing, "_reload", reloads)
    unseals = Counter(KeyRing.unseal)
    monkeypatch.setattr(KeyRing, "unseal", lambda ring, *a, **kw: unseals(ring, *a, **kw))
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    t = int(now_s())
    claims = {"iss": live_broker.project_id, "sub": "U1", "iat": t, "exp": t + 600, "sid": "x"}

    def forged(i: int) -> str:
        kid = f"{live_broker.project_id[:8]}-{secrets.token_hex(6)}"
        return jwt.encode({**claims, "drn": "DSR"}, attacker_key, "RS256", headers={"kid": kid})

    for i in range(50):
        answer = httpx.get(
            f"{live_broker.url}/v1/auth/me", headers=live_broker.user_headers(forged(i))
        )
        assert answer.status_code == 401
    assert reloads.calls <= 1, f"keys reloaded {reloads.calls} times"
    assert unseals.calls == 0, f"{unseals.calls} private keys decrypted on the request path"
