"""The unit suite stays pure: a unit test (its fixtures included) that binds a socket (starts a
server) or starts a program fails (tests/support/purity.py). Tests that need a live broker,
provider or dashboard belong to their layer: tests/broker (HTTP against the broker),
tests/conformance (a client against it), tests/app (the dashboard), tests/e2e, tests/hostile,
tests/bench."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.purity import pure


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Fixtures of unit tests, module-scoped ones included, start nothing."""
    with pure():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Nor do the tests themselves."""
    with pure():
        return (yield)
