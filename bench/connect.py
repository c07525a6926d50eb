"""connect: full connect flows per second through the demo provider (sign-in excluded).

Broker and demo provider (auto-approving) each in their own process. Users are created and
signed in first (``/v1/mgmt/auth/signin``), outside the timing. Then ``clients`` threads each
repeat the whole flow for a fixed time: ``POST /v1/outbound/oauth/connect`` → the provider's
authorization URL (302 to the broker's callback) → the callback (code exchanged with PKCE at the
provider, tokens sealed and stored, 302 to the redirect URL). Only flows whose final redirect
says ``outbound=connected`` count.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.servers import BrokerProcess, ProviderProcess, start_broker, start_provider

APP_ID = "bench-calendar"
CLIENT_SECRET = "bench-client-secret-0123456789abcdef"
LANDING = "http://127.0.0.1/landing"


def _demo_app(broker: BrokerProcess, provider: ProviderProcess) -> None:
    """Register the broker at the provider and create the outbound app for it."""
    callback = broker.url + "/v1/outbound/oauth/callback"
    registered = broker.http.post(
        provider.url + "/admin/clients",
        json={"client_id": APP_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [callback]},
    )
    registered.raise_for_status()
    broker.mgmt(
        "POST",
        "/v1/mgmt/outbound/app/create/bytemplate",
        json={
            "templateId": "demo",
            "id": APP_ID,
            "clientId": APP_ID,
            "clientSecret": CLIENT_SECRET,
            "baseUrl": provider.url,
        },
    )


def _signed_in_user(broker: BrokerProcess, n: int) -> str:
    """A new user's refresh JWT (made through the management API, not timed)."""
    login = f"connect-{n}@bench.test"
    broker.mgmt("POST", "/v1/mgmt/user/create", json={"loginId": login, "email": login})
    jwt: str = broker.mgmt("POST", "/v1/mgmt/auth/signin", json={"loginId": login})["refreshJwt"]
    return jwt


def one_flow(http: httpx.Client, broker: BrokerProcess, refresh_jwt: str) -> bool:
    """Connect → consent → callback; whether the final redirect reports a connection."""
    started = http.post(
        broker.url + "/v1/outbound/oauth/connect",
        headers={"Authorization": f"Bearer {broker.project_id}:{refresh_jwt}"},
        json={"appId": APP_ID, "options": {"redirectUrl": LANDING}},
    )
    if started.status_code != 200:
        return False
    consent = http.get(started.json()["url"])
    if consent.status_code not in (302, 303):
        return False
    landed = http.get(consent.headers["location"])
    bearer = f"Bearer {broker.project_id}:{refresh_jwt}"
    return landed.status_code == 302 and landing_outcome(http, broker.url, bearer, landed) == (
        "connected"
    )


def landing_outcome(
    http: httpx.Client, broker_url: str, bearer: str, landed: httpx.Response
) -> str:
    """What the landing page learns: the redirect's ``outbound``, or, for a grant waiting for
    the user verifier, the outcome of confirming it as the user (the landing page's call)."""
    query = dict(httpx.URL(landed.headers.get("location", "")).params)
    if query.get("outbound") != "confirm":
        return query.get("outbound", "") + (f" {query['error']}" if query.get("error") else "")
    answer = http.post(
        broker_url + "/v1/x/outbound/oauth/confirm",
        headers={"Authorization": bearer},
        json={"flow": query.get("flow", "")},
    )
    return str(answer.json().get("outcome")) if answer.status_code == 200 else "unconfirmed"


def run(duration_s: float = 10.0, clients: int = 4) -> dict[str, float]:
    """Completed connect flows per second with ``clients`` concurrent browsers-to-be."""
    with tempfile.TemporaryDirectory(prefix="bench-connect-") as tmp:
        broker = start_broker(Path(tmp) / "broker")
        provider = start_provider(Path(tmp) / "provider")
        try:
            _demo_app(broker, provider)
            jwts = [_signed_in_user(broker, n) for n in range(clients)]
            counts = [0] * clients
            failures = [0] * clients
            deadline = time.monotonic() + duration_s

            def client(i: int) -> None:
                with httpx.Client(timeout=30) as http:
                    while time.monotonic() < deadline:
                        if one_flow(http, broker, jwts[i]):
                            counts[i] += 1
                        else:
                            failures[i] += 1

            started = time.monotonic()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            provider.stop()
            broker.stop()
    if sum(failures):
        raise RuntimeError(f"{sum(failures)} connect flows failed")
    return {"connect_flows_per_s": round(sum(counts) / elapsed, 1)}


if __name__ == "__main__":
    print(run())
