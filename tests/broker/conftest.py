"""Fixtures shared by the broker's inventory tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.provider import start_provider
from tests.support.servers import LiveBroker
from tests.support.token_seed import SeededTokens, seed_tokens


@pytest.fixture(scope="module")
def seeded(live_broker: LiveBroker) -> Iterator[SeededTokens]:
    """The known population (tests/support/token_seed.py), once per module and backend."""
    provider = start_provider()
    try:
        yield seed_tokens(live_broker, provider)
    finally:
        provider.stop()
