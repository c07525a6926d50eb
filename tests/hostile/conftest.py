"""Fixtures for the hostile suite: one demo provider per module and a fresh demo app per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support.outbound import create_demo_app
from tests.support.provider import LiveProvider, start_provider
from tests.support.servers import LiveBroker


@pytest.fixture(scope="module")
def shared_provider() -> Iterator[LiveProvider]:
    """One demo provider for the module."""
    live = start_provider()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def provider(shared_provider: LiveProvider) -> Iterator[LiveProvider]:
    """The shared provider, with its faults switched off after each test."""
    yield shared_provider
    shared_provider.reset_faults()


@pytest.fixture
def app_id(live_broker: LiveBroker, provider: LiveProvider) -> str:
    """A fresh demo app on the broker, registered at the provider."""
    new_id = f"acme-{secrets.token_hex(4)}"
    create_demo_app(live_broker, provider, new_id)
    return new_id
