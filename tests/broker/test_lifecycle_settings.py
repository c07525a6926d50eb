"""Lifecycle settings reach worker processes (``OUTBOUND_EXTRA``) and come from CLI flags."""

from __future__ import annotations

import pytest

from broker.cli import _broker_settings, build_parser
from broker.config import BrokerSettings
from broker.lifecycle.settings import LifecycleSettings


def test_extra_settings_survive_the_trip_to_worker_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = BrokerSettings(extra={"lifecycle": {"scheduler_interval_s": 0.5}})
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    worker = BrokerSettings.from_env()
    assert worker.extra == settings.extra
    assert LifecycleSettings.of(worker).scheduler_interval_s == 0.5


def test_cli_flags_set_the_scheduler_interval_and_webhooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OUTBOUND_EXTRA", raising=False)
    monkeypatch.setenv("OUTBOUND_WEBHOOK_SECRET", "whsec-test")
    args = build_parser().parse_args(
        ["broker", "--no-scheduler", "--scheduler-interval", "2", "--webhook-url", "http://a/h"]
    )
    settings = _broker_settings(args)
    lifecycle = LifecycleSettings.of(settings)
    assert settings.scheduler_enabled is False
    assert lifecycle.scheduler_interval_s == 2 and lifecycle.webhook_urls == ("http://a/h",)
    assert (
        lifecycle.webhook_secret is not None and lifecycle.webhook_secret.reveal() == "whsec-test"
    )
    assert "whsec-test" not in repr(lifecycle)


def test_the_scheduler_can_be_switched_off_by_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTBOUND_SCHEDULER", "0")
    assert BrokerSettings.from_env().scheduler_enabled is False
