"""Shared fixtures of the whole tree: live brokers (tests/support/brokers.py), the demo provider
(tests/support/provider.py), a loopback mailbox and a fresh demo app, all started for real."""

from __future__ import annotations

import os
import secrets

import pytest

from tests.support.brokers import (  # noqa: F401  (the live-broker fixtures)
    BACKENDS,
    STRICT,
    broker_settings,
    live,
    live_broker,
    make_broker,
)
from tests.support.mailbox import mailbox  # noqa: F401  (a loopback SMTP server fixture)
from tests.support.outbound import create_demo_app
from tests.support.provider import (  # noqa: F401  (the demo OAuth provider fixtures)
    LiveProvider,
    consent_provider,
    provider,
    shared_provider,
)
from tests.support.servers import LiveBroker


@pytest.fixture
def app_id(live_broker: LiveBroker, provider: LiveProvider) -> str:  # noqa: F811
    """A fresh demo app (one per test) on the broker, registered at the provider."""
    new_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, new_id)
    return new_id


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI nothing may be skipped: a skip turns the run red."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        print(f"\nCI: {skipped} test(s) skipped; in CI nothing may be skipped.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
