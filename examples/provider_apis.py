"""The same pattern against real providers: Google Calendar, HubSpot, Salesforce, GitHub, Slack.

    python examples/provider_apis.py google-calendar dana@acme.test
    python examples/provider_apis.py hubspot dana@acme.test
    python examples/provider_apis.py salesforce dana@acme.test [--instance https://acme.my.salesforce.com]
    python examples/provider_apis.py github dana@acme.test
    python examples/provider_apis.py slack dana@acme.test

Each fetches the user's token through the Management API (outbound_tokens.py), then makes the
provider's documented call (provider_calls.py). Salesforce's API host is the ``instance_url``
Salesforce answered with the token: the broker returns it in the token's ``providerMetadata``
extension when it kept it; Descope's cloud does not send it, so pass ``--instance`` there.
``--app-id`` names the outbound app when its id is not the provider's name; ``--api-base``
points a call at another host, e.g. the demo provider, which answers Google Calendar's events
list: ``provider_apis.py google-calendar dana@acme.test --app-id acme-calendar
--api-base http://127.0.0.1:8788``.

Runnable once the app has real client credentials (create it from the catalog on the
dashboard's Outbound apps page as an admin) and the user has connected it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

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


def salesforce(client: httpx.Client, token: str, metadata: dict[str, str], _: str) -> list[str]:
    """Ten accounts through SOQL, on the org's own API host."""
    instance = metadata.get("instance_url", "")
    if not instance:
        raise calls.ProviderRefused(
            "The token came without Salesforce's instance_url (Descope's cloud does not return"
            " it): pass --instance https://<your-domain>.my.salesforce.com"
        )
    return calls.salesforce_accounts(client, token, instance_url=instance)


CALLS: dict[str, Call] = {
    "google-calendar": lambda c, t, _, base: calls.google_calendar_events(
        c, t, base=base or calls.GOOGLE_API
    ),
    "hubspot": lambda c, t, _, base: calls.hubspot_contacts(c, t, base=base or calls.HUBSPOT_API),
    "salesforce": salesforce,
    "github": lambda c, t, _, base: calls.github_user(c, t, base=base or calls.GITHUB_API),
    "slack": lambda c, t, _, base: calls.slack_auth_test(c, t, base=base or calls.SLACK_API),
}


def main(argv: list[str] | None = None, client: httpx.Client | None = None) -> int:
    """Fetch the user's token for the app and print what its API answers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("provider", choices=sorted(CALLS))
    parser.add_argument("login_id")
    parser.add_argument("--app-id", default="", help="the outbound app's id (default: provider)")
    parser.add_argument("--api-base", default="", help="another API host for the call")
    parser.add_argument("--instance", default="", help="Salesforce instance URL (override)")
    args = parser.parse_args(argv)
    config = load_config()
    app_id = args.app_id or args.provider
    try:
        token = fetch_token(config, app_id, user_id_for(config, args.login_id))
    except (NotConnected, NeedsReauthorization) as exc:
        print(exc, file=sys.stderr)
        return 2
    metadata = {str(k): str(v) for k, v in (token.get("providerMetadata") or {}).items()}
    if args.instance:
        metadata["instance_url"] = args.instance
    with client or httpx.Client(timeout=30) as http:
        try:
            lines = CALLS[args.provider](http, str(token["accessToken"]), metadata, args.api_base)
        except calls.ProviderRefused as exc:
            print(exc, file=sys.stderr)
            return 3
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
