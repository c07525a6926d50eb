"""Demo provider: fault switches, their ``remaining`` counts, stats, and the admin guard."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.provider import LiveProvider, start_provider


def test_faults_merge_show_and_reset(provider: LiveProvider) -> None:
    provider.set_faults(latency_ms=5)
    shown = provider.set_faults(token_status={"value": 503, "remaining": 2})
    assert shown == {
        "latency_ms": {"value": 5, "remaining": None},
        "token_status": {"value": 503, "remaining": 2},
    }
    assert provider.set_faults(latency_ms=False) == {"token_status": {"value": 503, "remaining": 2}}
    provider.reset_faults()
    assert provider.http.get(f"{provider.url}/admin/faults").json() == {}


@pytest.mark.parametrize(
    "body",
    [
        {"no_such_fault": True},
        {"token_status": 404},
        {"narrow_scopes": ["root"]},
        {"latency_ms": {"value": 5, "remaining": 0}},
    ],
)
def test_bad_fault_settings_are_refused(provider: LiveProvider, body: dict[str, object]) -> None:
    response = provider.http.post(f"{provider.url}/admin/faults", json=body)
    assert response.status_code == 400
    assert provider.http.get(f"{provider.url}/admin/faults").json() == {}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_token_status_answers_5xx_without_consuming_the_code(
    provider: LiveProvider, status: int
) -> None:
    client = provider.client()
    code, verifier = client.code()
    provider.set_faults(token_status={"value": status, "remaining": 1})
    failed = client.exchange(code, verifier)
    assert failed.status_code == status
    assert failed.json()["error"] == "temporarily_unavailable"
    assert client.exchange(code, verifier).status_code == 200
    assert provider.stats()["token_outcomes"]["authorization_code"] == {
        f"status_{status}": 1,
        "ok": 1,
    }


def test_429_carries_retry_after_and_keeps_the_refresh_token(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.set_faults(token_status={"value": 429, "remaining": 2}, retry_after_s=7)
    for _ in range(2):
        limited = client.refresh(tokens["refresh_token"])
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
    assert "token_status" not in provider.set_faults()
    assert client.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("error", "status"),
    [("invalid_grant", 400), ("invalid_client", 401), ("invalid_scope", 400)],
)
def test_refresh_error_refuses_refresh_only(
    provider: LiveProvider, error: str, status: int
) -> None:
    client = provider.client()
    provider.set_faults(refresh_error=error)
    tokens = client.tokens()  # the code exchange is not affected
    refused = client.refresh(tokens["refresh_token"])
    assert refused.status_code == status
    assert refused.json()["error"] == error
    assert provider.introspect(tokens["refresh_token"])["status"] == "active"


def test_refresh_error_with_remaining_switches_itself_off(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.set_faults(refresh_error={"value": "invalid_grant", "remaining": 1})
    assert client.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert client.refresh(tokens["refresh_token"]).status_code == 200


def test_omit_expires_in_drops_the_field(provider: LiveProvider) -> None:
    client = provider.client()
    provider.set_faults(omit_expires_in={"value": True, "remaining": 1})
    assert "expires_in" not in client.tokens()
    assert client.tokens()["expires_in"] == 3600


def test_no_refresh_token_on_connect(provider: LiveProvider) -> None:
    client = provider.client()
    provider.set_faults(no_refresh_token=True)
    tokens = client.tokens()
    assert "refresh_token" not in tokens and "access_token" in tokens


def test_no_refresh_token_on_refresh_keeps_the_old_one_valid(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.set_faults(no_refresh_token={"value": True, "remaining": 1})
    answer = client.refresh(tokens["refresh_token"]).json()
    assert "refresh_token" not in answer
    assert client.refresh(tokens["refresh_token"]).status_code == 200


def test_narrow_scopes_drops_listed_scopes_from_what_is_granted(provider: LiveProvider) -> None:
    client = provider.client()
    provider.set_faults(narrow_scopes={"value": ["email", "calendar.read"], "remaining": 1})
    tokens = client.tokens("profile email calendar.read offline_access")
    assert tokens["scope"] == "profile offline_access"
    me = provider.http.get(
        f"{provider.url}/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert "email" not in me
    assert client.refresh(tokens["refresh_token"]).json()["scope"] == "profile offline_access"


def test_garbage_json_is_a_200_that_does_not_parse(provider: LiveProvider) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.set_faults(garbage_json={"value": True, "remaining": 1})
    garbage = client.refresh(tokens["refresh_token"])
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()
    assert client.refresh(tokens["refresh_token"]).status_code == 200  # nothing was rotated
    assert provider.stats()["token_outcomes"]["refresh_token"]["garbage_json"] == 1


def test_wrong_content_type_serves_the_real_answer_as_html(provider: LiveProvider) -> None:
    client = provider.client()
    provider.set_faults(wrong_content_type=True)
    code, verifier = client.code()
    answer = client.exchange(code, verifier)
    assert answer.headers["content-type"].startswith("text/html")
    assert "access_token" in answer.json()


def test_latency_holds_the_answer_back_then_switches_off(provider: LiveProvider) -> None:
    client = provider.client()
    code, verifier = client.code()
    provider.set_faults(latency_ms={"value": 1000, "remaining": 1})
    # Only a lower bound: a client that waits 0.1 s cannot get an answer delayed by 1 s.
    with pytest.raises(httpx.ReadTimeout):
        provider.http.post(f"{provider.url}/oauth/token", data={"grant_type": "x"}, timeout=0.1)
    assert "latency_ms" not in provider.http.get(f"{provider.url}/admin/faults").json()
    assert client.exchange(code, verifier).status_code == 200


def test_lost_response_rotates_but_the_client_never_sees_the_new_pair(
    provider: LiveProvider,
) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.set_faults(lost_response={"value": True, "remaining": 1})
    lost = client.refresh(tokens["refresh_token"])
    assert lost.status_code == 502
    assert provider.introspect(tokens["refresh_token"])["status"] == "rotated"
    assert client.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert provider.stats()["reuse_detected"] == 1


def test_access_token_ttl_fault_shortens_tokens(provider: LiveProvider) -> None:
    provider.set_faults(access_token_ttl_s=5)
    assert provider.client().tokens()["expires_in"] == 5


def test_stats_count_token_calls_by_grant_type_and_outcome_and_reset(
    provider: LiveProvider,
) -> None:
    client = provider.client()
    tokens = client.tokens()
    client.refresh(tokens["refresh_token"])
    client.refresh("unknown-refresh-token")
    stats = provider.stats()
    assert stats["token_calls"] == {"authorization_code": 1, "refresh_token": 2}
    assert stats["token_outcomes"]["refresh_token"] == {"ok": 1, "invalid_grant": 1}
    assert stats["approvals"] == 1
    provider.reset_stats()
    assert provider.stats()["token_calls"] == {}


def test_admin_secret_guards_the_admin_endpoints() -> None:
    live = start_provider(admin_secret="adm1n")
    try:
        assert live.http.get(f"{live.url}/admin/stats").status_code == 401
        wrong = live.http.get(f"{live.url}/admin/stats", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert live.stats()["revocations"] == 0  # the fixture sends the secret
    finally:
        live.stop()


def test_a_slow_answer_whose_client_gave_up_is_dropped_unprocessed(
    provider: LiveProvider,
) -> None:
    client = provider.client()
    tokens = client.tokens()
    provider.reset_stats()
    provider.set_faults(latency_ms={"value": 1500, "remaining": 1})
    with pytest.raises(httpx.TimeoutException):
        provider.http.post(
            f"{provider.url}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(client.client_id, client.client_secret),
            timeout=0.3,
        )
    deadline = time.monotonic() + 5
    while "client_gone" not in provider.stats()["token_outcomes"].get("refresh_token", {}):
        assert time.monotonic() < deadline, provider.stats()
        time.sleep(0.05)
    # The refresh token was not rotated: it still works.
    assert client.refresh(tokens["refresh_token"]).status_code == 200
