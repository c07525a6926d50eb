"""Lifecycle settings reach worker processes (``OUTBOUND_EXTRA``) and come from CLI flags."""

from __future__ import annotations

import pytest

from broker.area_settings import LifecycleSettings, ThrottlePolicy
from broker.cli import _broker_settings, build_parser
from broker.config import BrokerSettings
from broker.crypto import Secret


def test_extra_settings_survive_the_trip_to_worker_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = BrokerSettings(
        lifecycle=LifecycleSettings(
            scheduler_interval_s=0.5, webhook_urls=("http://a/h",), webhook_secret=Secret("s")
        ),
        throttle=ThrottlePolicy(login_failures=3),
    )
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    worker = BrokerSettings.from_env()
    assert worker.lifecycle.scheduler_interval_s == 0.5
    assert worker.lifecycle.webhook_urls == ("http://a/h",)
    assert worker.lifecycle.webhook_secret is not None
    assert worker.lifecycle.webhook_secret.reveal() == "s"
    assert worker.throttle == settings.throttle


def test_cli_flags_set_the_scheduler_interval_and_webhooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OUTBOUND_EXTRA", raising=False)
    monkeypatch.setenv("OUTBOUND_WEBHOOK_SECRET", "whsec-test")
    args = build_parser().parse_args(
        ["broker", "--no-scheduler", "--scheduler-interval", "2", "--webhook-url", "http://a/h"]
    )
    settings = _broker_settings(args)
    lifecycle = settings.lifecycle
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


def test_extra_settings_written_by_hand_are_read_and_a_misspelt_one_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "OUTBOUND_EXTRA",
        '{"throttle": {"signups_per_address": 100}, "connect": {"confirmation": "0"}}',
    )
    settings = BrokerSettings.from_env()
    assert settings.throttle.signups_per_address == 100
    assert settings.connect.confirmation is False
    monkeypatch.setenv("OUTBOUND_EXTRA", '{"lifecycle": {"scheduler_intervall_s": 2}}')
    with pytest.raises(SystemExit) as refused:
        _broker_settings(build_parser().parse_args(["broker"]))
    assert "'scheduler_intervall_s'" in str(refused.value)
