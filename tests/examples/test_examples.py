"""The example tools in examples/ run for real against a live broker and the demo provider."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.identity import SignedInUser, sign_in_new_user
from tests.support.outbound import connect, create_demo_app, fetch_latest
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, start_broker
from tests.support.standins import create_standin_app, running_standins

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APP = "acme-calendar"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, shared_provider: LiveProvider
) -> Iterator[tuple[LiveBroker, LiveProvider]]:
    """A broker with the demo app, and an auto-approving demo provider."""
    live = start_broker(tmp_path_factory.mktemp("examples"))
    create_demo_app(live, shared_provider, APP)
    yield live, shared_provider
    live.stop()


def run_example(
    live: LiveBroker, provider: LiveProvider, script: str, login_id: str
) -> subprocess.CompletedProcess[str]:
    """Run an example as a person would, configured by the broker's local.env."""
    env = {**os.environ, "OUTBOUND_DATA_DIR": str(live.data_dir)}
    env.pop("DESCOPE_PROJECT_ID", None)
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), login_id, "--api", provider.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def connected_user(live: LiveBroker) -> SignedInUser:
    """A new user who connected the demo app through the real flow."""
    user = sign_in_new_user(live)
    assert connect(live, user, APP)["outbound"] == "connected"
    return user


@pytest.mark.parametrize("script", ["demo_upcoming_events.py", "demo_upcoming_events_sdk.py"])
def test_example_lists_upcoming_events_of_a_connected_user(
    stack: tuple[LiveBroker, LiveProvider], script: str
) -> None:
    live, provider = stack
    user = connected_user(live)
    done = run_example(live, provider, script, user.login_id)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines and all("T" in line.split()[0] for line in lines)


@pytest.mark.parametrize("script", ["demo_upcoming_events.py", "demo_upcoming_events_sdk.py"])
def test_example_sends_a_user_who_is_not_connected_to_connect(
    stack: tuple[LiveBroker, LiveProvider], script: str
) -> None:
    live, provider = stack
    user = sign_in_new_user(live)
    done = run_example(live, provider, script, user.login_id)
    assert done.returncode == 2
    assert "/outbound_apps" in done.stderr and "connect" in done.stderr.lower()


def test_example_asks_to_reconnect_when_the_grant_is_dead(
    stack: tuple[LiveBroker, LiveProvider],
) -> None:
    live, provider = stack
    user = connected_user(live)
    provider.set_faults(refresh_error="invalid_grant")
    try:
        forced = fetch_latest(live, APP, user.user_id, forceRefresh=True)
        assert forced.status_code == 404 and forced.json()["errorCode"] == "E111505"
        done = run_example(live, provider, "demo_upcoming_events.py", user.login_id)
    finally:
        provider.reset_faults()
    assert done.returncode == 2
    assert "renewed" in done.stderr and "reconnect" in done.stderr


def test_provider_example_reaches_salesforce_at_the_instance_url_the_connect_named(
    stack: tuple[LiveBroker, LiveProvider],
) -> None:
    live, _ = stack
    with running_standins() as standins:
        standins.salesforce_instance_url = standins.url  # the org's API host is the stand-in
        create_standin_app(live, standins, "salesforce", "salesforce")
        user = sign_in_new_user(live)
        assert connect(live, user, "salesforce")["outbound"] == "connected"
        # The org's session timeout ends the token before the broker expects: the example's
        # first call answers 401 INVALID_SESSION_ID, it asks for a fresh token once and retries.
        standins.live_access.clear()
        env = {**os.environ, "OUTBOUND_DATA_DIR": str(live.data_dir)}
        env.pop("DESCOPE_PROJECT_ID", None)
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "provider_apis.py"), "salesforce", user.login_id],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        refreshes = [
            c
            for c in standins.calls_to("/services/oauth2/token")
            if c.form().get("grant_type") == "refresh_token"
        ]
    assert len(refreshes) == 1
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Edge Communications",
        "Burlington Textiles Corp of America",
    ]
