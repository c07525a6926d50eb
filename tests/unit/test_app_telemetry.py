"""FastAPI's native OpenTelemetry is on when the environment configures OpenTelemetry at
start-up, and off otherwise (no request then pays FastAPI's per-request provider check)."""

from __future__ import annotations

import os

import pytest

from broker.app import _telemetry


def _without_otel(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_") or name == "FASTAPI_OTEL_AUTO_CONFIGURE":
            monkeypatch.delenv(name)


def test_off_without_any_opentelemetry_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_otel(monkeypatch)
    assert _telemetry() == {"tracing": False, "metrics": False, "logs": False}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_SERVICE_NAME", "outbound-broker"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("FASTAPI_OTEL_AUTO_CONFIGURE", "true"),
    ],
)
def test_on_when_the_environment_configures_opentelemetry(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _without_otel(monkeypatch)
    monkeypatch.setenv(name, value)
    assert _telemetry() == {"tracing": True, "metrics": True, "logs": True}
