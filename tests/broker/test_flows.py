"""The two outbound Flows and the widget's hosted files, over real HTTP (broker ↔ demo provider).

The browser test with Descope's published widget is tests/e2e/test_descope_widget.py; these
pin the wire and the refusals one call at a time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import consent
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker

PAGE = "http://127.0.0.1:9/my-app/connections?tab=apps"


def flow(live: LiveBroker, user: SignedInUser, step: str, body: dict[str, Any]) -> httpx.Response:
    """POST /v1/flow/<step> as the user's session (descope-wc sends the refresh JWT)."""
    return httpx.post(
        f"{live.url}/v1/flow/{step}", headers=live.user_headers(user.refresh_jwt), json=body
    )


def start(live: LiveBroker, user: SignedInUser, flow_id: str, **options: Any) -> httpx.Response:
    """``flow.start`` as descope-wc sends it (with a few of its extra options)."""
    body = {"flowId": flow_id, "options": {"deviceInfo": {}, "startOptionsVersion": 1, **options}}
    return flow(live, user, "start", body)


def connected_apps(live: LiveBroker, user: SignedInUser) -> list[str]:
    """apps-with-user-token as the widget calls it."""
    answer = httpx.get(
        f"{live.url}/v1/mgmt/outbound/apps-with-user-token",
        params={"userId": user.user_id},
        headers=live.user_headers(user.refresh_jwt),
    )
    ids: list[str] = answer.json()["appIds"]
    return ids


