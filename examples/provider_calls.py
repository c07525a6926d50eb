"""One documented API call per provider, made with a managed access token.

Each function sends the request exactly as the provider's reference page documents it (cited
above each) and answers a few printable lines. ``client`` is any ``httpx.Client`` (tests pass
one on an ``httpx.MockTransport``); ``base`` is the API host, the real one by default (the
Google Calendar call also runs against the demo provider, which serves the same shape).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

GOOGLE_API = "https://www.googleapis.com"
HUBSPOT_API = "https://api.hubapi.com"
GITHUB_API = "https://api.github.com"
SLACK_API = "https://slack.com/api"
SALESFORCE_API_VERSION = "v61.0"
QUICKBOOKS_API = "https://quickbooks.api.intuit.com"


class ProviderRefused(Exception):
    """The provider answered with an error (Slack: HTTP 200 with ``ok: false``)."""


class TokenEnded(ProviderRefused):
    """401: the provider ended the token before its expiry (e.g. Salesforce's session timeout)."""


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _json(response: httpx.Response) -> Any:
    if response.status_code == 401:
        raise TokenEnded(f"{response.request.url.host} no longer accepts the access token")
    if response.is_error:
        raise ProviderRefused(f"{response.request.url.host} answered HTTP {response.status_code}")
    return response.json()


def google_calendar_events(
    client: httpx.Client, token: str, *, base: str = GOOGLE_API, now: datetime | None = None
) -> list[str]:
    """The next ten events of the primary calendar, soonest first.

    https://developers.google.com/calendar/api/v3/reference/events/list — ``timeMin`` is an
    RFC 3339 timestamp with a mandatory offset; ``orderBy=startTime`` needs ``singleEvents``.
    """
    time_min = (now or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    data = _json(
        client.get(
            f"{base}/calendar/v3/calendars/primary/events",
            params={
                "timeMin": time_min,
                "maxResults": 10,
                "singleEvents": "true",
                "orderBy": "startTime",
            },
            headers=_bearer(token, Accept="application/json"),
        )
    )
    return [
        f"{e['start'].get('dateTime', e['start'].get('date'))}  {e.get('summary', '')}"
        for e in data.get("items", [])
    ]


def hubspot_contacts(client: httpx.Client, token: str, *, base: str = HUBSPOT_API) -> list[str]:
    """Ten CRM contacts with their email and name.

    https://developers.hubspot.com/docs/api/crm/contacts (GET /crm/v3/objects/contacts, the
    ``properties`` to return as a comma-separated list).
    """
    data = _json(
        client.get(
            f"{base}/crm/v3/objects/contacts",
            params={"limit": 10, "properties": "email,firstname,lastname"},
            headers=_bearer(token, Accept="application/json"),
        )
    )
    lines = []
    for contact in data.get("results", []):
        props = contact.get("properties") or {}
        name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
        lines.append(f"{props.get('email') or ''}  {name}".rstrip())
    return lines


def salesforce_accounts(client: httpx.Client, token: str, *, instance_url: str) -> list[str]:
    """Ten account names through SOQL, on the org's own API host (``instance_url``).

    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
    (GET /services/data/vXX.X/query?q=<SOQL>); the host is the ``instance_url`` Salesforce
    answered with the token (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm).
    """
    data = _json(
        client.get(
            f"{instance_url.rstrip('/')}/services/data/{SALESFORCE_API_VERSION}/query",
            params={"q": "SELECT Name FROM Account LIMIT 10"},
            headers=_bearer(token, Accept="application/json"),
        )
    )
    return [str(rec["Name"]) for rec in data.get("records", [])]


def quickbooks_company(
    client: httpx.Client, token: str, *, realm_id: str, base: str = QUICKBOOKS_API
) -> list[str]:
    """The connected company's name, from the company (``realmId``) the user picked.

    https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo
    (GET /v3/company/{realmId}/companyinfo/{realmId}, JSON with ``Accept: application/json``).
    """
    data = _json(
        client.get(
            f"{base}/v3/company/{realm_id}/companyinfo/{realm_id}",
            headers=_bearer(token, Accept="application/json"),
        )
    )
    return [str(data["CompanyInfo"]["CompanyName"])]


def github_user(client: httpx.Client, token: str, *, base: str = GITHUB_API) -> list[str]:
    """The authenticated user's login and name.

    https://docs.github.com/en/rest/users/users#get-the-authenticated-user (GET /user, with the
    recommended ``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version``).
    """
    data = _json(
        client.get(
            f"{base}/user",
            headers=_bearer(
                token,
                Accept="application/vnd.github+json",
                **{"X-GitHub-Api-Version": "2022-11-28"},
            ),
        )
    )
    return [f"{data['login']}  {data.get('name') or ''}".rstrip()]


def slack_auth_test(client: httpx.Client, token: str, *, base: str = SLACK_API) -> list[str]:
    """Who the token is: workspace and user.

    https://api.slack.com/methods/auth.test (POST, the token as a bearer); Slack answers errors
    as HTTP 200 with ``ok: false`` and an ``error`` code (https://api.slack.com/web#evaluating_responses).
    """
    data = _json(client.post(f"{base}/auth.test", headers=_bearer(token)))
    if not data.get("ok"):
        raise ProviderRefused(f"Slack refused the token: {data.get('error', 'unknown_error')}")
    return [f"{data['team']}  {data['user']}  {data['url']}"]
