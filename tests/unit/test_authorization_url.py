"""The authorization-URL inspector's decoder."""

from __future__ import annotations

import pytest

from dashboard.authorization_url import decode_authorization_url, mask, split_scopes

STATE = "Zq3k9xY7s1Lw0pRt5uVb2nMc8dAe4fGh"
URL = (
    "https://accounts.example.com/o/oauth2/v2/auth?response_type=code&client_id=app-123"
    "&redirect_uri=https%3A%2F%2Fbroker.example%2Fv1%2Foutbound%2Foauth%2Fcallback"
    "&scope=openid+email+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar.readonly"
    f"&state={STATE}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    "&code_challenge_method=S256&access_type=offline&prompt=consent"
)


def test_each_part_of_the_url_is_named() -> None:
    request = decode_authorization_url(URL)
    assert request.provider_host == "accounts.example.com"
    assert request.endpoint == "https://accounts.example.com/o/oauth2/v2/auth"
    assert request.response_type == "code"
    assert request.client_id == "app-123"
    assert request.redirect_uri == "https://broker.example/v1/outbound/oauth/callback"
    assert request.scopes == (
        "openid",
        "email",
        "https://www.googleapis.com/auth/calendar.readonly",
    )
    assert request.pkce_method == "S256"
    assert request.extra == (("access_type", "offline"), ("prompt", "consent"))
    assert request.warnings() == ()


def test_the_state_is_masked() -> None:
    request = decode_authorization_url(URL)
    assert STATE not in request.state_masked
    assert request.state_masked.startswith(STATE[:4])
    assert STATE not in repr(request)


def test_missing_pkce_and_state_and_plain_http_are_warned_about() -> None:
    request = decode_authorization_url("http://127.0.0.1:8788/oauth/authorize?client_id=x")
    assert request.pkce_method == ""
    assert request.state_masked == ""
    assert len(request.warnings()) == 3


def test_a_challenge_without_a_method_is_plain_pkce() -> None:
    request = decode_authorization_url("https://p.example/auth?code_challenge=abc&state=s")
    assert request.pkce_method == "plain"
    assert "weaker than S256" in request.warnings()[0]


def test_comma_separated_scopes_are_split() -> None:
    assert split_scopes("repo,read:user") == ("repo", "read:user")
    assert split_scopes("a  b a") == ("a", "b")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/relative?x=1", "", "ftp://host/x"])
def test_anything_but_an_absolute_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        decode_authorization_url(url)


def test_mask_hides_short_values_entirely() -> None:
    assert mask("abc") == "••••••••"
    assert mask("") == ""
