"""The fetch's hot path (``Database.loop_read``: the event loop's own autocommit connection)
answers what is committed now, keeps the wire shape, and survives losing its connection."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import text

from tests.support.servers import LiveBroker
from tests.support.token_seed import upload_user_token

FETCH = "/v1/mgmt/outbound/app/user/token/latest"


def _upload(live: LiveBroker, app_id: str, user_id: str, access: str, **extra: Any) -> None:
    upload_user_token(
        live,
        app_id,
        user_id,
        accessToken=access,
        refreshToken="r-" + access,
        accessTokenExpiry=int(time.time()) + 3600,
        scopes=["read", "write"],
        **extra,
    )


def _fetch(live: LiveBroker, app_id: str, user_id: str) -> httpx.Response:
    return httpx.post(
        live.url + FETCH, headers=live.mgmt_headers(), json={"appId": app_id, "userId": user_id}
    )


def test_a_fresh_fetch_sees_each_new_upload_at_once(live_broker: LiveBroker, app_id: str) -> None:
    for n in range(3):
        _upload(live_broker, app_id, "U-hot", f"access-{n}")
        token = _fetch(live_broker, app_id, "U-hot").json()["token"]
        # The loop's connection holds no transaction: each read sees the latest commit.
        assert token["accessToken"] == f"access-{n}"


def test_a_fresh_fetch_answers_the_whole_wire_shape(live_broker: LiveBroker, app_id: str) -> None:
    _upload(live_broker, app_id, "U-shape", "access-shape")
    token = _fetch(live_broker, app_id, "U-shape").json()["token"]
    assert token["scopes"] == ["read", "write"]  # a JSON column, decoded
    assert token["hasRefreshToken"] is True and "refreshToken" not in token
    assert token["status"] == "active" and token["expiryAssumed"] is False
    assert int(token["accessTokenExpiry"]) > time.time()
    assert token["appId"] == app_id and token["userId"] == "U-shape" and token["id"]


def test_the_fetch_recovers_when_its_connection_is_cut(
    live_broker: LiveBroker, app_id: str
) -> None:
    _upload(live_broker, app_id, "U-cut", "access-cut")
    assert _fetch(live_broker, app_id, "U-cut").status_code == 200
    db = live_broker.broker.db
    loop_conn = db._loop_conn
    assert loop_conn is not None
    if not db.is_sqlite:  # cut every other session of this database, the loop's included
        with db.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    else:  # SQLite: close the loop's connection under it
        loop_conn.connection.dbapi_connection.close()  # type: ignore[union-attr]
    # The read on the dead connection fails; the worker path answers instead, through the
    # pool, and the next fetch is back on the loop with a new connection.
    for _ in range(2):
        again = _fetch(live_broker, app_id, "U-cut")
        assert again.status_code == 200, again.text
        assert again.json()["token"]["accessToken"] == "access-cut"
    assert db._loop_conn is not None and db._loop_conn is not loop_conn
