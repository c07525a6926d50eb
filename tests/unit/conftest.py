"""Fixtures of the dashboard-client tests: a live broker for the module and a transport to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboard.descope import Secret
from dashboard.descope.transport import Transport
from tests.support.dashboard import start_dashboard_broker
from tests.support.servers import LiveBroker


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBroker]:
    """A broker for the module, set up as the dashboard's tests use it."""
    broker = start_dashboard_broker(tmp_path_factory.mktemp("client-broker"))
    yield broker
    broker.stop()


@pytest.fixture
def transport(live: LiveBroker) -> Iterator[Transport]:
    """A transport to ``live`` holding its management key."""
    with Transport(live.url, live.project_id, Secret(live.management_key)) as t:
        yield t