def connect_through_the_provider(
    live: LiveBroker, user: SignedInUser, app_id: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Start the connect flow, consent, follow the callback; answers the start and the landing."""
    started = start(live, user, "outbound-apps-connect", outboundAppId=app_id, location=PAGE)
    assert started.status_code == 200, started.text
    answer = started.json()
    landed = httpx.get(consent(answer["redirect"]["url"]))
    assert landed.status_code == 302, landed.text
    return answer, dict(parse_qsl(urlsplit(landed.headers["location"]).query))


def resume(
    live: LiveBroker, user: SignedInUser, execution_id: str, landing: dict[str, str]
) -> httpx.Response:
    """``flow.next`` as descope-wc sends it back on the page, with the landing's ``code``."""
    body = {"executionId": execution_id, "stepId": "2", "input": {"exchangeCode": landing["code"]}}
    return flow(live, user, "next", body)


def connect_fully(live: LiveBroker, user: SignedInUser, app_id: str) -> None:
    """Start, consent and resume: the user holds a token for the app."""
    answer, landing = connect_through_the_provider(live, user, app_id)
    assert resume(live, user, answer["executionId"], landing).json()["output"]["connected"]


def test_connect_flow_redirects_to_the_provider_and_resumes_completed(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    answer, landing = connect_through_the_provider(live_broker, user, app_id)
    assert answer["action"] == "redirect" and answer["status"] == "waiting"
    assert answer["executionId"].startswith("outbound-apps-connect|#|")
    # back on the caller's page, its own query kept, with what descope-wc resumes from
    assert landing["tab"] == "apps" and landing["widget-flow"] == "outbound-apps-connect"
    # descope-wc reads it as `const [executionId, stepId] = value.split("_")`
    execution_id, step_id = landing["descope-login-flow"].split("_")[:2]
    assert execution_id == answer["executionId"] and step_id == "2"
    # the user verifier (connect binding): the grant waits for the resume, the browser's proof
    assert landing["outbound"] == "confirm"
    assert connected_apps(live_broker, user) == []
    resumed = flow(
        live_broker,
        user,
        "next",
        {
            "executionId": execution_id,
            "stepId": step_id,
            "input": {"exchangeCode": landing["code"]},
        },
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["action"] == "redirect"
    assert resumed.json()["redirect"] == {"url": PAGE}  # the page as given, nothing added
    assert resumed.json()["output"] == {"outboundAppId": app_id, "connected": True}
    assert connected_apps(live_broker, user) == [app_id]


def test_connect_flow_execution_ids_survive_descope_wcs_split(
    live_broker: LiveBroker, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    for _ in range(20):  # a random part with "_" would be cut short by descope-wc
        started = start(
            live_broker, user, "outbound-apps-connect", outboundAppId=app_id, location=PAGE
        )
        assert "_" not in started.json()["executionId"]


def test_connect_flow_code_is_bound_to_its_execution_and_its_user(
    live_broker: LiveBroker, app_id: str
) -> None:
    user, stranger = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    answer, landing = connect_through_the_provider(live_broker, user, app_id)
    other, _ = connect_through_the_provider(live_broker, user, app_id)
    code = {"exchangeCode": landing["code"]}
    moved = flow(live_broker, user, "next", {"executionId": other["executionId"], "input": code})
    assert moved.status_code == 400 and moved.json()["errorCode"] == "E011004"
    foreign = flow(
        live_broker, stranger, "next", {"executionId": answer["executionId"], "input": code}
    )
    assert foreign.status_code == 400 and "another user" in foreign.json()["errorMessage"]
    # COAT: the browser sent back was someone else's, so the grant was refused and revoked
    late = resume(live_broker, user, answer["executionId"], landing)
    assert late.json()["output"]["connected"] is False
    assert connected_apps(live_broker, user) == [] and connected_apps(live_broker, stranger) == []


def test_connect_flow_that_stored_no_token_completes_not_connected(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str
) -> None:
    user = sign_in_new_user(live_broker)
    provider.set_faults(token_status=503)  # the code exchange fails
    try:
        answer, landing = connect_through_the_provider(live_broker, user, app_id)
    finally:
        provider.reset_faults()
    assert landing["outbound"] == "error"
    resumed = flow(
        live_broker,
        user,
        "next",
        {"executionId": answer["executionId"], "input": {"exchangeCode": landing["code"]}},
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["output"] == {"outboundAppId": app_id, "connected": False}
    assert connected_apps(live_broker, user) == []


def test_connect_flow_is_checked_like_every_connect(live_broker: LiveBroker, app_id: str) -> None:
    user = sign_in_new_user(live_broker)
    evil = start(
        live_broker,
        user,
        "outbound-apps-connect",
        outboundAppId=app_id,
        location="https://evil.example/",
    )
    assert evil.status_code == 400 and evil.json()["errorCode"] == "E011004"
    for broken in ("http://[", "http://127.0.0.1:port/"):
        refused = start(
            live_broker, user, "outbound-apps-connect", outboundAppId=app_id, location=broken
        )
        assert refused.status_code == 400 and "redirectUrl" in refused.json()["errorMessage"]
    no_session = httpx.post(
        f"{live_broker.url}/v1/flow/start",
        headers=live_broker.project_headers(),
        json={
            "flowId": "outbound-apps-connect",
            "options": {"outboundAppId": app_id, "location": PAGE},
        },
    )
    assert no_session.status_code == 401
    unknown_app = start(
        live_broker, user, "outbound-apps-connect", outboundAppId="nope", location=PAGE
    )
    assert unknown_app.status_code == 404
    no_app = start(live_broker, user, "outbound-apps-connect", location=PAGE)
    assert no_app.status_code == 400 and no_app.json()["errorCode"] == "E011002"


def test_disconnect_flow_revokes_and_deletes_only_the_users_tokens(
    live_broker: LiveBroker, provider: LiveProvider, app_id: str
) -> None:
    user, other = sign_in_new_user(live_broker), sign_in_new_user(live_broker)
    connect_fully(live_broker, user, app_id)
    connect_fully(live_broker, other, app_id)
    done = start(live_broker, user, "outbound-apps-disconnect", outboundAppId=app_id)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert connected_apps(live_broker, user) == []
    assert connected_apps(live_broker, other) == [app_id]
    events = httpx.get(
        f"{live_broker.url}/v1/x/events",
        params={"appId": app_id, "userId": user.user_id},
        headers=live_broker.mgmt_headers(),
    ).json()["events"]
    assert {"connected", "revoked", "disconnected"} <= {e["kind"] for e in events}


def test_unknown_flow_and_execution_answer_descopes_error_shape(live_broker: LiveBroker) -> None:
    user = sign_in_new_user(live_broker)
    unknown = start(live_broker, user, "sign-up-or-in")
    assert unknown.status_code == 404
    assert set(unknown.json()) >= {"errorCode", "errorDescription", "errorMessage"}
    assert "sign-up-or-in" in unknown.json()["errorMessage"]
    stray = flow(live_broker, user, "next", {"executionId": "sign-up-or-in|#|x", "stepId": "2"})
    assert stray.status_code == 404


def test_hosted_widget_files_for_the_local_project_only(live_broker: LiveBroker) -> None:
    base = f"{live_broker.url}/pages/{live_broker.project_id}/v2-beta"
    config = httpx.get(f"{base}/config.json").json()
    assert config["componentsVersion"] and set(config["flows"]) == {
        "outbound-apps-connect",
        "outbound-apps-disconnect",
    }
    theme = httpx.get(f"{base}/theme.json").json()
    for mode in ("light", "dark"):
        assert theme[mode]["globals"] and "descope-outbound-apps" in theme[mode]["components"]
    root = httpx.get(f"{base}/outbound-applications-widget/any-widget/root.html")
    assert 'connect-flow-id="outbound-apps-connect"' in root.text
    assert 'disconnect-flow-id="outbound-apps-disconnect"' in root.text
    other = httpx.get(f"{live_broker.url}/pages/P-someone-else/v2-beta/config.json")
    assert other.status_code == 404 and other.json()["errorCode"] == "E011006"
    user = sign_in_new_user(live_broker)
    state = httpx.get(
        f"{live_broker.url}/v1/mgmt/widget/components-state",
        headers=live_broker.user_headers(user.refresh_jwt),
    )
    assert state.json() == {"componentsState": {}}
