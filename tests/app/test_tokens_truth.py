"""The dashboard tells the truth at once (issue 15): one test per bug found by trying it as a
newcomer, each failing before its fix. AppTest against a live broker seeded as in
test_tokens_page.py (its fixtures are reused, not copied)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.inventory.cache import SHARED
from tests.app import test_tokens_page as seeded_page
from tests.app.test_tokens_page import (
    TOKENS_PAGE,
    _everything,
    _open,
    _select,
    _table,
    _token_id,
)
from tests.support.dashboard import ADMIN_ROLE, ENTRYPOINT, LOCAL_ONLY, STRICT_ONLY
from tests.support.identity import sign_in_new_user
from tests.support.outbound import connect, consent, create_demo_app, land
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, SeededTokens, upload_user_token

# The seeded population and its provider, as fixtures of this module too (shared, not copied).
seeded = seeded_page.seeded
fresh_inventories = seeded_page.fresh_inventories
APPS_PAGE = "../pages/outbound_apps.py"
FRESH = "acme-fresh"


def _kinds(at: AppTest) -> list[str]:
    """The element types of the main area, in the order they are drawn."""
    found: list[str] = []

    def walk(node: Any) -> None:
        found.append(type(node).__name__)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    return found


def _consent_and_land(at: AppTest, live: LiveBroker) -> None:
    """The (auto-approving) provider → callback → the landing page's confirmation, as the
    signed-in user (the user verifier keeps the grant only for them)."""
    landed = httpx.get(consent(at.session_state["widgets__pending_connect"].url))
    assert landed.status_code == 302, landed.text
    refresh_jwt = at.session_state["session"].refresh_jwt.reveal()
    assert land(live, landed.headers["location"], refresh_jwt)["outbound"] == "connected"


def _connect_from_the_apps_page(at: AppTest, live: LiveBroker, app_id: str) -> AppTest:
    """Connect button → Get the authorization link → consent → landing."""
    at.switch_page(APPS_PAGE).run()
    at.button(key=f"apps__connect__{app_id}").click().run()
    at.button(key=f"apps__start__{app_id}").click().run()
    _consent_and_land(at, live)
    return at.run()  # the tab's watcher sees the new connection


def test_a_connect_shows_on_managed_tokens_without_a_refresh(
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],
    shared_provider: LiveProvider,
    seeded: SeededTokens,  # seeded first: the seed expects a fresh broker
) -> None:
    shared_provider.reset_faults()
    create_demo_app(live, shared_provider, FRESH)
    at = signed_in_app("fresh@example.test")
    at.switch_page(TOKENS_PAGE).run()
    assert any("You have no connected app yet" in i.value for i in at.info)

    at = _connect_from_the_apps_page(at, live, FRESH)
    # A refreshable token is not announced as "expires in 60 min" on its card.
    assert any(c.value.endswith("renewed automatically") for c in at.caption)
    at.switch_page(TOKENS_PAGE).run()

    assert not at.exception
    assert list(_table(at)["app"]) == [FRESH]

    at.switch_page(APPS_PAGE).run()
    at.button(key=f"apps__disconnect__{FRESH}").click().run()
    at.button(key="apps__disconnect_confirm").click().run()
    at.switch_page(TOKENS_PAGE).run()

    assert any("You have no connected app yet" in i.value for i in at.info)


@STRICT_ONLY  # only the cloud's collected inventory is kept between runs
def test_the_landing_tab_forgets_what_other_tabs_kept(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "landing-admin@example.test")
    assert any(True for _ in SHARED._entries)

    landing = AppTest.from_file(str(ENTRYPOINT), default_timeout=30)
    landing.run()
    for name, value in {"outbound": "connected", "appId": CAL, "scopes": "profile"}.items():
        landing.query_params[name] = value
    landing.switch_page("../pages/connected.py").run()

    assert not at.exception and not landing.exception
    assert not SHARED._entries  # the next look at Managed tokens, in any tab, scans anew


@LOCAL_ONLY  # history and reveal audit are the broker's extensions (/v1/x/)
def test_history_has_an_outcome_and_a_detail_for_every_event(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
) -> None:
    at = _open(signed_in_app, "history-admin@example.test")
    at = _select(at, _token_id(at, "ada", CAL))

    history = at.dataframe[-1].value
    assert list(history.columns) == ["When", "Event", "Outcome", "Detail"]
    assert "Connected" in set(history["Event"])
    assert all(history["Outcome"]) and all(history["Detail"])


def test_scope_warnings_name_only_scopes_that_were_asked_for(
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],
    shared_provider: LiveProvider,
    seeded: SeededTokens,
) -> None:
    shared_provider.reset_faults()
    # Defaults include email; the connect asks for two scopes only (the card's multiselect).
    create_demo_app(
        live,
        shared_provider,
        "acme-asked",
        overrides={"defaultScopes": ["profile", "email", "calendar.read"]},
    )
    at = signed_in_app("asked@example.test", roles=(ADMIN_ROLE,))
    at.switch_page(APPS_PAGE).run()
    at.button(key="apps__connect__acme-asked").click().run()
    at.multiselect(key="apps__scopes__acme-asked").set_value(["profile", "calendar.read"]).run()
    at.button(key="apps__start__acme-asked").click().run()
    _consent_and_land(at, live)
    at.run()
    at.switch_page(TOKENS_PAGE).run()
    at.segmented_control(key="tokens__view").set_value("My connections").run()
    at = _select(at, str(_table(at)["token_id"].iloc[0]))

    assert not any("did not grant" in w.value for w in at.warning)
    scopes = at.dataframe[1].value
    email = scopes[scopes["Scope"] == "email"].iloc[0]
    assert not email["Requested"] and not email["Granted"]


@LOCAL_ONLY  # history and reveal audit are the broker's extensions (/v1/x/)
def test_a_revealed_token_hides_when_the_view_changes_and_the_reveal_is_audited(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "audit-admin@example.test")
    token_id = _token_id(at, "ada", CAL)
    at = _select(at, token_id)
    at.button(key="tokens__reveal").click().run()
    at.button(key="tokens__reveal_yes").click().run()
    revealed = [c.value for c in at.code if "•" not in c.value]
    assert revealed

    at.text_input(key="tokens__f_scope").set_value("calendar").run()  # still ada's token
    assert revealed[0] not in _everything(at)
    at.button(key="tokens__reveal").click().run()
    at.button(key="tokens__reveal_yes").click().run()
    assert revealed[0] in _everything(at)
    at.switch_page(APPS_PAGE).run()
    at.switch_page(TOKENS_PAGE).run()
    assert revealed[0] not in _everything(at)

    answer = httpx.get(
        f"{live.url}/v1/x/events",
        headers=live.mgmt_headers(),
        params={"tokenId": token_id, "kind": "revealed"},
    ).json()["events"]
    assert len(answer) == 2
    assert answer[0]["detail"]["byLoginId"] == "audit-admin@example.test"


def test_an_actions_outcome_is_shown_beside_its_buttons(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    shared_provider: LiveProvider,
) -> None:
    shared_provider.reset_faults()
    at = _open(signed_in_app, "beside-admin@example.test")
    at = _select(at, _token_id(at, "bob", CAL))
    at.button(key="tokens__ask_refresh").click().run()
    at.button(key="tokens__confirm").click().run()

    kinds = _kinds(at)
    assert at.success and kinds.index("Subheader") < kinds.index("Success")


def test_columns_are_names_and_never_empty(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "columns-admin@example.test")
    order = list(at.dataframe[0].proto.column_order)

    assert "app_name" in order and "app" not in order  # names; the id is in the detail and CSV
    assert "tenant" in order  # Globex holds a token
    at.text_input(key="tokens__f_user").set_value("ada").run()
    order = list(at.dataframe[0].proto.column_order)
    assert "tenant" not in order and "last_refresh_error" not in order  # empty for every row
    assert set(_table(at)["app_name"]) == {"Acme acme-cal", "Acme acme-mail"}


def _draw_charts() -> None:
    """An app of its own: the charts of two refreshable tokens and one that ends (no tabs)."""
    from datetime import UTC, datetime, timedelta

    from dashboard.descope.tokens import ManagedToken
    from dashboard.inventory.records import Connection
    from dashboard.inventory.views import Classified
    from dashboard.ui.tokens_views import render_charts

    now = datetime.now(UTC)
    rows = [
        ManagedToken.from_api(
            {
                "id": f"OT{i}",
                "appId": "acme",
                "userId": f"U{i}",
                "accessTokenExpiry": int((now + timedelta(minutes=50)).timestamp()),
                "hasRefreshToken": i < 2,
            }
        )
        for i in range(3)
    ]
    render_charts(Classified.of([Connection(token=t) for t in rows], now), {"acme": "Acme"})


def test_charts_count_in_whole_numbers_and_split_renewed_from_ending() -> None:
    at = AppTest.from_function(_draw_charts, default_timeout=30).run()
    assert not at.exception, at.exception

    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 3
    text = json.dumps(specs)
    assert text.count('"tickMinStep": 1') == 3  # no 0.5 connections
    assert "Renewed automatically" in text and "Ends: no working refresh token" in text
    assert '"type": "temporal"' in text  # real dates, drawn in the browser's time zone


def test_admins_see_how_many_connections_each_app_has(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = signed_in_app("counts-admin@example.test", roles=(ADMIN_ROLE,))

    captions = [c.value for c in at.caption]
    assert "Acme acme-cal" in " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert any(c.endswith("4 connections across all users") for c in captions)  # ada bob cyd Globex
    assert any(c.endswith("3 connections across all users") for c in captions)  # ada bob dee


@LOCAL_ONLY  # history and reveal audit are the broker's extensions (/v1/x/)
def test_the_detail_reads_without_an_inner_scroll_and_knows_the_last_refresh(
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    shared_provider: LiveProvider,
) -> None:
    at = _open(signed_in_app, "detail-admin@example.test")  # kept before the refresh below
    shared_provider.reset_faults()
    httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": CAL, "userId": seeded.user_id("ada"), "options": {"forceRefresh": True}},
    ).raise_for_status()
    at = _select(at, _token_id(at, "ada", CAL))

    [metadata] = at.table  # a static table: every row on the page, no scroll area of its own
    rows = dict(zip(metadata.value.index, metadata.value["Value"], strict=True))
    assert rows["App"] == "Acme acme-cal (acme-cal)"
    assert rows["Last refresh"][:4].isdigit()  # from the history, though the list predates it
    assert "Tenant" not in rows  # empty fields are left out


@STRICT_ONLY  # the cloud's inventory is collected and kept; the broker's is read every run
def test_a_change_made_elsewhere_shows_once_the_data_is_older_than_its_bound(
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at, me = _with_no_connection(signed_in_app, "elsewhere@example.test")
    upload_user_token(live, CAL, me, accessToken="elsewhere-access-token", accessTokenExpiry=0)

    at.run()  # within the bound: the kept list, and its age said on the page
    assert any("You have no connected app yet" in i.value for i in at.info)
    assert any("Updated " in c.value and "every 30 s" in c.value for c in at.caption)
    monkeypatch.setattr(SHARED, "_clock", lambda: time.monotonic() + SHARED.max_age_s + 1)
    at.run()  # what the page's run_every fragment triggers once the data is that old

    assert list(_table(at)["app"]) == [CAL]


@LOCAL_ONLY  # server-side paging (/v1/x/outbound/inventory): nothing is kept between runs
def test_a_change_made_elsewhere_shows_at_the_next_run_of_the_paged_page(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at, me = _with_no_connection(signed_in_app, "elsewhere-paged@example.test")
    upload_user_token(live, CAL, me, accessToken="elsewhere-access-token", accessTokenExpiry=0)

    at.run()  # a widget's rerun, or the age fragment's once the data is 30 s old

    assert list(_table(at)["app"]) == [CAL]
    assert any("Updated " in c.value and "every 30 s" in c.value for c in at.caption)


def _with_no_connection(signed_in_app: Callable[..., AppTest], login: str) -> tuple[AppTest, str]:
    """The tokens page of a new user without connections, and the user's id."""
    at = signed_in_app(login)
    at.switch_page(TOKENS_PAGE).run()
    assert any("You have no connected app yet" in i.value for i in at.info)
    return at, at.session_state["session"].user.user_id


