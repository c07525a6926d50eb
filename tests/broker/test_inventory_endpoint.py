"""The bulk inventory extension: token metadata only, with owners, paged and filtered."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, MAIL, UPLOADED_ACCESS, SeededTokens


def _inventory(live: LiveBroker, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{live.url}/v1/x/outbound/inventory", headers=live.mgmt_headers(), params=params
    )


def test_inventory_lists_every_token_without_secrets(
    live_broker: LiveBroker, seeded: SeededTokens
) -> None:
    response = _inventory(live_broker)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["tokens"]) == 7
    assert all("accessToken" not in t and "refreshToken" not in t for t in body["tokens"])
    assert UPLOADED_ACCESS not in response.text
    by_owner = {(t["userEmail"] or t["tenantName"], t["appId"]): t for t in body["tokens"]}
    assert by_owner[("cyd@example.test", CAL)]["status"] == "refresh_failed"
    assert by_owner[("cyd@example.test", CAL)]["lastRefreshError"]
    assert by_owner[("bob@example.test", MAIL)]["status"] == "expired"
    assert by_owner[("bob@example.test", MAIL)]["hasRefreshToken"] is False
    assert by_owner[("Globex", CAL)]["userId"] == ""
    assert by_owner[("Globex", CAL)]["tenantId"] == seeded.tenant_id
    ada = by_owner[("ada@example.test", CAL)]
    assert (ada["userName"], ada["userLoginId"]) == ("ada", "ada@example.test")
    assert int(ada["accessTokenExpiry"]) > 0 and ada["scopes"]


def test_inventory_pages_in_a_stable_order(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    pages = [_inventory(live_broker, page=p, limit=3).json() for p in range(3)]

    ids = [t["id"] for page in pages for t in page["tokens"]]
    assert [len(page["tokens"]) for page in pages] == [3, 3, 1]
    assert len(set(ids)) == 7
    assert all(page["total"] == 7 for page in pages)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"appId": MAIL}, {("ada", MAIL), ("bob", MAIL), ("dee", MAIL)}),
        ({"status": "expired"}, {("bob", MAIL)}),
        ({"status": "refresh_failed"}, {("cyd", CAL)}),
        ({"userText": "ADA@"}, {("ada", CAL), ("ada", MAIL)}),
        ({"appId": CAL, "status": "active"}, {("ada", CAL), ("bob", CAL), ("", CAL)}),
    ],
)
def test_inventory_filters(
    live_broker: LiveBroker,
    seeded: SeededTokens,
    params: dict[str, str],
    expected: set[tuple[str, str]],
) -> None:
    body = _inventory(live_broker, **params).json()

    assert {(t["userName"], t["appId"]) for t in body["tokens"]} == expected
    assert body["total"] == len(expected)


def test_inventory_filters_by_user_id(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    body = _inventory(live_broker, userId=seeded.user_id("dee")).json()

    assert [(t["userEmail"], t["appId"]) for t in body["tokens"]] == [("dee@example.test", MAIL)]


def test_inventory_needs_the_management_key(live_broker: LiveBroker, seeded: SeededTokens) -> None:
    user = seeded.users["ada"]
    as_user = httpx.get(
        f"{live_broker.url}/v1/x/outbound/inventory",
        headers=live_broker.user_headers(user.refresh_jwt),
    )

    assert as_user.status_code == 401
    assert json.loads(as_user.text)["errorCode"]


@pytest.mark.parametrize(
    "params",
    [
        {"page": -1},
        {"page": 10**19},
        {"limit": 5000},
        {"status": "sleepy"},
        {"userText": "x" * 300},
        {"appId": [f"a{n}" for n in range(101)]},
    ],
)
def test_inventory_refuses_bad_arguments(
    live_broker: LiveBroker, seeded: SeededTokens, params: dict[str, Any]
) -> None:
    response = _inventory(live_broker, **params)

    assert response.status_code == 400
    assert response.json()["errorCode"] == "E011004"
