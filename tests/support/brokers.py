"""The live-broker fixtures, from one factory: ``start_live_broker`` (tests/support/servers.py
``start_broker`` on a backend, stopped with its ``ExitStack``).

- ``live_broker``: one broker per test module and storage backend (``BACKENDS``), with the
  module's ``broker_settings``; a module adds the strict surface with
  ``pytest.mark.parametrize("live_broker", [*BACKENDS, STRICT], indirect=True)``.
- ``live``: one broker per test module and dashboard mode (tests/support/dashboard.py ``MODES``),
  set up as the dashboard's tests use it (a small sign-in throttle), with ``broker_settings``;
  a suite that needs one mode only defines its own thin ``live`` on ``module_broker``.
- ``make_broker``: extra brokers inside one test, stopped at its end.

tests/conftest.py registers them for the whole tree.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.dashboard import MODES, dashboard_broker_settings
from tests.support.servers import PG_URL_ENV, LiveBroker, fresh_postgres_database, start_broker

BACKENDS = ("sqlite", "postgres")
# SQLite behind the strict surface (--strict-descope): the cloud's stand-in.
STRICT = "strict"


def start_live_broker(
    stack: ExitStack, data_dir: Path, backend: str = "sqlite", **settings: Any
) -> LiveBroker:
    """A broker in ``data_dir`` on ``backend`` (``sqlite``, ``postgres``: a fresh database,
    dropped afterwards; ``strict``: SQLite behind Descope's surface; ``local``: SQLite), stopped
    when ``stack`` closes."""
    url = settings.pop("database_url", None)
    if backend == "postgres" and url is None:
        if not os.environ.get(PG_URL_ENV):
            pytest.skip(f"{PG_URL_ENV} is not set (CI sets it; nothing may skip there)")
        url = str(stack.enter_context(fresh_postgres_database()))
    settings.setdefault("strict_descope", backend == STRICT)
    live = start_broker(data_dir, database_url=url, **settings)
    stack.callback(live.stop)
    return live


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """BrokerSettings fields for ``live_broker`` and ``live``; a module overrides this fixture to
    change them (e.g. ``{"demo_mode": True}`` for the outbox, ``{"smtp_url": ...}`` for email)."""
    return {}


def module_broker(
    tmp_path_factory: pytest.TempPathFactory, backend: str, settings: dict[str, Any]
) -> Iterator[LiveBroker]:
    """For a module fixture: a broker on ``backend`` with ``settings``, stopped afterwards."""
    with ExitStack() as stack:
        yield start_live_broker(stack, tmp_path_factory.mktemp("broker"), backend, **settings)


@pytest.fixture(params=BACKENDS, scope="module")
def live_broker(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker_settings: dict[str, Any],
) -> Iterator[LiveBroker]:
    """A broker shared by one test module, once per storage backend."""
    yield from module_broker(tmp_path_factory, request.param, broker_settings)


@pytest.fixture(params=MODES, scope="module")
def live(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    broker_settings: dict[str, Any],
) -> Iterator[LiveBroker]:
    """A broker (SQLite) for the dashboard, shared by one test module, once per mode: set up as
    the dashboard's tests use it (tests/support/dashboard.py ``dashboard_broker_settings``)."""
    settings = dashboard_broker_settings(**broker_settings)
    yield from module_broker(tmp_path_factory, request.param, settings)


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., LiveBroker]]:
    """Start extra brokers (``make_broker(backend="sqlite", **settings)``), stopped at test end."""
    with ExitStack() as stack:
        started: list[LiveBroker] = []

        def make(
            backend: str = "sqlite", data_dir: Path | None = None, **settings: Any
        ) -> LiveBroker:
            live = start_live_broker(
                stack, data_dir or tmp_path / f"b{len(started)}", backend, **settings
            )
            started.append(live)
            return live

        yield make
