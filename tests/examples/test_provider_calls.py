"""The provider example tools send each provider's documented request, and one runs end to end.

The Google Calendar call runs for real against the demo provider (which answers Google's
``events.list`` shape), with the token fetched from the broker in strict mode through the cloud
settings (``DESCOPE_PROJECT_ID`` / ``DESCOPE_BASE_URI``). The others are run against an
``httpx.MockTransport`` answering the provider's documented response; each test asserts the
exact request (method, URL with query, headers) against the page cited above it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker
from tests.support.token_seed import upload_user_token

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import provider_apis  # noqa: E402
import provider_calls as calls  # noqa: E402

TOKEN = "ya29.test-access-token"
NOW = datetime(2026, 11, 29, 21, 30, 5, tzinfo=UTC)


class Provider:
    """A MockTransport that records requests and answers one documented JSON body."""

    def __init__(self, body: dict[str, Any], status: int = 200) -> None:
        self.body, self.status = body, status
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(transport=httpx.MockTransport(self.answer))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)

    @property
    def sent(self) -> httpx.Request:
        [request] = self.requests
        return request


def _headers(request: httpx.Request, *names: str) -> dict[str, str]:
    return {n: request.headers.get(n, "") for n in names}


def test_google_calendar_events_list() -> None:
    # https://developers.google.com/calendar/api/v3/reference/events/list
    google = Provider(
        {
            "kind": "calendar#events",
            "items": [
                {"summary": "Standup", "start": {"dateTime": "2026-11-30T09:00:00-08:00"}},
                {"summary": "Offsite", "start": {"date": "2026-12-02"}},
            ],
        }
    )
    lines = calls.google_calendar_events(google.client, TOKEN, now=NOW)

    sent = google.sent
    assert sent.method == "GET"
    assert str(sent.url).split("?")[0] == (
        "https://www.googleapis.com/calendar/v3/calendars/primary/events"
    )
    assert dict(sent.url.params) == {
        "timeMin": "2026-11-29T21:30:05Z",  # RFC 3339 with its offset, never "now"
        "maxResults": "10",
        "singleEvents": "true",
        "orderBy": "startTime",
    }
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert lines == ["2026-11-30T09:00:00-08:00  Standup", "2026-12-02  Offsite"]


def test_hubspot_contacts() -> None:
    # https://developers.hubspot.com/docs/api/crm/contacts
    hubspot = Provider(
        {
            "results": [
                {
                    "id": "51",
                    "properties": {
                        "email": "bh@hubspot.com",
                        "firstname": "Brian",
                        "lastname": "Halligan",
                        "hs_object_id": "51",
                    },
                    "archived": False,
                }
            ],
            "paging": {"next": {"after": "52"}},
        }
    )
    lines = calls.hubspot_contacts(hubspot.client, TOKEN)

    sent = hubspot.sent
    assert (sent.method, sent.url.host, sent.url.path) == (
        "GET",
        "api.hubapi.com",
        "/crm/v3/objects/contacts",
    )
    assert dict(sent.url.params) == {"limit": "10", "properties": "email,firstname,lastname"}
    assert _headers(sent, "authorization", "accept") == {
        "authorization": f"Bearer {TOKEN}",
        "accept": "application/json",
    }
    assert lines == ["bh@hubspot.com  Brian Halligan"]


SOQL_ANSWER = {
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
    "totalSize": 2,
    "done": True,
    "records": [
        {"attributes": {"type": "Account", "url": "/services/data/v61.0/sobjects/Account/001"}, "Name": "Edge Communications"},
        {"attributes": {"type": "Account", "url": "/services/data/v61.0/sobjects/Account/002"}, "Name": "Burlington Textiles Corp of America"},
    ],
}  # fmt: skip


def test_salesforce_soql_on_the_instance_url() -> None:
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
    salesforce = Provider(SOQL_ANSWER)
    lines = calls.salesforce_accounts(
        salesforce.client, TOKEN, instance_url="https://acme.my.salesforce.com/"
    )

    sent = salesforce.sent
    assert sent.method == "GET"
    assert str(sent.url) == (
        "https://acme.my.salesforce.com/services/data/v61.0/query"
        "?q=SELECT+Name+FROM+Account+LIMIT+10"
    )
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert lines == ["Edge Communications", "Burlington Textiles Corp of America"]


def test_github_authenticated_user() -> None:
    # https://docs.github.com/en/rest/users/users#get-the-authenticated-user
    github = Provider({"login": "octocat", "id": 1, "name": "monalisa octocat"})
    lines = calls.github_user(github.client, TOKEN)

    sent = github.sent
    assert (sent.method, str(sent.url)) == ("GET", "https://api.github.com/user")
    assert _headers(sent, "authorization", "accept", "x-github-api-version") == {
        "authorization": f"Bearer {TOKEN}",
        "accept": "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
    }
    assert lines == ["octocat  monalisa octocat"]


def test_slack_auth_test_and_its_ok_false_errors() -> None:
    # https://api.slack.com/methods/auth.test
    slack = Provider(
        {
            "ok": True,
            "url": "https://subarachnoid.slack.com/",
            "team": "Subarachnoid Workspace",
            "user": "grace",
            "team_id": "T12345678",
            "user_id": "W12345678",
        }
    )
    lines = calls.slack_auth_test(slack.client, TOKEN)

    sent = slack.sent
    assert (sent.method, str(sent.url)) == ("POST", "https://slack.com/api/auth.test")
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert lines == ["Subarachnoid Workspace  grace  https://subarachnoid.slack.com/"]

    # Slack answers errors as HTTP 200 with ok:false (https://api.slack.com/web#evaluating_responses)
    refused = Provider({"ok": False, "error": "invalid_auth"})
    with pytest.raises(calls.ProviderRefused, match="invalid_auth"):
        calls.slack_auth_test(refused.client, TOKEN)


# --- the tool as a whole: token through the Management API, then the provider ----------------


@pytest.fixture(scope="module")
def cloud(
    tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider
) -> Iterator[tuple[LiveBroker, LiveProvider]]:
    """The broker in strict mode (Descope's cloud stand-in) with the Acme Calendar app."""
    live = start_broker(tmp_path_factory.mktemp("examples-cloud"), strict_descope=True)
    create_demo_app(live, shared_provider, "acme-calendar")
    yield live, shared_provider
    live.stop()


def _cloud_env(live: LiveBroker) -> dict[str, str]:
    return {
        "DESCOPE_PROJECT_ID": live.project_id,
        "DESCOPE_MANAGEMENT_KEY": live.management_key,
        "DESCOPE_BASE_URI": live.url,
    }


def _connected(live: LiveBroker) -> SignedInUser:
    """A new user who connected Acme Calendar through the real flow."""
    user = sign_in_new_user(live)
    connect(live, user, "acme-calendar")
    return user


def test_google_calendar_tool_runs_end_to_end_against_the_demo_provider(
    cloud: tuple[LiveBroker, LiveProvider],
) -> None:
    live, provider = cloud
    user = _connected(live)
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "provider_apis.py"),
            "google-calendar",
            user.login_id,
            "--app-id",
            "acme-calendar",
            "--api-base",
            provider.url,
        ],
        env={**os.environ, **_cloud_env(live)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines
    starts = [datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")) for line in lines]
    assert starts == sorted(starts) and len(lines) <= 10


def test_the_demo_provider_refuses_a_time_min_google_would_refuse(
    cloud: tuple[LiveBroker, LiveProvider],
) -> None:
    live, provider = cloud
    user = _connected(live)
    token = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/user/token/latest",
        headers=live.mgmt_headers(),
        json={"appId": "acme-calendar", "userId": user.user_id},
    ).json()["token"]["accessToken"]
    answer = httpx.get(
        f"{provider.url}/calendar/v3/calendars/primary/events",
        params={"timeMin": "now"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (
        answer.status_code == 400 and answer.json()["error"]["errors"][0]["reason"] == "badRequest"
    )


def test_salesforce_tool_reads_the_instance_url_or_says_to_pass_it(
    cloud: tuple[LiveBroker, LiveProvider],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live, _ = cloud
    created = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create",
        headers=live.mgmt_headers(),
        json={"id": "salesforce", "name": "Salesforce", "clientId": "sf",
              "authorizationUrl": "https://login.salesforce.com/services/oauth2/authorize",
              "tokenUrl": "https://login.salesforce.com/services/oauth2/token"},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    user = sign_in_new_user(live)
    upload_user_token(
        live,
        "salesforce",
        user.user_id,
        accessToken=TOKEN,
        accessTokenExpiry=int(time.time()) + 900,
    )
    for name, value in _cloud_env(live).items():
        monkeypatch.setenv(name, value)

    salesforce = Provider(SOQL_ANSWER)
    # The cloud returns no instance_url: the tool says what to pass and calls nothing.
    assert provider_apis.main(["salesforce", user.login_id], salesforce.client) == 3
    assert "--instance" in capsys.readouterr().err and not salesforce.requests

    salesforce = Provider(SOQL_ANSWER)
    argv = ["salesforce", user.login_id, "--instance", "https://acme.my.salesforce.com"]
    assert provider_apis.main(argv, salesforce.client) == 0
    assert salesforce.sent.url.host == "acme.my.salesforce.com"
    assert salesforce.sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert capsys.readouterr().out.splitlines()[0] == "Edge Communications"


def test_a_token_the_cloud_refuses_asks_for_a_reconnect(
    cloud: tuple[LiveBroker, LiveProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Strict mode answers a dead grant with Descope's generic 404, not the broker's E111505."""
    live, _ = cloud
    user = sign_in_new_user(live)
    upload_user_token(
        live,
        "acme-calendar",
        user.user_id,
        accessToken=TOKEN,
        accessTokenExpiry=int(time.time()) - 60,
    )
    for name, value in _cloud_env(live).items():
        monkeypatch.setenv(name, value)
    from outbound_tokens import NeedsReauthorization, NotConnected, fetch_token, load_config

    config = load_config()
    assert config.base_url == live.url
    with pytest.raises(NeedsReauthorization):
        fetch_token(config, "acme-calendar", user.user_id)
    with pytest.raises(NotConnected):
        fetch_token(config, "acme-calendar", "U-nobody")
    assert config.headers == {"Authorization": f"Bearer {live.project_id}:{live.management_key}"}
