"""The inventory's pages come in the order the tokens page names their owners: the user's name,
else email, else first login id, else the user id, and "Tenant <name>" for a tenant's token,
compared lower-cased (``broker.store.owners``, ``dashboard.inventory.records.owner_label``).
The broker keeps that key on each token row (indexed), set when the row is made, when a tenant
is renamed, and once for existing rows by the migration that added it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from broker.store.db import Database
from broker.store.identity import Tenant, User
from broker.store.outbound import OutboundAppRow
from dashboard.descope import Secret
from dashboard.descope.transport import Transport
from dashboard.inventory.page import PageQuery, fetch_every_page
from dashboard.inventory.records import Connection
from tests.support.dashboard import client_of
from tests.support.outbound import create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import PG_URL_ENV, LiveBroker, fresh_postgres_database
from tests.support.token_seed import upload_user_token


def _mgmt(live: LiveBroker, path: str, body: dict[str, object]) -> dict[str, object]:
    r = httpx.post(f"{live.url}{path}", headers=live.mgmt_headers(), json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _user(live: LiveBroker, login_id: str, **fields: str) -> str:
    user = _mgmt(live, "/v1/mgmt/user/create", {"loginId": login_id, **fields})["user"]
    return str(user["userId"])  # type: ignore[index]


def _tenant_token(live: LiveBroker, app_id: str, name: str) -> str:
    tenant_id = str(_mgmt(live, "/v1/mgmt/tenant/create", {"name": name})["id"])
    _mgmt(
        live,
        "/v1/mgmt/outbound/app/tenant/oauthtoken/upload",
        {"appId": app_id, "tenantId": tenant_id, "accessToken": f"tok-{name}"},
    )
    return tenant_id


def _pages(live: LiveBroker, **filters: str) -> list[Connection]:
    with Transport(live.url, live.project_id, Secret(live.management_key)) as transport:
        return fetch_every_page(client_of(transport), PageQuery(limit=2, **filters))  # type: ignore[arg-type]


def _key(connection: Connection) -> tuple[str, str, str]:
    """The collected inventory's order (``dashboard.inventory.collect``)."""
    return (connection.owner_label.lower(), connection.token.app_id, connection.token.id)


@pytest.fixture(scope="module")
def app_id(live_broker: LiveBroker, shared_provider: LiveProvider) -> str:
    app = f"order-{secrets.token_hex(3)}"
    create_demo_app(live_broker, shared_provider, app)
    return app


def test_pages_come_in_the_order_the_tokens_page_names_owners(
    live_broker: LiveBroker, app_id: str
) -> None:
    owners = [
        _user(live_broker, "zoe@example.test", displayName="Zoë Adams"),
        _user(live_broker, "bob@example.test", email="bob@example.test"),  # no name: the email
        _user(live_broker, "carl-login"),  # no name, no email: the login id
        _user(live_broker, "alice@example.test", displayName="alice"),
        _user(live_broker, "emile@example.test", displayName="Émile"),  # after "z" in code points
        "U-not-a-user-yet",  # a token uploaded for an id no user has: the id itself
    ]
    for n, user_id in enumerate(owners):
        upload_user_token(live_broker, app_id, user_id, accessToken=f"tok-{n}")
    _tenant_token(live_broker, app_id, "Initech")

    rows = _pages(live_broker)

    labels = [c.owner_label for c in rows]
    assert [_key(c) for c in rows] == sorted(_key(c) for c in rows), labels
    assert labels == [
        "alice", "bob@example.test", "carl-login", "Tenant Initech", "U-not-a-user-yet",
        "Zoë Adams", "Émile",
    ]  # fmt: skip


def test_a_renamed_tenant_moves_to_its_new_place(live_broker: LiveBroker, app_id: str) -> None:
    mid = _tenant_token(live_broker, app_id, "Order Mid")
    _tenant_token(live_broker, app_id, "Order Nor")
    before = [c.owner_label for c in _pages(live_broker, tenant_text="order ")]
    _mgmt(live_broker, "/v1/mgmt/tenant/update", {"id": mid, "name": "Order Zed"})
    after = [c.owner_label for c in _pages(live_broker, tenant_text="order ")]

    assert before == ["Tenant Order Mid", "Tenant Order Nor"]
    assert after == ["Tenant Order Nor", "Tenant Order Zed"]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
    with fresh_postgres_database() as url:
        yield url


def test_the_migration_gives_existing_tokens_their_key(database_url: str) -> None:
    """A database from before the key (revision 0007) with a user's and a tenant's token."""
    db = Database(database_url)
    db.migrate("0007_agents_mcp")
    engine = db.engine
    token = {
        "app_id": "app", "tenant_id": "", "external_identifier": "", "kind": "oauth",
        "token_sub": "", "access_token_type": "Bearer", "access_token_expiry": 0,
        "expiry_assumed": False, "scopes": "[]", "requested_scopes": "[]", "granted_by": "",
        "status": "active", "version": 1, "last_refresh_error": "", "failure_count": 0,
        "created_at": 0.0, "updated_at": 0.0,
    }  # fmt: skip
    with engine.begin() as conn:
        # The tables 0008 leaves alone, written through today's models (their Python defaults).
        conn.execute(
            sa.insert(OutboundAppRow),
            [{"id": "app", "name": "App", "created_at": 0.0, "updated_at": 0.0}],
        )
        conn.execute(
            sa.insert(User),
            [{"id": "U1", "email": "Ada@Example.test", "created_time": 0, "modified_time": 0}],
        )
        conn.execute(sa.insert(Tenant), [{"id": "T1", "name": "Globex", "created_time": 0}])
        columns = ", ".join(["id", "user_id", *token])
        values = ", ".join([":id", ":user_id", *(f":{name}" for name in token)])
        insert = sa.text(f"INSERT INTO outbound_tokens ({columns}) VALUES ({values})")
        conn.execute(insert, [{**token, "id": "OT1", "user_id": "U1"}])
        conn.execute(insert, [{**token, "id": "OT2", "user_id": "", "tenant_id": "T1"}])

    db.migrate()

    with engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT id, owner_sort FROM outbound_tokens")).all())
    db.dispose()
    assert keys == {"OT1": "ada@example.test", "OT2": "tenant globex"}


def test_a_deleted_owners_tokens_are_named_and_ordered_by_their_id(
    live_broker: LiveBroker, app_id: str
) -> None:
    """Deleting a user or a tenant leaves its tokens (Descope's API does too); the page then
    names them by id, and orders them so."""
    user_id = _user(live_broker, "del-user@example.test", displayName="AAA Deleted Person")
    upload_user_token(live_broker, app_id, user_id, accessToken="tok-del-user")
    tenant_id = _tenant_token(live_broker, app_id, "AAA Deleted Tenant")
    _mgmt(live_broker, "/v1/mgmt/user/delete", {"userId": user_id})
    _mgmt(live_broker, "/v1/mgmt/tenant/delete", {"id": tenant_id})

    rows = _pages(live_broker)
    labels = [c.owner_label for c in rows]

    assert user_id in labels and f"Tenant {tenant_id}" in labels
    assert "AAA Deleted Person" not in labels
    assert [_key(c) for c in rows] == sorted(_key(c) for c in rows), labels
