"""The connect landing page: it shows what the broker says about the flow, never the URL's claim."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from broker.demo_provider.consent_form import approve
from broker.store.outbound import ManagedTokenRow
from dashboard.app_listing import ConnectOutcome
from dashboard.descope.connect_flows import FlowAnswer
from tests.app.conftest import sign_in
from tests.support.dashboard import ENTRYPOINT, LOCAL_ONLY, create_user
from tests.support.outbound import outcome_of, provider_with_consent_page
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

LANDING = "http://127.0.0.1:9/landing"


@pytest.fixture(scope="module")
def acme(live: LiveBroker) -> Iterator[tuple[LiveProvider, str]]:
    """A demo provider (consent page) and one app on the broker."""
    app_id = f"acme-{secrets.token_hex(3)}"
    with provider_with_consent_page(live, app_id) as provider:
        yield provider, app_id


def land(app: AppTest, **query: str) -> AppTest:
    app.run()
    for name, value in query.items():
        app.query_params[name] = value
    return app.switch_page("../pages/connected.py").run()


def _landing_query(
    live: LiveBroker, acme: tuple[LiveProvider, str], at: AppTest, scopes: list[str]
) -> dict[str, str]:
    """The signed-in tab's user connects (consent approved, scopes narrowed by the provider)."""
    provider, app_id = acme
    session = at.session_state["session"]
    started = httpx.post(
        f"{live.url}/v1/outbound/oauth/connect",
        headers=live.user_headers(session.refresh_jwt.reveal()),
        json={"appId": app_id, "options": {"redirectUrl": LANDING, "scopes": scopes}},
    )
    location = approve(
        provider.http, started.json()["url"], email="alex@acme.test", scopes=scopes[:1]
    )
    return outcome_of(httpx.get(location).headers["location"])


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_a_confirmed_flow_shows_granted_scopes_against_requested_ones(
    live: LiveBroker, acme: tuple[LiveProvider, str], signed_in_app: Callable[..., AppTest]
) -> None:
    at = signed_in_app(f"landing-{secrets.token_hex(3)}@example.com")
    query = _landing_query(live, acme, at, ["profile", "calendar.write"])
    at = land(at, **query)
    assert not at.exception
    assert [t.value for t in at.title] == ["Connected"]
    assert [s.value for s in at.success] == [f"Acme {acme[1]} is connected.".replace("-", "\\-")]
    assert "calendar\\.write was not granted" in at.warning[0].value
    frame = at.dataframe[0].value
    assert list(frame["Scope"]) == ["profile", "calendar.write"]
    assert list(frame["Granted"]) == ["granted", "not granted"]
    assert "flow" not in at.query_params  # read once, then cleared from the URL


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_a_replayed_landing_url_does_not_claim_success(
    live: LiveBroker, acme: tuple[LiveProvider, str], signed_in_app: Callable[..., AppTest]
) -> None:
    first = signed_in_app(f"replay-{secrets.token_hex(3)}@example.com")
    query = _landing_query(live, acme, first, ["profile"])
    assert land(first, **query).success  # the first landing confirms it
    again = land(first, **query)  # the same URL opened once more, in the same browser
    assert not again.exception
    assert [t.value for t in again.title] == ["Not connected"]
    assert again.success == [] and len(again.error) == 1
    assert "already reported" in again.error[0].value


