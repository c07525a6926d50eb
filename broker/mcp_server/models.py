"""The MCP tools' typed outputs (their JSON Schemas are the tools' ``outputSchema``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Connection(BaseModel):
    """One app the user may use, and their connection to it (never a token)."""

    app_id: str
    name: str
    connected: bool
    status: str | None = Field(
        default=None, description="active | expiring | expired | refresh_failed | needs_reauth"
    )
    scopes: list[str] = Field(default_factory=list, description="Scopes the provider granted")
    access_token_expiry: int | None = Field(default=None, description="Unix seconds")
    has_refresh_token: bool | None = None
    last_refresh_error: str = ""
    default_scopes: list[str] = Field(default_factory=list)
    api_base_urls: list[str] = Field(
        default_factory=list, description="Where call_provider may go for this app"
    )


class ConnectionList(BaseModel):
    """The user's connections."""

    connections: list[Connection]


class ConnectLink(BaseModel):
    """The outcome of asking the user to connect an app."""

    app_id: str
    outcome: Literal["link", "connected", "pending", "declined"] = Field(
        description="link: give `url` to the user; connected: done; pending: the user was "
        "sent to the link and has not finished; declined: the user said no"
    )
    url: str | None = Field(default=None, description="Only when the client cannot elicit")
    message: str


class ProviderCall(BaseModel):
    """A provider API answer (bounded, token-free), or why a connect is needed first."""

    outcome: Literal["ok", "provider_error", "connect_required"]
    status: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = Field(default=None, description="The JSON answer, when the provider sent JSON")
    text: str | None = Field(default=None, description="The answer as text otherwise")
    truncated: bool = False
    connect_url: str | None = Field(
        default=None, description="When outcome is connect_required and the client cannot elicit"
    )
    message: str = ""


class AppHealth(BaseModel):
    """Connections of one app, counted by status."""

    app_id: str
    counts: dict[str, int]


class FailingConnection(BaseModel):
    """A connection that is not healthy."""

    app_id: str
    user_id: str
    token_id: str
    status: str
    last_refresh_error: str = ""
    failure_count: int = 0


class Health(BaseModel):
    """Connection health across users (admins)."""

    apps: list[AppHealth]
    connections: list[FailingConnection]
