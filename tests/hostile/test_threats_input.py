"""Hostile input: injection, oversized and deeply nested bodies, values no database can hold.

Text is stored and returned verbatim (never interpreted), refusals are Descope 4xx bodies, and
no request turns into a 500 or a hang.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.servers import LiveBroker

SQL_INJECTIONS = {
    "or_true": "' OR '1'='1",
    "comment_out": "x' --",
    "union_select": "' UNION SELECT id, name FROM users --",
    "stacked_drop": "x'; DROP TABLE users; --",
    "like_wildcards": "%_%",
    "double_quotes": '" OR ""="',
}
JSON_INJECTIONS = {
    "quote_break": '", "clientSecret": "leak',
    "nested_object_text": '{"$ne": null}',
    "unicode_escapes": "\\u0000\\u202e",
    "nul_free_controls": "line\nbreak\ttab",
}


@pytest.fixture(scope="module")
def plain_person(live_broker: LiveBroker) -> str:
    """A user every injection must fail to drag into a search result."""
    _create_user(live_broker, "plain-person@example.test", "Plain Person")
    return "Plain Person"


def _search(live: LiveBroker, **body: object) -> httpx.Response:
    return httpx.post(f"{live.url}/v1/mgmt/user/search", headers=live.mgmt_headers(), json=body)


def _create_user(live: LiveBroker, login_id: str, name: str) -> None:
    created = httpx.post(
        f"{live.url}/v1/mgmt/user/create",
        headers=live.mgmt_headers(),
        json={"loginId": login_id, "displayName": name},
    )
    assert created.status_code == 200, created.text


@pytest.mark.parametrize("text", SQL_INJECTIONS.values(), ids=SQL_INJECTIONS.keys())
def test_sql_injection_in_user_search_text_matches_only_literally(
    live_broker: LiveBroker, plain_person: str, text: str
) -> None:
    assert plain_person in [u["name"] for u in _search(live_broker, text="plain").json()["users"]]
    searched = _search(live_broker, text=text)
    assert searched.status_code == 200, searched.text
    assert plain_person not in [u["name"] for u in searched.json()["users"]]


def test_sql_injection_stored_as_a_name_is_returned_verbatim(live_broker: LiveBroker) -> None:
    name = SQL_INJECTIONS["stacked_drop"]
    _create_user(live_broker, "bobby-tables@example.test", name)
    found = _search(live_broker, text="DROP TABLE").json()["users"]
    assert [u["name"] for u in found] == [name]
    assert _search(live_broker).status_code == 200  # the table is still there


@pytest.mark.parametrize(
    "text", [*SQL_INJECTIONS.values(), *JSON_INJECTIONS.values()],
    ids=[*SQL_INJECTIONS.keys(), *JSON_INJECTIONS.keys()],
)  # fmt: skip
def test_sql_and_json_injection_in_app_fields_is_stored_verbatim(
    live_broker: LiveBroker, text: str
) -> None:
    created = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/create",
        headers=live_broker.mgmt_headers(),
        json={
            "name": f"app {text}",
            "description": text,
            "clientId": text,
            "clientSecret": "s3cret",
            "authorizationUrl": "https://provider.example/authorize",
            "tokenUrl": "https://provider.example/token",
            "defaultScopes": [text, "read"],
        },
    )
    assert created.status_code == 200, created.text
    app_id = created.json()["app"]["id"]
    loaded = httpx.get(
        f"{live_broker.url}/v1/mgmt/outbound/app/{app_id}", headers=live_broker.mgmt_headers()
    ).json()["app"]
    assert (loaded["name"], loaded["description"], loaded["clientId"]) == (
        f"app {text}", text, text,
    )  # fmt: skip
    assert loaded["defaultScopes"] == [text, "read"]
    assert "clientSecret" not in loaded and "leak" not in str(loaded.get("clientSecret", ""))


def test_oversized_body_is_413_without_reading_it_all(live_broker: LiveBroker) -> None:
    limit = live_broker.broker.settings.max_body_bytes
    answered = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/search",
        headers=live_broker.mgmt_headers(),
        content=b'{"text":"' + b"a" * (limit + 1) + b'"}',
    )
    assert answered.status_code == 413
    assert answered.json()["errorCode"] == "E011008"


def test_oversized_chunked_body_without_a_length_is_413(live_broker: LiveBroker) -> None:
    limit = live_broker.broker.settings.max_body_bytes

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text":"'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    answered = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/search",
        headers=live_broker.mgmt_headers(),
        content=chunks(),
    )
    assert answered.status_code == 413


@pytest.mark.parametrize("depth", [64, 5_000, 200_000])
def test_deeply_nested_body_is_a_descope_400(live_broker: LiveBroker, depth: int) -> None:
    body = '{"text": "x", "extra": ' + "[" * depth + "]" * depth + "}"
    answered = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/search",
        headers={**live_broker.mgmt_headers(), "Content-Type": "application/json"},
        content=body,
    )
    # Shallow nesting in an ignored field is harmless; past the parser's depth it is refused.
    assert answered.status_code in (200, 400), answered.text
    if answered.status_code == 400:
        assert answered.json()["errorCode"] == "E011001"


def test_malformed_json_is_a_descope_400(live_broker: LiveBroker) -> None:
    answered = httpx.post(
        f"{live_broker.url}/v1/mgmt/user/search",
        headers={**live_broker.mgmt_headers(), "Content-Type": "application/json"},
        content=b'{"text": "unterminated',
    )
    assert answered.status_code == 400
    assert answered.json()["errorCode"] == "E011001"


@pytest.mark.parametrize("field", ["fromCreatedTime", "toModifiedTime", "page", "limit"])
def test_integers_beyond_64_bits_in_user_search_are_a_descope_400(
    live_broker: LiveBroker, field: str
) -> None:
    answered = _search(live_broker, **{field: 2**80})
    assert answered.status_code == 400, answered.text
    assert answered.json()["errorCode"] == "E011003"


def test_an_expiry_beyond_the_integer_column_is_a_descope_400(live_broker: LiveBroker) -> None:
    answered = httpx.post(
        f"{live_broker.url}/v1/mgmt/outbound/app/user/oauthtoken/upload",
        headers=live_broker.mgmt_headers(),
        json={"appId": "nope", "userId": "U1", "accessToken": "a", "accessTokenExpiry": 2**70},
    )
    assert answered.status_code == 400, answered.text


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/mgmt/user/create", {"loginId": "nul\u0000byte@example.test"}),
        ("/v1/mgmt/tenant/create", {"name": "nul\u0000tenant"}),
        ("/v1/mgmt/user/search", {"tenantIds": ["nul\u0000id"]}),
    ],
)
def test_a_nul_character_is_stored_or_refused_never_a_500(
    live_broker: LiveBroker, path: str, body: dict[str, object]
) -> None:
    answered = httpx.post(f"{live_broker.url}{path}", headers=live_broker.mgmt_headers(), json=body)
    # SQLite stores it; PostgreSQL text cannot hold NUL, so there it is a Descope 400.
    assert answered.status_code in (200, 400), answered.text
    if answered.status_code == 400:
        assert answered.json()["errorCode"] == "E011004"
