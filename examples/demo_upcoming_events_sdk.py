"""List a user's upcoming events from the demo provider, fetching the token with Descope's SDK.

    python examples/demo_upcoming_events_sdk.py dana@acme.test

The official ``descope`` package pointed at the broker with ``base_url=`` (or at Descope's
cloud without it) — the same code serves both.
"""

from __future__ import annotations

import argparse
import sys

import httpx
from descope import AuthException, DescopeClient
from outbound_tokens import DASHBOARD_URL, load_config


def main() -> int:
    """Fetch the token with the SDK, call the provider's API, print the events."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("login_id")
    parser.add_argument("--app", default="acme-calendar")
    parser.add_argument("--api", default="http://127.0.0.1:8788")
    args = parser.parse_args()
    config = load_config()
    client = DescopeClient(
        project_id=config.project_id,
        management_key=config.management_key,
        base_url=config.base_url,
    )
    user_id = client.mgmt.user.load(args.login_id)["user"]["userId"]
    try:
        token = client.mgmt.outbound_application.fetch_token(args.app, user_id)["token"]
    except AuthException as exc:
        if exc.status_code == 404:
            print(
                f"Not connected (or must reconnect): {DASHBOARD_URL}/outbound_apps", file=sys.stderr
            )
            return 2
        raise
    r = httpx.get(
        f"{args.api}/api/events", headers={"Authorization": f"Bearer {token['accessToken']}"}
    )
    r.raise_for_status()
    for event in r.json()["items"]:
        print(f"{event['start']}  {event['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
