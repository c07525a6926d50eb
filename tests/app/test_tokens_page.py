"""The managed-tokens page in AppTest against a live broker seeded with a known population.

The population is tests/support/token_seed.py (ada, bob, cyd, dee, eve and the Globex tenant).
Tests that delete use tokens of their own so the rest of the module still sees the seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.inventory.cache import SHARED
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, is_strict, point_dashboard_at
from tests.support.identity import sign_in_new_user
from tests.support.page_text import page_nodes
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, MAIL, SeededTokens, seed_tokens, upload_user_token

TOKENS_PAGE = "../pages/tokens.py"
OWN_ACCESS = "own-access-token-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def seeded(live: LiveBroker, shared_provider: LiveProvider) -> SeededTokens:
    return seed_tokens(live, shared_provider)


@pytest.fixture(autouse=True)
def fresh_inventories(shared_provider: LiveProvider) -> Iterator[None]:
    """Every test scans anew; the provider keeps failing refreshes unless a test says otherwise."""
    SHARED.clear()
    yield
    SHARED.clear()
    shared_provider.set_faults(token_status=503)


def _open(signed_in_app: Callable[..., AppTest], login_id: str, admin: bool = True) -> AppTest:
    at = signed_in_app(login_id, roles=(ADMIN_ROLE,) if admin else ())
    at.switch_page(TOKENS_PAGE).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest) -> Any:
    return at.dataframe[0].value


def _everything(at: AppTest) -> str:
    """Every rendered element's protobuf text, plus each table's cells."""
    parts: list[str] = []
    for node in page_nodes(at):
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
            value = getattr(node, "value", None)
            if isinstance(value, str):
                parts.append(value)  # unescaped (the protobuf text escapes quotes)
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts).replace("\\", "")  # markdown escapes are not part of what is seen


def _token_id(at: AppTest, owner: str, app_id: str) -> str:
    table = _table(at)
    row = table[(table["owner"] == owner) & (table["app"] == app_id)]
    return str(row["token_id"].iloc[0])


def _select(at: AppTest, token_id: str) -> AppTest:
    at.session_state["tokens__selected"] = token_id
    return at.run()


def _secret_of(live: LiveBroker, app_id: str, user_id: str) -> str:
    response = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": app_id, "userId": user_id},
    )
    response.raise_for_status()
    token: str = response.json()["token"]["accessToken"]
    return token


def _outcome(at: AppTest) -> str:
    found = [e.value for e in (*at.success, *at.warning, *at.error)]
    return " | ".join(str(v) for v in found)


def test_admin_sees_every_connection_at_a_glance(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "kpi-admin@example.test")

    assert _metrics(at) == {
        "Connections": "7",
        "Healthy": "43%",  # ada ×2 and bob's calendar
        "Failing refreshes": "1",  # cyd
        # Only dee's: the three 1-hour tokens are renewed by their refresh tokens (no alarm).
        "Ending within 24 h": "1",
    }
    table = _table(at)
    assert len(table) == 7
    assert set(table["status"]) == {
        "Active",
        "Expired",
        "Refresh failed",
        "Expiring soon",
        "No refresh token",
    }
    assert "Tenant Globex" in set(table["owner"])
    captions = " ".join(c.value for c in at.caption)
    assert "7 connections of" in captions and "Updated " in captions
    for jargon in ("bulk inventory", "fan-out", "call", "UTC"):
        assert jargon not in captions  # words for the people who built it, not who use it


@pytest.mark.parametrize(
    ("widget", "value", "expected"),
    [
        ("tokens__f_app", [MAIL], {("ada", MAIL), ("bob", MAIL), ("dee", MAIL)}),
        ("tokens__f_status", ["expired"], {("bob", MAIL)}),
        (
            "tokens__f_status",
            ["expiring_soon", "no_refresh_token"],
            {("dee", MAIL), ("Tenant Globex", CAL)},
        ),
        ("tokens__f_user", "dee@", {("dee", MAIL)}),
        ("tokens__f_tenant", "globex", {("Tenant Globex", CAL)}),
        (
            "tokens__f_scope",
            "calendar.r",
            {("ada", CAL), ("ada", MAIL), ("bob", CAL), ("dee", MAIL)},
        ),
    ],
)
def test_filters_narrow_the_table_and_the_numbers(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    widget: str,
    value: Any,
    expected: set[tuple[str, str]],
) -> None:
    at = _open(signed_in_app, f"filter-admin-{widget}-{len(expected)}@example.test")
    if isinstance(value, list):
        at.multiselect(key=widget).set_value(value).run()
    else:
        at.text_input(key=widget).set_value(value).run()

    table = _table(at)
    assert set(zip(table["owner"], table["app"], strict=True)) == expected
    # The numbers describe what the filters keep, and say how much that is of the whole.
    assert _metrics(at)["Connections"] == str(len(expected))
    assert any(f"{len(expected)} of 7 connections shown" in c.value for c in at.caption)
    at.button(key="tokens__clear_filters").click().run()
    assert len(_table(at)) == 7 and _metrics(at)["Connections"] == "7"


def test_the_expiring_soon_window_is_configurable(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "window-admin@example.test")
    assert "Expiring soon" in set(_table(at)["status"])  # dee: no refresh token, 2 h left

    at.number_input(key="tokens__w_soon").set_value(1).run()

    statuses = dict(zip(_table(at)["owner"], _table(at)["status"], strict=False))
    assert statuses["dee"] == "No refresh token"


def test_a_filter_that_matches_nothing_says_what_to_do(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "nothing-admin@example.test")
    at.text_input(key="tokens__f_scope").set_value("no-such-scope").run()

    assert any("No connection matches these filters" in i.value for i in at.info)


def test_no_token_appears_until_revealed_and_then_it_does(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "reveal-admin@example.test")
    secret = _secret_of(live, CAL, seeded.user_id("ada"))
    at = _select(at, _token_id(at, "ada", CAL))

    assert at.subheader[0].value == "ada · Acme acme\\-cal"  # drawn as typed (escaped)
    assert secret not in _everything(at)
    assert "••••" in _everything(at)

    at.button(key="tokens__reveal").click().run()
    assert secret not in _everything(at)  # it asks first
    assert "recorded in the token's history" in _everything(at)
    at.button(key="tokens__reveal_yes").click().run()

    assert secret in [c.value for c in at.code]
    assert any("without verifying the signature" in w.value for w in at.warning)
    assert any(j.value and "sub" in str(j.value) for j in at.json)


def test_choosing_a_token_in_the_list_opens_its_detail(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "list-admin@example.test")
    at.text_input(key="tokens__f_user").set_value("cyd").run()
    chooser = at.selectbox(key="tokens__open")

    assert len(chooser.options) == 1
    chooser.set_value(_token_id(at, "cyd", CAL)).run()
    assert at.subheader[0].value == "cyd · Acme acme\\-cal"
    assert "Refresh failed" in _everything(at)


def test_the_list_of_tokens_is_capped_and_says_how_to_narrow_it(
    monkeypatch: pytest.MonkeyPatch,
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
) -> None:
    monkeypatch.setattr("dashboard.ui.tokens_views.OPEN_LIST_MAX", 3)
    at = _open(signed_in_app, "cap-admin@example.test")

    assert len(at.selectbox(key="tokens__open").options) == 3
    assert len(_table(at)) == 7  # the table itself keeps every row
    assert any("first 3 of 7; filter to narrow" in c.value for c in at.caption)


def test_an_uploaded_token_is_compared_with_the_defaults_without_alarm(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "scopes-admin@example.test")
    at = _select(at, _token_id(at, "dee", MAIL))  # uploaded: nobody knows what was asked

    # The defaults were never asked of the provider for it: a fact in the table, not an alarm.
    assert not any("did not grant" in w.value for w in at.warning)
    scopes = at.dataframe[1].value
    assert not scopes[scopes["Scope"] == "email"].iloc[0]["Granted"]


def test_force_refresh_reports_the_new_expiry(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    shared_provider: LiveProvider,
) -> None:
    shared_provider.reset_faults()
    at = _open(signed_in_app, "refresh-admin@example.test")
    at = _select(at, _token_id(at, "bob", CAL))
    at.button(key="tokens__ask_refresh").click().run()

    assert "Refresh bob's acme-cal token" in _everything(at)
    at.button(key="tokens__confirm").click().run()

    assert not at.exception
    assert at.success[0].value.startswith("Refreshed: the access token now expires ")
    assert "(before: " in at.success[0].value


def test_force_refresh_errors_are_one_sentence(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "refresh-fail-admin@example.test")
    at = _select(at, _token_id(at, "ada", MAIL))  # the provider answers 503 to every refresh
    at.button(key="tokens__ask_refresh").click().run()
    at.button(key="tokens__confirm").click().run()

    [warning] = at.warning
    assert warning.value.replace("\\", "").startswith(
        "The provider did not refresh it (temporarily_unavailable"
    )
    assert "the current access token stays valid until" in warning.value


def test_cancel_drops_the_pending_action(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "cancel-admin@example.test")
    at = _select(at, _token_id(at, "ada", CAL))
    at.button(key="tokens__ask_delete").click().run()
    at.button(key="tokens__cancel").click().run()

    assert "tokens__confirm" not in [b.key for b in at.button]
    assert len(_table(at)) == 7


@LOCAL_ONLY
def test_trying_the_token_shows_the_status_and_a_body_preview(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "try-admin@example.test")
    at = _select(at, _token_id(at, "ada", CAL))
    at.button(key="tokens__ask_try").click().run()
    at.button(key="tokens__confirm").click().run()

    assert at.success[0].value.endswith("/api/me answered HTTP 200."), [c.value for c in at.code]
    assert any("alex@acme.test" in c.value for c in at.code)  # the demo provider's /api/me


@LOCAL_ONLY
def test_trying_a_token_the_provider_ended_early_refreshes_once_and_retries(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    shared_provider: LiveProvider,
) -> None:
    shared_provider.reset_faults()
    shared_provider.set_faults(api_unauthorized={"value": True, "remaining": 1})
    at = _open(signed_in_app, "try-ended-admin@example.test")
    at = _select(at, _token_id(at, "ada", CAL))
    at.button(key="tokens__ask_try").click().run()
    at.button(key="tokens__confirm").click().run()

    assert [s.value for s in at.success] == [
        f"GET {shared_provider.url}/api/me answered HTTP 200 after a refresh"
        " (the first answer said the token was no longer valid)."
    ]


@LOCAL_ONLY
def test_trying_an_expired_token_reports_the_failure(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "try-fail-admin@example.test")
    at = _select(at, _token_id(at, "cyd", CAL))
    at.button(key="tokens__ask_try").click().run()
    at.button(key="tokens__confirm").click().run()

    assert [e.value for e in at.error] == [
        "The provider could not refresh this token just now; try again in a moment."
    ]


def test_trying_needs_the_catalogs_test_endpoint_which_the_cloud_has_not(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "try-cloud-admin@example.test")
    at = _select(at, _token_id(at, "ada", CAL))
    button = at.button(key="tokens__ask_try")
    assert button.disabled is is_strict(live)
    if is_strict(live):
        assert button.proto.help == "The catalog names no test endpoint for this app."


@pytest.mark.parametrize(
    ("scopes", "answer"),
    [("calendar.read profile", "Yes: token "), ("calendar.write", "No: no token of ada")],
)
def test_fetch_by_scopes_answers_yes_or_no(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens, scopes: str, answer: str
) -> None:
    at = _open(signed_in_app, f"scopes-check-{len(scopes)}@example.test")
    at = _select(at, _token_id(at, "ada", CAL))
    at.text_input(key="tokens__check_scopes").set_value(scopes)
    at.button(key="tokens__check").click().run()

    assert _outcome(at).startswith(answer)


def test_delete_and_disconnect_remove_the_rows(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    doomed = seeded.user_id("eve")
    now = int(time.time())
    for app_id in (CAL, MAIL):
        upload_user_token(
            live, app_id, doomed, accessToken=OWN_ACCESS, accessTokenExpiry=now + 90_000
        )
    at = _open(signed_in_app, "delete-admin@example.test")
    assert len(_table(at)) == 9

    at = _select(at, _token_id(at, "eve", CAL))
    at.button(key="tokens__ask_delete").click().run()
    at.button(key="tokens__confirm").click().run()
    assert at.success, _outcome(at)
    reported = "Deleted; the service does not report" if is_strict(live) else "Deleted 1 token"
    assert at.success[0].value.startswith(reported)
    assert len(_table(at)) == 8 and not at.subheader

    at = _select(at, _token_id(at, "eve", MAIL))
    at.button(key="tokens__ask_disconnect").click().run()
    assert "Disconnect eve from acme-mail" in _everything(at)
    at.button(key="tokens__confirm").click().run()
    assert at.success[0].value.replace("\\", "").startswith("Disconnected eve from acme-mail.")
    assert "eve" not in set(_table(at)["owner"])


def test_a_token_the_service_refuses_to_hand_out_can_still_be_deleted(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    """Against the cloud a dead token is known only from its refused fetch (no id): deleting it
    deletes by owner and app; against the broker the bulk inventory names its id."""
    fay = sign_in_new_user(live, "fay@example.test")
    upload_user_token(live, MAIL, fay.user_id, accessToken=OWN_ACCESS, accessTokenExpiry=1)
    at = _open(signed_in_app, "refused-admin@example.test")
    at = _select(at, _token_id(at, "fay", MAIL))
    at.button(key="tokens__ask_delete").click().run()
    at.button(key="tokens__confirm").click().run()

    assert at.success, _outcome(at)
    assert "fay" not in set(_table(at)["owner"])
    left = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": MAIL, "userId": fay.user_id},
    )
    assert (left.status_code, left.json()["errorCode"]) == (404, "E111504")


def test_deleting_a_token_that_is_gone_says_so(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    upload_user_token(live, CAL, seeded.user_id("eve"), accessToken=OWN_ACCESS, accessTokenExpiry=0)
    at = _open(signed_in_app, "gone-admin@example.test")
    token_id = _token_id(at, "eve", CAL)
    at = _select(at, token_id)
    at.button(key="tokens__ask_delete").click().run()
    # Deleted elsewhere while the question is on screen (a detail opened after that closes:
    # test_tokens_truth.py::test_the_detail_never_opens_a_deleted_token).
    httpx.delete(
        f"{live.url}/v1/mgmt/outbound/token", headers=live.mgmt_headers(), params={"id": token_id}
    ).raise_for_status()
    at.button(key="tokens__confirm").click().run()

    assert [e.value for e in at.error] == ["That token no longer exists; refresh the list."]


def test_the_export_has_metadata_and_no_secret(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "export-admin@example.test")
    [export] = at.get("download_button")
    table = _table(at)

    assert "no access or refresh token" in export.proto.help
    assert not {"access_token", "refresh_token"} & set(table.columns)
    assert _secret_of(live, CAL, seeded.user_id("ada")) not in _everything(at)


def test_a_person_who_is_not_admin_sees_only_their_own(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = signed_in_app("own@example.test")
    me = at.session_state["session"].user.user_id
    upload_user_token(live, MAIL, me, accessToken=OWN_ACCESS, accessTokenExpiry=0)
    at.switch_page(TOKENS_PAGE).run()

    assert not at.segmented_control
    table = _table(at)
    assert list(table["user_id"]) == [me]
    assert _metrics(at)["Connections"] == "1"


def test_someone_without_tokens_is_told_how_to_get_one(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "nobody@example.test", admin=False)

    assert any("You have no connected app yet" in i.value for i in at.info)


def test_an_admin_can_switch_to_their_own_connections(
    signed_in_app: Callable[..., AppTest], seeded: SeededTokens
) -> None:
    at = _open(signed_in_app, "switch-admin@example.test")
    at.segmented_control(key="tokens__view").set_value("My connections").run()

    assert any("You have no connected app yet" in i.value for i in at.info)


def test_without_a_management_key_the_page_says_what_to_configure(
    live: LiveBroker,
    app: AppTest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
) -> None:
    at = signed_in_app("keyless@example.test")
    keyless = tmp_path / "keyless"
    keyless.mkdir()
    # Another spelling of the same broker: the process keeps one transport per target URL.
    same_broker = live.url.replace("127.0.0.1", "localhost")
    (keyless / "local.env").write_text(
        f"OUTBOUND_PROJECT_ID={live.project_id}\nOUTBOUND_BROKER_URL={same_broker}\n"
    )
    point_dashboard_at(
        monkeypatch,
        live,
        tmp_path,
        OUTBOUND_DATA_DIR=str(keyless),
        **(
            {"DESCOPE_MANAGEMENT_KEY": "", "DESCOPE_BASE_URI": same_broker}
            if is_strict(live)
            else {}
        ),
    )
    at.switch_page(TOKENS_PAGE).run()

    assert not at.exception
    assert "DESCOPE_MANAGEMENT_KEY" in at.info[0].value
    assert "outbound up" in at.info[0].value
    assert not at.dataframe
