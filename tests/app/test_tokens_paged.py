"""The tokens page against the embedded broker: filtered, paged and counted on the server.

AppTest against the live broker seeded as in test_tokens_page.py (its fixtures are reused, not
copied), plus a dozen ``pager-`` users of this module. Descope's cloud has no server-side paging
(the page collects the inventory there, test_tokens_page.py runs both), hence ``LOCAL_ONLY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]  # no stubs installed
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.descope.client import DescopeClient
from dashboard.inventory.bulk import PATH as INVENTORY
from tests.app import test_tokens_page as seeded_page
from tests.app.test_tokens_page import TOKENS_PAGE, _metrics, _open, _select, _table
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY, create_user
from tests.support.servers import LiveBroker
from tests.support.token_seed import CAL, SeededTokens, upload_user_token

seeded = seeded_page.seeded
fresh_inventories = seeded_page.fresh_inventories
PAGERS = 12
pytestmark = LOCAL_ONLY

Call = tuple[str, dict[str, Any]]


@pytest.fixture(scope="module")
def pagers(live: LiveBroker, seeded: SeededTokens) -> list[str]:
    """``PAGERS`` users (``pager-00``…) with one active, refreshable calendar token each."""
    ids = [create_user(live, f"pager-{n:02d}@example.test") for n in range(PAGERS)]
    for n, user_id in enumerate(ids):
        upload_user_token(
            live, CAL, user_id, accessToken=f"pager-access-{n}", refreshToken=f"pager-refresh-{n}"
        )
    return ids


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Call]]:
    """Every call the dashboard makes (path and query), in order."""
    made: list[Call] = []
    original = DescopeClient.call

    def recording(
        self: DescopeClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | Sequence[str]] | None = None,
        **rest: Any,
    ) -> Any:
        made.append((path, dict(params or {})))
        return original(self, method, path, params=params, **rest)

    monkeypatch.setattr(DescopeClient, "call", recording)
    yield made


def test_only_pages_travel_never_the_whole_inventory(
    signed_in_app: Callable[..., AppTest], pagers: list[str], calls: list[Call]
) -> None:
    at = signed_in_app("calls-admin@example.test", roles=(ADMIN_ROLE,))
    calls.clear()  # from here on, the tokens page's own calls
    at.switch_page(TOKENS_PAGE).run()
    at.text_input(key="tokens__f_user").set_value("pager-0").run()

    assert set(_table(at)["owner"]) == {f"pager-{n:02d}" for n in range(10)}
    pages = [params for path, params in calls if path == INVENTORY]
    assert pages and all(int(p["limit"]) <= 100 and p.get("page", "0") == "0" for p in pages)
    # The filter went to the broker: the table's rows were never shipped unfiltered.
    assert any(p.get("userText") == "pager-0" for p in pages)
    assert all(p.get("userText") == "pager-0" or p["limit"] == "1" for p in pages[-2:])
    # No fan-out over Descope's public API: no user search, no token per user and app.
    assert not [path for path, _ in calls if "/user/search" in path or path.endswith("/token")]


def test_pages_split_the_rows_and_a_new_filter_starts_at_the_first(
    signed_in_app: Callable[..., AppTest], pagers: list[str]
) -> None:
    at = _open(signed_in_app, "paging-admin@example.test")
    at.text_input(key="tokens__f_user").set_value("pager-").run()
    at.selectbox(key="tokens__page_size").set_value(10).run()

    first = set(_table(at)["owner"])
    assert len(first) == 10
    assert any(c.value == "Page 1 of 2" for c in at.caption)
    assert any(f"{PAGERS} of " in c.value and "connections shown" in c.value for c in at.caption)
    assert _metrics(at)["Connections"] == str(PAGERS)  # the KPIs count all pages
    at.session_state["tokens__page"] = 2
    at.run()

    second = set(_table(at)["owner"])
    assert len(second) == PAGERS - 10 and not first & second
    assert any(c.value == "Page 2 of 2" for c in at.caption)
    at.text_input(key="tokens__f_user").set_value("pager-1").run()
    assert any(c.value == "Page 1 of 1" for c in at.caption)
    assert set(_table(at)["owner"]) == {"pager-10", "pager-11"}


def test_a_row_of_a_later_page_opens_its_detail(
    live: LiveBroker, signed_in_app: Callable[..., AppTest], pagers: list[str]
) -> None:
    at = _open(signed_in_app, "later-admin@example.test")
    at.text_input(key="tokens__f_user").set_value("pager-").run()
    at.selectbox(key="tokens__page_size").set_value(10).run()
    at.session_state["tokens__page"] = 2
    at.run()
    token_id = str(_table(at)["token_id"].iloc[-1])

    at = _select(at, token_id)

    details = [t.value for t in at.table if "Token id" in t.value.index]
    assert details and str(details[0].loc["Token id", "Value"]) == token_id


@pytest.mark.parametrize(
    ("status", "owners"),
    [("no_refresh_token", {"Tenant Globex"}), ("expiring_soon", {"dee"})],
)
def test_the_dashboards_own_statuses_filter_in_the_broker(
    signed_in_app: Callable[..., AppTest],
    seeded: SeededTokens,
    calls: list[Call],
    status: str,
    owners: set[str],
) -> None:
    at = _open(signed_in_app, f"status-{status}@example.test")
    at.multiselect(key="tokens__f_status").set_value([status]).run()

    assert set(_table(at)["owner"]) == owners
    assert _metrics(at)["Connections"] == str(len(owners))
    assert [status] in [p.get("detail") for path, p in calls if path == INVENTORY]


def test_the_charts_break_down_every_page_not_only_the_one_on_screen(
    signed_in_app: Callable[..., AppTest], pagers: list[str]
) -> None:
    """Connections per app and the status breakdown come from the broker's counts over all
    the filters keep (12 pagers over two pages of 10); only the expiry timeline is per page."""
    at = _open(signed_in_app, "charts-admin@example.test")
    at.text_input(key="tokens__f_user").set_value("pager-").run()
    at.selectbox(key="tokens__page_size").set_value(10).run()
    at.session_state["tokens__tab"] = "Charts"
    at.run()

    notes = [c.value for c in at.caption]
    assert any(f"count all {PAGERS} connections" in note for note in notes), notes
    bars = _chart_rows(at)
    assert bars["Connections per app"] == {CAL: PAGERS}
    assert bars["Status breakdown"] == {"Active": PAGERS}


def _chart_rows(at: AppTest) -> dict[str, dict[str, int]]:
    """The two breakdown charts' data, read from the charts Streamlit sends (Arrow tables)."""
    found: dict[str, dict[str, int]] = {}
    for element in at.get("vega_lite_chart"):
        for dataset in element.proto.datasets:
            frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
            if {"id", "connections"} <= set(frame.columns):
                found["Connections per app"] = dict(
                    zip(frame["id"], frame["connections"], strict=True)
                )
            elif {"status", "connections"} <= set(frame.columns):
                found["Status breakdown"] = dict(
                    zip(frame["status"], frame["connections"], strict=True)
                )
    return found
