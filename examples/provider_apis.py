"""The same pattern against real providers: Google Calendar, HubSpot, Salesforce, QuickBooks,
GitHub, Slack.

    python examples/provider_apis.py google-calendar dana@acme.test
    python examples/provider_apis.py hubspot dana@acme.test
    python examples/provider_apis.py salesforce dana@acme.test
    python examples/provider_apis.py quickbooks dana@acme.test
    python examples/provider_apis.py github dana@acme.test
    python examples/provider_apis.py slack dana@acme.test

Each fetches the user's token through the Management API (outbound_tokens.py), then makes the
provider's documented call (provider_calls.py). Salesforce's API host (``instance_url``) and
QuickBooks' company (``realmId``) come from the token's ``providerMetadata``, which the broker
keeps from the connect; against a service that does not send it (Descope's cloud), pass
``--instance`` / ``--realm``. A 401 (the provider ended the token early, e.g. Salesforce's org
session timeout) asks for a fresh token once and retries. ``--app-id`` names the outbound app
when its id is not the provider's name; ``--api-base`` points a call at another host, e.g. the
demo provider, which answers Google Calendar's events list: ``provider_apis.py google-calendar
dana@acme.test --app-id acme-calendar --api-base http://127.0.0.1:8788``.

Runnable once the app has real client credentials (create it from the catalog on the
dashboard's Outbound apps page as an admin) and the user has connected it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import httpx
import provider_calls as calls
from outbound_tokens import (
    NeedsReauthorization,
    NotConnected,
    fetch_token,
    load_config,
    user_id_for,
)

# (client, access token, provider metadata, API base or "") → lines to print
Call = Callable[[httpx.Client, str, dict[str, str], str], list[str]]


def _needs(metadata: dict[str, str], key: str, flag: str) -> str:
    if not metadata.get(key):
        raise calls.ProviderRefused(
            f"The token came without the provider's {key} (Descope's cloud does not return it):"
            f" pass {flag}"
        )
    return metadata[key]


def salesforce(client: httpx.Client, token: str, metadata: dict[str, str], _: str) -> list[str]:
    """Ten accounts through SOQL, on the org's own API host."""
    instance = _needs(metadata, "instance_url", "--instance https://<domain>.my.salesforce.com")
    return calls.salesforce_accounts(client, token, instance_url=instance)


def quickbooks(client: httpx.Client, token: str, metadata: dict[str, str], base: str) -> list[str]:
    """The company the user connected."""
    realm = _needs(metadata, "realmId", "--realm <company id>")
    return calls.quickbooks_company(
        client, token, realm_id=realm, base=base or calls.QUICKBOOKS_API
    )


CALLS: dict[str, Call] = {
    "google-calendar": lambda c, t, _, base: calls.google_calendar_events(
        c, t, base=base or calls.GOOGLE_API
    ),
    "hubspot": lambda c, t, _, base: calls.hubspot_contacts(c, t, base=base or calls.HUBSPOT_API),
    "salesforce": salesforce,
    "quickbooks": quickbooks,
    "github": lambda c, t, _, base: calls.github_user(c, t, base=base or calls.GITHUB_API),
    "slack": lambda c, t, _, base: calls.slack_auth_test(c, t, base=base or calls.SLACK_API),
}


def _metadata(token: dict[str, Any], args: argparse.Namespace) -> dict[str, str]:
    """The token's provider metadata, with the command line's overrides on top."""
    metadata = {str(k): str(v) for k, v in (token.get("providerMetadata") or {}).items()}
    overrides = (("instance_url", args.instance), ("realmId", args.realm))
    return metadata | {k: v for k, v in overrides if v}


def main(argv: list[str] | None = None, client: httpx.Client | None = None) -> int:
    """Fetch the user's token for the app and print what its API answers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("provider", choices=sorted(CALLS))
    parser.add_argument("login_id")
    parser.add_argument("--app-id", default="", help="the outbound app's id (default: provider)")
    parser.add_argument("--api-base", default="", help="another API host for the call")
    parser.add_argument("--instance", default="", help="Salesforce instance URL (override)")
    parser.add_argument("--realm", default="", help="QuickBooks company id (override)")
    args = parser.parse_args(argv)
    config = load_config()
    app_id = args.app_id or args.provider
    call = CALLS[args.provider]
    user_id = user_id_for(config, args.login_id)
    with client or httpx.Client(timeout=30) as http:
        try:
            token = fetch_token(config, app_id, user_id)
            try:
                lines = call(http, str(token["accessToken"]), _metadata(token, args), args.api_base)
            except calls.TokenEnded:
                # The provider ended the token early (Salesforce: the org's own session
                # timeout, INVALID_SESSION_ID): ask for a new one, once, and try again.
                token = fetch_token(config, app_id, user_id, force_refresh=True)
                lines = call(http, str(token["accessToken"]), _metadata(token, args), args.api_base)
        except (NotConnected, NeedsReauthorization) as exc:
            print(exc, file=sys.stderr)
            return 2
        except calls.ProviderRefused as exc:
            print(exc, file=sys.stderr)
            return 3
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
