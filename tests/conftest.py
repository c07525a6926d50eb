"""Shared fixtures: live brokers on SQLite and PostgreSQL, started for real on loopback."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.mailbox import mailbox  # noqa: F401  (a loopback SMTP server fixture)
from tests.support.outbound import create_demo_app
from tests.support.provider import (  # (the demo OAuth provider fixture)
    LiveProvider,
    provider,  # noqa: F401
)
from tests.support.servers import PG_URL_ENV, LiveBroker, fresh_postgres_database, start_broker

BACKENDS = ("sqlite", "postgres")
# SQLite behind the strict surface (--strict-descope): the cloud's stand-in. A module opts in
# with ``pytest.mark.parametrize("live_broker", [*BACKENDS, STRICT], indirect=True)``.
STRICT = "strict"


def _database_url(backend: str, stack: Any) -> str | None:
    if backend == "sqlite":
        return None
    if not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
    return str(stack.enter_context(fresh_postgres_database()))


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """BrokerSettings fields for ``live_broker``; a module overrides this fixture to change them
    (e.g. ``{"demo_mode": True}`` for the outbox, ``{"smtp_url": ...}`` for email)."""
    return {}


@pytest.fixture(params=BACKENDS, scope="module")
def live_broker(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker_settings: dict[str, Any],
) -> Iterator[LiveBroker]:
    """A broker shared by one test module, once per storage backend (with the module's
    ``broker_settings``)."""
    from contextlib import ExitStack

    strict = request.param == STRICT
    with ExitStack() as stack:
        url = _database_url("sqlite" if strict else request.param, stack)
        live = start_broker(
            tmp_path_factory.mktemp("broker"),
            database_url=url,
            strict_descope=strict,
            **broker_settings,
        )
        try:
            yield live
        finally:
            live.stop()


@pytest.fixture
def make_broker(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveBroker]]:
    """Start extra brokers (``make_broker(backend="sqlite", **settings)``), stopped at test end."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        started: list[LiveBroker] = []

        def make(
            backend: str = "sqlite", data_dir: Path | None = None, **settings: Any
        ) -> LiveBroker:
            url = settings.pop("database_url", None) or _database_url(backend, stack)
            live = start_broker(
                data_dir or tmp_path / f"b{len(started)}", database_url=url, **settings
            )
            started.append(live)
            return live

        try:
            yield make
        finally:
            for live in started:
                live.stop()


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
