"""List a user's upcoming events from the demo provider ("Acme Calendar") with a managed token.

    python examples/demo_upcoming_events.py dana@acme.test [--api http://127.0.0.1:8788]

Plain httpx; see demo_upcoming_events_sdk.py for the same with Descope's official SDK.
"""

from __future__ import annotations

import argparse
import sys

import httpx
from outbound_tokens import (
    NeedsReauthorization,
    NotConnected,
    fetch_access_token,
    load_config,
    user_id_for,
)


def main() -> int:
    """Fetch the token, call the provider's API, print the events."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("login_id")
    parser.add_argument("--app", default="acme-calendar")
    parser.add_argument("--api", default="http://127.0.0.1:8788")
    args = parser.parse_args()
    config = load_config()
    try:
        token = fetch_access_token(config, args.app, user_id_for(config, args.login_id))
    except (NotConnected, NeedsReauthorization) as exc:
        print(exc, file=sys.stderr)
        return 2
    r = httpx.get(f"{args.api}/api/events", headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
    for event in r.json()["items"]:
        print(f"{event['start']}  {event['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
