"""Open redirect: nobody can make the broker send a browser to a place the operator did not allow.

Through a connect's ``redirectUrl`` (checked when the connect starts) and through the callback
(which only ever follows the redirect stored with the pending authorization).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from broker.config import BrokerSettings
from broker.providers.url_policy import redirect_allowed
from tests.support.identity import sign_in_new_user
from tests.support.outbound import CALLBACK_PATH, LANDING, consent, start_connect
from tests.support.servers import LiveBroker

# Refused with the embedded defaults (the dashboard's origin and loopback origins).
EVIL_REDIRECTS = {
    "other_origin": "https://evil.example/landing",
    "scheme_relative": "//evil.example/landing",
    "javascript_scheme": "javascript:alert(document.cookie)",
    "data_scheme": "data:text/html,<script>alert(1)</script>",
    "userinfo_loopback_at_evil": "http://127.0.0.1@evil.example/landing",
    "userinfo_dashboard_at_evil": "http://127.0.0.1:8501@evil.example/landing",
    "backslash_userinfo": "http://evil.example\\@127.0.0.1:8501/landing",
    "backslash_host_break": "http://127.0.0.1:8501\\evil.example/landing",
    "backslash_after_host": "https://evil.example\\.127.0.0.1/landing",
    "evil_suffix_of_loopback": "http://127.0.0.1.evil.example/landing",
    "encoded_at_sign": "http://127.0.0.1%40evil.example/landing",
    "crlf_header_injection": "http://127.0.0.1:8501/landing\r\nLocation: https://evil.example",
    "no_scheme": "evil.example/landing",
    "ftp_scheme": "ftp://127.0.0.1/landing",
}

# An operator who allows one path prefix on one origin.
PREFIX = "https://app.example/outbound/"
ESCAPES_FROM_PREFIX = {
    "dot_segments": "https://app.example/outbound/../admin",
    "encoded_dot_segments": "https://app.example/outbound/%2e%2e/admin",
    "upper_encoded_dot_segments": "https://app.example/outbound/%2E%2E/admin",
    "mixed_encoded_dot_segments": "https://app.example/outbound/.%2e/admin",
    "backslash_dot_segments": "https://app.example/outbound/..\\admin",
    "encoded_slash_dot_segments": "https://app.example/outbound/..%2fadmin",
    "sibling_of_the_prefix": "https://app.example/outbound-admin/",
    "other_host_same_prefix_text": "https://app.example.evil.example/outbound/",
}


@pytest.mark.parametrize("url", EVIL_REDIRECTS.values(), ids=EVIL_REDIRECTS.keys())
def test_open_redirect_through_redirect_url_is_refused_at_connect(
    live_broker: LiveBroker, app_id: str, url: str
) -> None:
    user = sign_in_new_user(live_broker)
    refused = start_connect(live_broker, user, app_id, redirect_url=url)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errorCode"] == "E011004"


@pytest.mark.parametrize("url", ESCAPES_FROM_PREFIX.values(), ids=ESCAPES_FROM_PREFIX.keys())
def test_open_redirect_escaping_an_allowed_prefix_is_refused(url: str) -> None:
    settings = BrokerSettings(allowed_redirects=(PREFIX,))
    assert redirect_allowed(PREFIX + "landing?x=1", settings)
    assert not redirect_allowed(url, settings)


def test_open_redirect_through_callback_parameters_is_ignored(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    callback = consent(start_connect(live_broker, user, app_id).json()["url"])
    hijacked = callback + "&redirectUrl=https://evil.example/&redirect_uri=https://evil.example/"
    landed = httpx.get(hijacked)
    assert landed.status_code == 302
    location = urlsplit(landed.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LANDING


def test_open_redirect_through_callback_with_an_unknown_state_has_no_location(
    live_broker: LiveBroker,
) -> None:
    landed = httpx.get(
        f"{live_broker.url}{CALLBACK_PATH}",
        params={"state": "forged", "code": "x", "redirectUrl": "https://evil.example/"},
    )
    assert landed.status_code == 400
    assert "location" not in landed.headers
    assert "evil.example" not in landed.text


def test_script_in_the_provider_error_description_is_escaped_on_the_error_page(
    live_broker: LiveBroker,
) -> None:
    landed = httpx.get(
        f"{live_broker.url}{CALLBACK_PATH}",
        params={"state": "<script>alert(1)</script>", "error_description": "<img src=x>"},
    )
    assert landed.status_code == 400
    assert "<script>alert" not in landed.text and "<img" not in landed.text
