"""Fixtures of the conformance suite: Descope's official SDK pointed at a live broker."""

from __future__ import annotations

import pytest
from descope import DescopeClient

from tests.support.servers import LiveBroker


@pytest.fixture(scope="module")
def client(live_broker: LiveBroker) -> DescopeClient:
    """An SDK client with the management key; construction makes the license call."""
    return DescopeClient(
        project_id=live_broker.project_id,
        management_key=live_broker.management_key,
        base_url=live_broker.url,
    )
