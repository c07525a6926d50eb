"""Fixtures of the conformance suite: Descope's official SDK and the dashboard's own client
pointed at a live broker (the same wire from both ends)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from descope import DescopeClient

from dashboard.descope import Secret, Transport
from tests.support.brokers import module_broker
from tests.support.dashboard import dashboard_broker_settings
from tests.support.servers import LiveBroker


@pytest.fixture(scope="module")
def client(live_broker: LiveBroker) -> DescopeClient:
    """An SDK client with the management key; construction makes the license call."""
    return DescopeClient(
        project_id=live_broker.project_id,
        management_key=live_broker.management_key,
        base_url=live_broker.url,
    )


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, broker_settings: dict[str, Any]
) -> Iterator[LiveBroker]:
    """For the dashboard client's tests: the embedded broker once per module (the strict mode
    of this suite is the SDK's ``live_broker``)."""
    settings = dashboard_broker_settings(**broker_settings)
    yield from module_broker(tmp_path_factory, "local", settings)


@pytest.fixture
def transport(live: LiveBroker) -> Iterator[Transport]:
    """The dashboard's transport to ``live`` holding its management key."""
    with Transport(live.url, live.project_id, Secret(live.management_key)) as t:
        yield t
