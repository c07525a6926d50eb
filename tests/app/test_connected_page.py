"""The connect landing page: a new session, no sign-in needed, the outcome in the query."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.app_listing import ConnectOutcome


def land(app: AppTest, **query: str) -> AppTest:
    app.run()
    for name, value in query.items():
        app.query_params[name] = value
    return app.switch_page("../pages/connected.py").run()


def test_a_success_shows_granted_scopes_against_requested_ones(app: AppTest) -> None:
    at = land(
        app,
        outbound="connected",
        appId="acme-cal",
        tokenId="OT123",
        scopes="profile email",
        requestedScopes="profile email calendar.write",
        hasRefreshToken="true",
    )
    assert not at.exception
    assert [t.value for t in at.title] == ["Connected"]
    assert [s.value for s in at.success] == ["acme\\-cal is connected."]
    assert "calendar\\.write was not granted" in at.warning[0].value
    frame = at.dataframe[0].value
    assert list(frame["Scope"]) == ["profile", "email", "calendar.write"]
    assert list(frame["Granted"]) == ["granted", "granted", "not granted"]
    assert at.get("page_link")[0].proto.label == "Sign in to the dashboard"
    assert "outbound" not in at.query_params  # read once, then cleared from the URL


def test_a_provider_error_is_one_sentence(app: AppTest) -> None:
    at = land(
        app,
        outbound="error",
        appId="acme-cal",
        error="access_denied",
        errorDescription="The user said <b>no</b>",
    )
    assert not at.exception
    assert [t.value for t in at.title] == ["Not connected"]
    assert [e.value for e in at.error] == [
        "acme\\-cal: Access was not granted at the provider, so nothing was connected."
    ]
    assert [t.value for t in at.text] == ["The user said <b>no</b>"]  # as text, never HTML


def test_an_unknown_error_code_still_reads_as_one_sentence() -> None:
    outcome = ConnectOutcome.from_query({"outbound": "error", "appId": "x", "error": "weird"})
    assert outcome is not None
    assert outcome.sentence == "The provider did not complete the connection (weird)."


def test_a_query_without_an_outcome_is_no_outcome() -> None:
    assert ConnectOutcome.from_query({"code": "abc", "state": "s"}) is None
