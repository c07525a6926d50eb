"""The token detail shows the provider's connection metadata, read from the real broker's answer."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from dashboard.inventory.cache import SHARED
from tests.support.dashboard import ADMIN_ROLE, LOCAL_ONLY
from tests.support.identity import sign_in_new_user
from tests.support.outbound import connect
from tests.support.servers import LiveBroker
from tests.support.standins import REALM_ID, create_standin_app, running_standins

TOKENS_PAGE = "../pages/tokens.py"


@LOCAL_ONLY  # providerMetadata is the broker's extension field: Descope's cloud has none
def test_the_token_detail_shows_the_quickbooks_company_kept_from_the_callback(
    live: LiveBroker, signed_in_app: Callable[..., AppTest]
) -> None:
    with running_standins() as standins:
        create_standin_app(live, standins, "quickbooks", "quickbooks")
        assert connect(live, sign_in_new_user(live), "quickbooks")["outbound"] == "connected"
    SHARED.clear()
    at = signed_in_app("metadata-admin@example.test", roles=(ADMIN_ROLE,))
    at.switch_page(TOKENS_PAGE).run()
    table = at.dataframe[0].value
    token_id = str(table[table["app"] == "quickbooks"]["token_id"].iloc[0])
    at.session_state["tokens__selected"] = token_id
    at.run()
    assert not at.exception, at.exception
    [metadata] = at.table  # the detail's fields, as a static table
    rows = dict(zip(metadata.value.index, metadata.value["Value"], strict=True))
    assert rows["Provider · realmId"] == REALM_ID
    SHARED.clear()
