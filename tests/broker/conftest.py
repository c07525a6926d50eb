"""Fixtures shared by the broker's inventory tests."""

from __future__ import annotations

import pytest

from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker
from tests.support.token_seed import SeededTokens, seed_tokens


@pytest.fixture(scope="module")
def seeded(live_broker: LiveBroker, shared_provider: LiveProvider) -> SeededTokens:
    """The known population (tests/support/token_seed.py), once per module and backend."""
    return seed_tokens(live_broker, shared_provider)