def test_a_query_claiming_success_without_a_flow_claims_nothing(app: AppTest) -> None:
    at = land(app, outbound="connected", appId="acme-cal", tokenId="OT1", scopes="profile")
    assert not at.exception
    assert [t.value for t in at.title] == ["Connection"]
    assert at.success == []
    assert [i.value for i in at.info] == [
        "Sign in to see whether your account holds this connection now."
    ]


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_a_made_up_flow_id_is_unknown_to_the_broker(app: AppTest) -> None:
    at = land(app, outbound="connected", appId="acme-cal", flow=secrets.token_urlsafe(32))
    assert not at.exception
    assert at.success == [] and "does not know this connection" in at.error[0].value


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_an_approval_finished_where_nobody_is_signed_in_is_refused_in_one_sentence(
    live: LiveBroker, acme: tuple[LiveProvider, str], signed_in_app: Callable[..., AppTest]
) -> None:
    initiator = signed_in_app(f"initiator-{secrets.token_hex(3)}@example.com")
    query = _landing_query(live, acme, initiator, ["profile"])
    at = land(AppTest.from_file(str(ENTRYPOINT), default_timeout=30), **query)
    assert not at.exception
    assert [t.value for t in at.title] == ["Not connected"]
    assert "Nobody is signed in to the dashboard in this browser" in at.error[0].value


def test_an_unknown_error_code_still_reads_as_one_sentence() -> None:
    outcome = ConnectOutcome.from_flow(FlowAnswer(outcome="error", app_id="x", error="weird"))
    assert outcome.sentence == "The provider did not complete the connection (weird)."


def test_a_provider_error_keeps_its_description_as_text() -> None:
    outcome = ConnectOutcome.from_flow(
        FlowAnswer(outcome="error", error="access_denied", error_description="<b>no</b>")
    )
    assert outcome.sentence.startswith("Access was not granted")
    assert outcome.error_description == "<b>no</b>"


def _reconnect_link_for(live: LiveBroker, acme: tuple[LiveProvider, str], at: AppTest) -> str:
    """The signed-in tab's user connects, the grant dies, an admin makes a reconnect link."""
    query = _landing_query(live, acme, at, ["profile"])
    land(at, **query)
    user_id = at.session_state["session"].user.user_id
    with live.broker.db.session() as s:
        s.execute(
            update(ManagedTokenRow)
            .where(ManagedTokenRow.user_id == user_id)
            .values(status="needs_reauth")
        )
        token_id = s.scalar(select(ManagedTokenRow.id).where(ManagedTokenRow.user_id == user_id))
    made = httpx.post(
        f"{live.url}/v1/x/mgmt/outbound/reconnect/link",
        headers=live.mgmt_headers(),
        json={"tokenId": token_id},
    )
    link: str = made.json()["link"]
    return link


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_a_reconnect_link_is_started_by_its_user_with_a_click(
    live: LiveBroker, acme: tuple[LiveProvider, str], signed_in_app: Callable[..., AppTest]
) -> None:
    at = signed_in_app(f"reconnect-{secrets.token_hex(3)}@example.com")
    link = _reconnect_link_for(live, acme, at)
    at = land(at, reconnect=link)
    assert not at.exception
    assert [t.value for t in at.title] == ["Reconnect"]
    assert at.get("link_button") == []  # nothing is spent before the click
    at.button(key="reconnect__start").click().run()
    [consent] = at.get("link_button")
    assert consent.proto.url.startswith(acme[0].url + "/oauth/authorize?")
    assert "reconnect" not in at.query_params  # the secret is cleared from the address bar


@LOCAL_ONLY  # the broker's connect binding (/v1/x/): Descope's cloud has none
def test_a_reconnect_link_opened_by_someone_else_only_explains(
    live: LiveBroker, acme: tuple[LiveProvider, str], signed_in_app: Callable[..., AppTest]
) -> None:
    owner = signed_in_app(f"owner-{secrets.token_hex(3)}@example.com")
    link = _reconnect_link_for(live, acme, owner)
    stranger = AppTest.from_file(str(ENTRYPOINT), default_timeout=30)
    create_user(live, "stranger-landing@example.com")
    at = land(sign_in(stranger.run(), "stranger-landing@example.com"), reconnect=link)
    at.button(key="reconnect__start").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "This reconnect link was made for another account, so nothing was done: sign in as that"
        " account to use it."
    ]
    assert at.get("link_button") == []
