"""The demo OAuth provider on loopback for tests, and its fixtures (registered for the whole tree
by tests/conftest.py): ``provider`` (per test), ``shared_provider`` (per module, for module-scoped
fixtures) and ``consent_provider`` (per test, the consent page instead of auto-approval)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from broker.demo_provider.app import create_provider_app
from tests.support.servers import ThreadedServer, free_port


@dataclass
class LiveProvider:
    """A demo provider answering on loopback, with its admin calls as methods."""

    url: str
    server: ThreadedServer
    admin_secret: str | None = None
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.admin_secret}"} if self.admin_secret else {}
        response = self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        response.raise_for_status()
        return response.json()

    def register_client(
        self,
        client_id: str,
        client_secret: str | None,
        redirect_uris: list[str],
        auth_method: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register or update a client (``auth_method`` None: basic or post both accepted)."""
        body = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": redirect_uris,
            "token_endpoint_auth_method": auth_method,
            **extra,
        }
        result: dict[str, Any] = self._admin("POST", "/admin/clients", json=body)
        return result

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Merge fault switches, e.g. ``set_faults(token_status={"value": 503, "remaining": 1})``."""
        result: dict[str, Any] = self._admin("POST", "/admin/faults", json=faults)
        return result

    def reset_faults(self) -> None:
        """Switch every fault off."""
        self._admin("DELETE", "/admin/faults")

    def stats(self) -> dict[str, Any]:
        """The provider's counters (see ``broker.demo_provider.app``)."""
        result: dict[str, Any] = self._admin("GET", "/admin/stats")
        return result

    def reset_stats(self) -> None:
        """Zero the counters."""
        self._admin("POST", "/admin/stats/reset")

    def introspect(self, token: str) -> dict[str, Any]:
        """Status of any token (``active``, ``status``: active|rotated|revoked|expired|unknown…)."""
        result: dict[str, Any] = self._admin("POST", "/admin/tokens/status", json={"token": token})
        return result

    def client(
        self,
        client_id: str = "acme-test-client",
        client_secret: str | None = "s3cret-for-tests",
        auth_method: str | None = None,
        redirect_uri: str = "http://127.0.0.1:9/callback",
        **extra: Any,
    ) -> DemoClient:
        """Register a client and return it ready to run flows (basic auth unless told)."""
        self.register_client(client_id, client_secret, [redirect_uri], auth_method, **extra)
        used = auth_method or ("client_secret_basic" if client_secret else "none")
        return DemoClient(self, client_id, client_secret, redirect_uri, used)

    def stop(self) -> None:
        """Stop serving and close the HTTP client."""
        self.http.close()
        self.server.stop()


@dataclass
class DemoClient:
    """A plain-HTTP OAuth client of a ``LiveProvider`` (redirects are read, never followed)."""

    provider: LiveProvider
    client_id: str
    client_secret: str | None
    redirect_uri: str
    auth_method: str = "client_secret_basic"

    def authorize_params(self, scope: str, verifier: str, state: str = "st-1") -> dict[str, str]:
        """The query of an authorization request with an S256 challenge for ``verifier``."""
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }

    def authorize(self, params: dict[str, str]) -> httpx.Response:
        """GET the authorization endpoint without following the redirect."""
        return self.provider.http.get(f"{self.provider.url}/oauth/authorize", params=params)

    def code(self, scope: str = "profile email calendar.read offline_access") -> tuple[str, str]:
        """``(code, verifier)`` from an auto-approving provider."""
        verifier = generate_token(48)
        location = httpx.URL(
            self.authorize(self.authorize_params(scope, verifier)).headers["location"]
        )
        return location.params["code"], verifier

    def token_request(self, **form: str) -> httpx.Response:
        """POST the token endpoint, authenticating the way this client is configured to."""
        auth = None
        if self.auth_method == "client_secret_basic" and self.client_secret:
            auth = httpx.BasicAuth(self.client_id, self.client_secret)
        elif self.auth_method == "client_secret_post" and self.client_secret:
            form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        else:
            form = {**form, "client_id": self.client_id}
        return self.provider.http.post(f"{self.provider.url}/oauth/token", data=form, auth=auth)

    def exchange(self, code: str, verifier: str) -> httpx.Response:
        """Trade a code for tokens."""
        return self.token_request(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=verifier,
        )

    def refresh(self, refresh_token: str) -> httpx.Response:
        """Use a refresh token."""
        return self.token_request(grant_type="refresh_token", refresh_token=refresh_token)

    def tokens(self, scope: str = "profile email calendar.read offline_access") -> dict[str, Any]:
        """A fresh token response through the whole (auto-approved) flow."""
        code, verifier = self.code(scope)
        response = self.exchange(code, verifier)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def start_provider(
    auto_approve: bool = True, state_path: Path | None = None, **kwargs: Any
) -> LiveProvider:
    """Start a demo provider on a free loopback port (``kwargs`` go to ``create_provider_app``)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_provider_app(
        issuer=url, auto_approve=auto_approve, state_path=state_path, **kwargs
    )
    server = ThreadedServer(app, port=port).start()
    return LiveProvider(url=url, server=server, admin_secret=kwargs.get("admin_secret"))


@contextmanager
def running_provider(**kwargs: Any) -> Iterator[LiveProvider]:
    """``start_provider(**kwargs)`` as a context manager that always stops it."""
    live = start_provider(**kwargs)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def shared_provider() -> Iterator[LiveProvider]:
    """One auto-approving demo provider for the module (module-scoped fixtures take it; tests
    take ``provider``)."""
    with running_provider() as live:
        yield live


@pytest.fixture
def consent_provider() -> Iterator[LiveProvider]:
    """A fresh demo provider with its consent page (not auto-approving) per test: a consent in
    progress and its counters stay with their test."""
    with running_provider(auto_approve=False) as live:
        yield live


@pytest.fixture
def provider(shared_provider: LiveProvider) -> Iterator[LiveProvider]:
    """The module's demo provider, its counters zeroed before and its faults switched off after
    each test, so neither leaks into the next."""
    shared_provider.reset_stats()
    yield shared_provider
    shared_provider.reset_faults()
