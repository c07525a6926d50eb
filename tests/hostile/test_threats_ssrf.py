"""Server-side request forgery: the broker never calls a private address on a tenant's behalf.

Provider URLs (discovery, token, revocation) that point at private, link-local (the cloud
metadata service), CGNAT, unspecified or IPv6 ULA/link-local addresses are refused, in every
spelling, unless the operator allows private URLs; loopback stays allowed (the demo provider).
Names are resolved and checked at every request: a fake resolver stands in for DNS records
that point at private addresses (no DNS server can run here).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from tests.support.identity import sign_in_new_user
from tests.support.outbound import CALLBACK_PATH, CLIENT_SECRET, consent, outcome_of, start_connect
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, ThreadedServer

HOSTILE_HOSTS = {
    "rfc1918_10": "10.1.2.3",
    "rfc1918_172": "172.16.0.1",
    "rfc1918_192": "192.168.0.1",
    "metadata_service": "169.254.169.254",
    "metadata_decimal": "2852039166",
    "metadata_octal": "0251.0376.0251.0376",
    "metadata_hex": "0xA9FEA9FE",
    "metadata_ipv4_mapped_ipv6": "[::ffff:169.254.169.254]",
    "cgnat": "100.64.0.1",
    "unspecified": "0.0.0.0",
    "unspecified_short": "0",
    "ipv6_unspecified": "[::]",
    "ipv6_ula": "[fd00::1]",
    "ipv6_link_local": "[fe80::1]",
}
URL_FIELDS = ("tokenUrl", "revocationUrl", "discoveryUrl")
# Fake DNS records: names an attacker controls, pointing inside the network.
PRIVATE_NAMES = {
    "intranet.attacker.example": ["10.0.0.5"],
    "metadata.attacker.example": ["169.254.169.254"],
    "rebind.attacker.example": ["93.184.216.34", "192.168.1.10"],
    "v6.attacker.example": ["fd12:3456::1"],
}


def _create(live: LiveBroker, **fields: Any) -> httpx.Response:
    body = {"name": f"ssrf {secrets.token_hex(4)}", **fields}
    return httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create", headers=live.mgmt_headers(), json=body
    )


@pytest.fixture
def private_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve ``PRIVATE_NAMES`` to their private addresses; everything else as usual."""
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in PRIVATE_NAMES:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (a, port or 443),
                )
                for a in PRIVATE_NAMES[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize("host", HOSTILE_HOSTS.values(), ids=HOSTILE_HOSTS.keys())
def test_ssrf_to_a_private_address_is_refused_when_the_app_is_saved(
    live_broker: LiveBroker, field: str, host: str
) -> None:
    refused = _create(live_broker, **{field: f"https://{host}/oauth"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["errorCode"] == "E011004"


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_ssrf_through_a_name_resolving_to_a_private_address_is_refused_at_discovery(
    live_broker: LiveBroker, private_dns: None, name: str
) -> None:
    refused = _create(live_broker, discoveryUrl=f"https://{name}/.well-known/openid-configuration")
    assert refused.status_code == 400, refused.text


def test_ssrf_through_a_token_url_name_is_refused_at_the_code_exchange(
    live_broker: LiveBroker, provider: LiveProvider, private_dns: None
) -> None:
    client_id = f"ssrf-{secrets.token_hex(4)}"
    provider.register_client(client_id, CLIENT_SECRET, [live_broker.url + CALLBACK_PATH])
    created = _create(
        live_broker,
        id=client_id,
        clientId=client_id,
        clientSecret=CLIENT_SECRET,
        authorizationUrl=f"{provider.url}/oauth/authorize",
        tokenUrl="https://intranet.attacker.example/oauth/token",
        defaultScopes=["profile"],
    )
    assert created.status_code == 200, created.text  # a name is only resolved when called
    provider.reset_stats()
    user = sign_in_new_user(live_broker)
    landed = httpx.get(consent(start_connect(live_broker, user, client_id).json()["url"]))
    outcome = outcome_of(landed.headers["location"])
    assert outcome["outbound"] == "error", outcome
    assert "non-public" in outcome["errorDescription"]


def test_ssrf_through_a_redirect_from_discovery_is_not_followed(live_broker: LiveBroker) -> None:
    async def to_metadata(_: Any) -> RedirectResponse:
        return RedirectResponse("http://169.254.169.254/latest/meta-data/iam", status_code=302)

    server = ThreadedServer(Starlette(routes=[Route("/{path:path}", to_metadata)])).start()
    try:
        refused = _create(
            live_broker, discoveryUrl=f"{server.url}/.well-known/openid-configuration"
        )
    finally:
        server.stop()
    assert refused.status_code == 400
    assert refused.json()["errorMessage"].endswith("metadata_unreadable")  # the 302 itself


def test_ssrf_through_discovered_endpoints_is_refused(live_broker: LiveBroker) -> None:
    async def metadata(_: Any) -> Any:
        from starlette.responses import JSONResponse

        return JSONResponse(
            {
                "issuer": "https://idp.example",
                "authorization_endpoint": "https://idp.example/authorize",
                "token_endpoint": "https://169.254.169.254/token",
            }
        )

    server = ThreadedServer(Starlette(routes=[Route("/{path:path}", metadata)])).start()
    try:
        refused = _create(
            live_broker, discoveryUrl=f"{server.url}/.well-known/openid-configuration"
        )
    finally:
        server.stop()
    assert refused.status_code == 400, refused.text


def test_private_addresses_are_allowed_when_the_operator_says_so(
    make_broker: Callable[..., LiveBroker],
) -> None:
    lenient = make_broker(allow_private_urls=True)
    accepted = _create(lenient, tokenUrl="http://10.1.2.3/oauth/token")
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8788/oauth/token", "http://localhost:8788/oauth/token",
            "https://[::1]:8788/oauth/token", "https://0x7f000001/oauth/token"],
)  # fmt: skip
def test_loopback_stays_allowed_for_the_demo_provider(live_broker: LiveBroker, url: str) -> None:
    accepted = _create(live_broker, tokenUrl=url)
    assert accepted.status_code == 200, accepted.text
