"""The same pattern against real providers: Google Calendar, HubSpot, Salesforce, QuickBooks.

    python examples/provider_apis.py google-calendar dana@acme.test
    python examples/provider_apis.py hubspot dana@acme.test
    python examples/provider_apis.py salesforce dana@acme.test
    python examples/provider_apis.py quickbooks dana@acme.test

Salesforce's API host (``instance_url``) and QuickBooks' company (``realmId``) come from the
token's ``providerMetadata``, which the broker keeps from the connect; against a service that
does not send it (Descope's cloud), pass ``--instance`` / ``--realm``.

Runnable once the app has real client credentials (create it from the catalog on the
dashboard's Outbound apps page as an admin) and the user has connected it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx
from outbound_tokens import (
    NeedsReauthorization,
    NotConnected,
    fetch_token,
    load_config,
    user_id_for,
)

QUICKBOOKS_API = "https://quickbooks.api.intuit.com"


def google_calendar(token: str, _: dict[str, str]) -> list[str]:
    """The next ten events of the primary calendar."""
    r = httpx.get(
        "https://www.googleapis.com/calendar/v3/calendars/primary/events",
        params={"maxResults": 10, "singleEvents": "true", "orderBy": "startTime", "timeMin": "now"},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    items: list[dict[str, Any]] = r.json().get("items", [])
    return [
        f"{e['start'].get('dateTime', e['start'].get('date'))}  {e.get('summary', '')}"
        for e in items
    ]


def hubspot(token: str, _: dict[str, str]) -> list[str]:
    """Ten CRM contacts."""
    r = httpx.get(
        "https://api.hubapi.com/crm/v3/objects/contacts",
        params={"limit": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return [f"{c['properties'].get('email')}" for c in r.json().get("results", [])]


def salesforce(token: str, metadata: dict[str, str]) -> list[str]:
    """Ten accounts, through SOQL on the org's own API host (``instance_url``)."""
    r = httpx.get(
        f"{metadata['instance_url']}/services/data/v61.0/query",
        params={"q": "SELECT Name FROM Account LIMIT 10"},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return [rec["Name"] for rec in r.json().get("records", [])]


def quickbooks(token: str, metadata: dict[str, str]) -> list[str]:
    """The connected company's name, from the company (``realmId``) the user picked."""
    realm = metadata["realmId"]
    r = httpx.get(
        f"{QUICKBOOKS_API}/v3/company/{realm}/companyinfo/{realm}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    r.raise_for_status()
    return [str(r.json()["CompanyInfo"]["CompanyName"])]


CALLS = {
    "google-calendar": google_calendar,
    "hubspot": hubspot,
    "salesforce": salesforce,
    "quickbooks": quickbooks,
}


def main() -> int:
    """Fetch the user's token for the app and print what its API answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=sorted(CALLS))
    parser.add_argument("login_id")
    parser.add_argument("--instance", default="", help="Salesforce instance URL (override)")
    parser.add_argument("--realm", default="", help="QuickBooks company id (override)")
    args = parser.parse_args()
    config = load_config()
    user_id = user_id_for(config, args.login_id)
    try:
        token = fetch_token(config, args.app, user_id)
        try:
            lines = CALLS[args.app](str(token["accessToken"]), _metadata(token, args))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 401:
                raise
            # The provider ended the token early (Salesforce: the org's own session timeout,
            # INVALID_SESSION_ID): ask the broker for a new one, once, and try again.
            token = fetch_token(config, args.app, user_id, force_refresh=True)
            lines = CALLS[args.app](str(token["accessToken"]), _metadata(token, args))
    except (NotConnected, NeedsReauthorization) as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


def _metadata(token: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    """The token's provider metadata, with the command line's overrides on top."""
    metadata = {str(k): str(v) for k, v in (token.get("providerMetadata") or {}).items()}
    overrides = (("instance_url", args.instance), ("realmId", args.realm))
    return metadata | {k: v for k, v in overrides if v}


if __name__ == "__main__":
    sys.exit(main())