def _detail_token_id(at: AppTest) -> str | None:
    """The token id the open detail shows (its metadata table), or None when none is open."""
    for table in at.table:
        if "Token id" in table.value.index:
            return str(table.value.loc["Token id", "Value"])
    return None


@LOCAL_ONLY  # the deletion is learnt from the token's history (/v1/x/events); the cloud ages out
def test_the_detail_never_opens_a_deleted_token(
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],
    shared_provider: LiveProvider,
    seeded: SeededTokens,
) -> None:
    shared_provider.reset_faults()
    create_demo_app(live, shared_provider, "acme-again")
    dana = sign_in_new_user(live, "dana-again@example.test")
    deleted = connect(live, dana, "acme-again")["tokenId"]
    at = _open(signed_in_app, "deleted-admin@example.test")
    at = _select(at, deleted)
    assert _detail_token_id(at) == deleted

    # Elsewhere (not through this page): the token is deleted and dana connects again.
    httpx.delete(
        f"{live.url}/v1/mgmt/outbound/token", headers=live.mgmt_headers(), params={"id": deleted}
    ).raise_for_status()
    again = connect(live, dana, "acme-again")
    assert again["outbound"] == "connected" and again["tokenId"] != deleted

    at.run()  # the page's next run: no Refresh click, well within the data's age bound
    assert not at.exception, at.exception
    assert _detail_token_id(at) is None  # the detail of the deleted token closed
    assert deleted not in _everything(at)  # nor is it anywhere else, the table included
    table = _table(at)
    assert list(table[table["user_id"] == dana.user_id]["token_id"]) == [again["tokenId"]]
    at = _select(at, again["tokenId"])
    assert _detail_token_id(at) == again["tokenId"]
