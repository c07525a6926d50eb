"""The embedded broker's connect-flow extensions (``/v1/x/``, broker/outbound/connect_x_routes.py).

* ``confirm_flow``: the landing page asks what became of the flow behind its one-time ``flow``
  id, as whoever is signed in in that browser (or nobody); the broker keeps a parked grant only
  for its initiator, and answers any flow once.
* ``flow_status``: the tab that started a connect asks how it is doing (by the state it holds).
* ``create_reconnect_link`` / ``start_reconnect``: an admin's reconnect link for a dead token,
  and its user starting the reconnect with it.

Descope's cloud has none of these: a 404 on the path itself reads as "not supported" (None),
so callers fall back to what Descope's own surface can tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import ApiError, BadRequest, NotAllowed, NotFound
from dashboard.descope.parsing import mapping, text, texts, timestamp

# Descope's code for a path that does not exist; any other 404 is about the thing asked for.
NO_SUCH_PATH = "E011006"
LINK_SENTENCES = {
    "E111510": "This reconnect link is not valid; ask your administrator for a new one.",
    "E111511": "This reconnect link was already used; ask your administrator for a new one.",
    "E111512": "This reconnect link has expired; ask your administrator for a new one.",
    "E111513": (
        "This reconnect link was made for another account, so nothing was done: sign in as that"
        " account to use it."
    ),
}


@dataclass(frozen=True)
class FlowAnswer:
    """What the broker says about one connect flow (``outcome`` and its details)."""

    outcome: str
    app_id: str = ""
    granted: tuple[str, ...] = ()
    requested: tuple[str, ...] = ()
    has_refresh_token: bool = False
    tenant_id: str = ""
    error: str = ""
    error_description: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> FlowAnswer:
        """Parse the confirmation's answer."""
        return cls(
            outcome=text(data.get("outcome")) or "unknown",
            app_id=text(data.get("appId")),
            granted=texts(data.get("scopes")),
            requested=texts(data.get("requestedScopes")),
            has_refresh_token=data.get("hasRefreshToken") is True,
            tenant_id=text(data.get("tenantId")),
            error=text(data.get("error")),
            error_description=text(data.get("errorDescription")),
        )


def _unsupported(exc: NotFound) -> bool:
    return exc.code in ("", NO_SUCH_PATH)


def confirm_flow(client: DescopeClient, flow: str, *, as_user: bool) -> FlowAnswer | None:
    """The flow's outcome, confirmed as the client's user (``as_user``) or by nobody signed in.

    None where the target has no such extension (Descope cloud, a strict broker).
    """
    try:
        data = client.call(
            "POST",
            "/v1/x/outbound/oauth/confirm",
            as_user="refresh" if as_user else None,
            json_body={"flow": flow},
        )
    except NotFound as exc:
        if _unsupported(exc):
            return None
        raise
    return FlowAnswer.from_api(mapping(data))


@dataclass(frozen=True)
class FlowStatus:
    """How the initiator's connect is doing: ``pending``, ``awaiting``, ``connected``…"""

    status: str
    error: str = ""


def flow_status(client: DescopeClient, state: str) -> FlowStatus | None:
    """The status of the caller's own connect, or None when the target cannot say."""
    try:
        data = mapping(
            client.call(
                "POST", "/v1/x/outbound/oauth/status", as_user="refresh", json_body={"state": state}
            )
        )
    except NotFound:
        return None
    return FlowStatus(status=text(data.get("status")), error=text(data.get("error")))


@dataclass(frozen=True)
class ReconnectLink:
    """A reconnect link's secret and what it is bound to."""

    link: str
    token_id: str
    app_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


def create_reconnect_link(client: DescopeClient, token_id: str) -> ReconnectLink | None:
    """A new reconnect link for a dead token (management key); None where unsupported."""
    try:
        data = mapping(
            client.call(
                "POST",
                "/v1/x/mgmt/outbound/reconnect/link",
                management=True,
                json_body={"tokenId": token_id},
            )
        )
    except NotFound as exc:
        if _unsupported(exc):
            return None
        raise NotFound(
            "That token no longer exists.", status=exc.status, code=exc.code, detail=exc.detail
        ) from exc
    except BadRequest as exc:
        raise BadRequest(
            "Only a connection that needs a new consent or keeps failing to refresh gets a"
            " reconnect link.",
            status=exc.status,
            code=exc.code,
            detail=exc.detail,
        ) from exc
    return ReconnectLink(
        link=text(data.get("link")),
        token_id=text(data.get("tokenId")),
        app_id=text(data.get("appId")),
        user_id=text(data.get("userId")),
        scopes=texts(data.get("scopes")),
        expires_at=timestamp(data.get("expiresAt")),
    )


def start_reconnect(client: DescopeClient, link: str, redirect_url: str) -> str:
    """Use a reconnect link as the signed-in user; answers the authorization URL."""
    try:
        data = client.call(
            "POST",
            "/v1/x/outbound/oauth/reconnect",
            as_user="refresh",
            json_body={"link": link, "redirectUrl": redirect_url},
        )
    except (BadRequest, NotAllowed, NotFound) as exc:
        sentence = LINK_SENTENCES.get(exc.code)
        if sentence is None:
            raise
        kind: type[ApiError] = NotAllowed if isinstance(exc, NotAllowed) else BadRequest
        raise kind(sentence, status=exc.status, code=exc.code, detail=exc.detail) from exc
    url = text(mapping(data).get("url"))
    if not url.startswith(("https://", "http://")):
        raise BadRequest("The service answered no usable authorization URL; try again.")
    return url
