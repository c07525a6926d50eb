"""Secrets never in clear: after a full journey, nothing secret is in the database or the logs.

The journey: sign up and in with a password, sign in with an email code, connect the demo
provider, fetch (with the refresh token, as a backend asks for it), let an expired token
refresh, force a refresh, disconnect. Every secret seen on the way (passwords, the code, access
and refresh tokens, the client secret, the management key, session JWTs) is then looked for in
the database (the SQLite file with its WAL, or every PostgreSQL table as text), in every log
line the broker wrote (through ``broker.logs``' redacting handler, access-log lines included)
and in every URL the broker sent a browser to. ``.outbound/demo_provider.json`` belongs to the
third party and is not the broker's.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import inspect, text, update

from broker.logs import JsonFormatter, RedactingFilter
from broker.store.outbound import ManagedTokenRow
from tests.support.outbound import CLIENT_SECRET, consent, fetch_latest, land
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

PASSWORD = "Tr0ub4dor&3-horse-battery"


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, object]:
    """Demo mode: the email code is kept in the outbox, sealed; this scan proves it stays so."""
    return {"demo_mode": True}


@pytest.fixture
def broker_log() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, through the broker's redacting JSON handler."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    # uvicorn's loggers do not propagate under the test servers' config: listen to them too.
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.access")]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.addHandler(handler)
        each.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.removeHandler(handler)
            each.setLevel(level)


def _post(live: LiveBroker, path: str, headers: dict[str, str], **body: object) -> httpx.Response:
    answered = httpx.post(f"{live.url}{path}", headers=headers, json=body)
    assert answered.status_code == 200, answered.text
    return answered


def _journey(live: LiveBroker, app_id: str, secrets_seen: set[str], urls: list[str]) -> None:
    login = "journey@example.test"
    signed_up = _post(live, "/v1/auth/password/signup", live.project_headers(),
                      loginId=login, password=PASSWORD).json()  # fmt: skip
    signed_in = _post(live, "/v1/auth/password/signin", live.project_headers(),
                      loginId=login, password=PASSWORD).json()  # fmt: skip
    _post(live, "/v1/auth/otp/signin/email", live.project_headers(), loginId=login)
    outbox = httpx.get(f"{live.url}/v1/x/outbox", headers=live.mgmt_headers(),
                       params={"loginId": login}).json()["messages"]  # fmt: skip
    code = outbox[0]["code"]
    by_code = _post(live, "/v1/auth/otp/verify/email", live.project_headers(),
                    loginId=login, code=code).json()  # fmt: skip
    secrets_seen.update({PASSWORD, code, CLIENT_SECRET, live.management_key})
    for reply in (signed_up, signed_in, by_code):
        secrets_seen.update({reply["sessionJwt"], reply["refreshJwt"]})
    user_id = signed_in["user"]["userId"]
    started = httpx.post(
        f"{live.url}/v1/outbound/oauth/connect",
        headers=live.user_headers(signed_in["refreshJwt"]),
        json={"appId": app_id, "options": {"redirectUrl": "http://127.0.0.1:9/landing"}},
    )
    urls.append(started.json()["url"])
    urls.append(consent(urls[-1]))
    landed = httpx.get(urls[-1])
    urls.append(landed.headers["location"])
    assert land(live, urls[-1], signed_in["refreshJwt"])["outbound"] == "connected"
    fetched = fetch_latest(live, app_id, user_id, withRefreshToken=True).json()["token"]
    secrets_seen.update({fetched["accessToken"], fetched["refreshToken"]})
    with live.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.app_id == app_id)
            .values(access_token_expiry=1)
        )
    refreshed = fetch_latest(live, app_id, user_id, withRefreshToken=True).json()["token"]
    forced = fetch_latest(live, app_id, user_id, withRefreshToken=True, forceRefresh=True)
    for token in (refreshed, forced.json()["token"]):
        secrets_seen.update({token["accessToken"], token["refreshToken"]})
    gone = httpx.delete(f"{live.url}/v1/mgmt/outbound/user/tokens", headers=live.mgmt_headers(),
                        params={"appId": app_id, "userId": user_id})  # fmt: skip
    assert gone.status_code == 200
    # What uvicorn's access log would write for each request a browser made.
    access = logging.getLogger("uvicorn.access")
    for url in urls:
        parts = httpx.URL(url)
        access.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", parts.raw_path.decode(), "1.1", 302
        )


def _database_text(live: LiveBroker) -> str:
    if live.broker.db.is_sqlite:
        files = [live.data_dir / "broker.db", live.data_dir / "broker.db-wal"]
        return "\n".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    engine = live.broker.db.engine
    with engine.connect() as conn:
        return "\n".join(
            str(row[0])
            for table in inspect(engine).get_table_names()
            for row in conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
        )


def _leaks(haystack: str, secrets_seen: set[str]) -> list[str]:
    found = []
    for secret in secrets_seen:
        # Digits-only secrets (the code) must stand alone, not inside a longer number.
        pattern = rf"(?<!\d){re.escape(secret)}(?!\d)" if secret.isdigit() else re.escape(secret)
        if re.search(pattern, haystack):
            found.append(secret[:6] + "…")
    return found


def test_no_secret_of_a_full_journey_is_in_the_database_logs_or_urls(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str, broker_log: io.StringIO
) -> None:
    secrets_seen: set[str] = set()
    urls: list[str] = []
    _journey(live_broker, app_id, secrets_seen, urls)
    assert len(secrets_seen) >= 12 and all(secrets_seen)
    logged = broker_log.getvalue()
    assert "uvicorn.access" in logged
    assert _leaks(_database_text(live_broker), secrets_seen) == []
    assert _leaks(logged, secrets_seen) == []
    # The authorization code and state travel in the callback URL by protocol, never in a log.
    callback = httpx.URL(urls[1]).params
    assert _leaks(logged, {callback["code"], callback["state"]}) == []
    assert _leaks("\n".join(urls), secrets_seen) == []
