"""Fixtures for the hostile suite: one demo provider per module and a fresh demo app per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.provider import LiveProvider, start_provider


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
