"""The MCP server's side of the broker: one user's session, from an access key, over HTTP.

The access key is exchanged (``POST /v1/auth/accesskey/exchange``) for the user's short-lived
session and refresh JWTs, kept in memory only and exchanged again when they are about to
expire or the broker answers 401. The key and the JWTs never reach a log, a repr or a tool
answer. Broker errors become ``BrokerError`` with the Descope ``errorCode`` and one sentence.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from broker.crypto import Secret

DEFAULT_BROKER_URL = "http://127.0.0.1:8787"
DEFAULT_DASHBOARD_URL = "http://127.0.0.1:8501"
_RENEW_MARGIN_S = 30


class BrokerError(Exception):
    """A broker answer that is not a success: HTTP status, Descope error code, one sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class McpSettings:
    """Where the broker is and whose key to act with (``OUTBOUND_*`` environment)."""

    broker_url: str
    project_id: str
    access_key: Secret
    connect_redirect_url: str
    agent_name: str = ""

    @classmethod
    def from_env(cls) -> McpSettings:
        """Settings from the environment; ValueError naming what is missing."""
        env = os.environ
        key = env.get("OUTBOUND_ACCESS_KEY", "").strip()
        if not key:
            raise ValueError(
                "OUTBOUND_ACCESS_KEY is not set: create an access key on the dashboard's "
                "'Use with an agent' page and put it in the MCP client's env"
            )
        broker_url = (env.get("OUTBOUND_BROKER_URL") or DEFAULT_BROKER_URL).rstrip("/")
        dashboard = (env.get("OUTBOUND_DASHBOARD_URL") or DEFAULT_DASHBOARD_URL).rstrip("/")
        return cls(
            broker_url=broker_url,
            project_id=env.get("OUTBOUND_PROJECT_ID", "").strip(),
            access_key=Secret(key),
            connect_redirect_url=env.get("OUTBOUND_CONNECT_REDIRECT_URL")
            or f"{dashboard}/connected",
        )


def _error_of(response: httpx.Response) -> BrokerError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(
        body.get("errorMessage") or body.get("errorDescription") or response.reason_phrase
    )
    return BrokerError(response.status_code, str(body.get("errorCode") or ""), message)


class BrokerSession:
    """HTTP calls to the broker as the access key's user (every failure a ``BrokerError``)."""

    def __init__(self, settings: McpSettings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self._http = httpx.AsyncClient(
            base_url=settings.broker_url,
            timeout=httpx.Timeout(40.0, connect=5.0),
            transport=transport,
        )
        self._project_id = settings.project_id
        self._session: Secret | None = None
        self._refresh: Secret | None = None
        self._expires_at = 0.0
        self.user_id = ""

    def __repr__(self) -> str:
        return f"BrokerSession(broker_url={self.settings.broker_url!r}, user_id={self.user_id!r})"

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise BrokerError(0, "timeout", "The broker did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise BrokerError(
                0, "unreachable", f"The broker at {self.settings.broker_url} is not reachable"
            ) from exc

    async def _project(self) -> str:
        if not self._project_id:
            health = await self._send("GET", "/v1/x/health")
            if health.status_code != 200:
                raise _error_of(health)
            self._project_id = str(health.json()["projectId"])
        return self._project_id

    async def _exchange(self) -> None:
        project = await self._project()
        response = await self._send(
            "POST",
            "/v1/auth/accesskey/exchange",
            headers={"Authorization": f"Bearer {project}:{self.settings.access_key.reveal()}"},
            json={},
        )
        if response.status_code != 200:
            error = _error_of(response)
            if response.status_code == 401:
                error.message = (
                    "The access key was refused (unknown, deactivated or expired): "
                    "create a new one on the dashboard's 'Use with an agent' page"
                )
            raise error
        body = response.json()
        self._session, self._refresh = Secret(body["sessionJwt"]), Secret(body["refreshJwt"])
        self._expires_at = float(body.get("sessionExpiration") or time.time() + 60)
        self.user_id = str((body.get("user") or {}).get("userId") or "")

    async def _headers(self, *, refresh_jwt: bool) -> dict[str, str]:
        if self._session is None or time.time() > self._expires_at - _RENEW_MARGIN_S:
            await self._exchange()
        assert self._session is not None and self._refresh is not None
        jwt = (self._refresh if refresh_jwt else self._session).reveal()
        return {"Authorization": f"Bearer {await self._project()}:{jwt}"}

    async def request(
        self, method: str, path: str, *, refresh_jwt: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One call as the user; a 401 exchanges the key again and retries once."""
        for attempt in (1, 2):
            headers = await self._headers(refresh_jwt=refresh_jwt)
            response = await self._send(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or attempt == 2:
                break
            self._session = None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    async def connections(self) -> list[dict[str, Any]]:
        """The user's apps and connections (no tokens)."""
        response = await self.request("GET", "/v1/x/outbound/connections")
        connections: list[dict[str, Any]] = response.json()["connections"]
        return connections

    async def connect_url(self, app_id: str, scopes: list[str] | None) -> str:
        """A connect link for the user, through the broker's normal connect endpoint."""
        options: dict[str, Any] = {"redirectUrl": self.settings.connect_redirect_url}
        if scopes:
            options["scopes"] = scopes
        response = await self.request(
            "POST",
            "/v1/outbound/oauth/connect",
            refresh_jwt=True,
            json={"appId": app_id, "options": options},
        )
        return str(response.json()["url"])

    async def proxy(self, body: dict[str, Any]) -> httpx.Response:
        """One provider call through the broker's proxy (the answer keeps Retry-After)."""
        return await self.request("POST", "/v1/x/outbound/proxy", json=body)

    async def health(self, app_id: str, status: str) -> dict[str, Any]:
        """Connection health across users (admins only)."""
        params = {k: v for k, v in (("appId", app_id), ("status", status)) if v}
        response = await self.request("GET", "/v1/x/agents/health", params=params)
        body: dict[str, Any] = response.json()
        return body

    async def report(self, tool: str, app_id: str, outcome: str, agent: str) -> None:
        """Record one tool call as an ``agent_call`` event of this user (best effort)."""
        body = {"tool": tool, "appId": app_id, "outcome": outcome, "agent": agent}
        # The audit never fails the tool the user asked for.
        with contextlib.suppress(BrokerError):
            await self.request("POST", "/v1/x/agents/calls", json=body)
