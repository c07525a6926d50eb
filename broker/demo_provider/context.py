"""The running provider as routes see it: configuration plus the authorization server's parts."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from broker.demo_provider.server import AcmeAuthorizationServer


@dataclass(frozen=True)
class DemoProvider:
    """One provider instance: its issuer URL, consent mode, admin guard and server."""

    issuer: str
    auto_approve: bool
    server: AcmeAuthorizationServer
    admin_secret: str | None = None


def provider_of(request: Request) -> DemoProvider:
    """The provider serving this request."""
    provider: DemoProvider = request.app.state.provider
    return provider
