"""The same pattern against real providers: Google Calendar, HubSpot, Salesforce.

    python examples/provider_apis.py google-calendar dana@acme.test
    python examples/provider_apis.py hubspot dana@acme.test
    python examples/provider_apis.py salesforce dana@acme.test --instance https://acme.my.salesforce.com

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
    fetch_access_token,
    load_config,
    user_id_for,
)


def google_calendar(token: str, _: str) -> list[str]:
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


def hubspot(token: str, _: str) -> list[str]:
    """Ten CRM contacts."""
    r = httpx.get(
        "https://api.hubapi.com/crm/v3/objects/contacts",
        params={"limit": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return [f"{c['properties'].get('email')}" for c in r.json().get("results", [])]


def salesforce(token: str, instance: str) -> list[str]:
    """Ten accounts, through SOQL on the org's instance URL."""
    r = httpx.get(
        f"{instance}/services/data/v61.0/query",
        params={"q": "SELECT Name FROM Account LIMIT 10"},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    return [rec["Name"] for rec in r.json().get("records", [])]


CALLS = {"google-calendar": google_calendar, "hubspot": hubspot, "salesforce": salesforce}


def main() -> int:
    """Fetch the user's token for the app and print what its API answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=sorted(CALLS))
    parser.add_argument("login_id")
    parser.add_argument("--instance", default="", help="Salesforce instance URL")
    args = parser.parse_args()
    config = load_config()
    try:
        token = fetch_access_token(config, args.app, user_id_for(config, args.login_id))
    except (NotConnected, NeedsReauthorization) as exc:
        print(exc, file=sys.stderr)
        return 2
    for line in CALLS[args.app](token, args.instance):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
