"""Remembering a session across reloads: the refresh JWT in an HttpOnly, SameSite=Lax cookie.

A Streamlit script cannot set cookies (streamlit.md §1.4), so the script issues a one-time
nonce for the refresh JWT and the page's JavaScript POSTs it to a custom route of ``st.App``,
which sets (or clears) the cookie. CSRF: the route accepts only a same-origin JSON POST
(Origin and Sec-Fetch-Site checked; JSON forces a preflight cross-site) carrying a nonce that is
unguessable, single-use and short-lived. The script reads the cookie through
``st.context.cookies`` when a new Streamlit session starts.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from dashboard.descope import (
    Secret,
)

COOKIE_NAME = "outbound_session"
ROUTE_PATH = "/_outbound/session"
NONCE_TTL_S = 120.0


@dataclass(frozen=True)
class Handoff:
    """What the route should do with the cookie for one nonce."""

    action: Literal["persist", "forget"]
    refresh_jwt: Secret | None
    max_age_s: int
    expires_at: float


class HandoffStore:
    """Single-use nonces shared by the script threads and the route (one process)."""

    def __init__(self) -> None:
        self._items: dict[str, Handoff] = {}
        self._lock = threading.Lock()

    def issue(
        self,
        action: Literal["persist", "forget"],
        refresh_jwt: Secret | None = None,
        max_age_s: int = 0,
    ) -> str:
        """A new nonce for ``action``."""
        nonce = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if v.expires_at > now}
            self._items[nonce] = Handoff(action, refresh_jwt, max_age_s, now + NONCE_TTL_S)
        return nonce

    def is_pending(self, nonce: str) -> bool:
        """Whether ``nonce`` is still waiting for the browser."""
        with self._lock:
            item = self._items.get(nonce)
        return item is not None and item.expires_at > time.monotonic()

    def take(self, nonce: str) -> Handoff | None:
        """Consume ``nonce``; None when unknown, used or expired."""
        with self._lock:
            item = self._items.pop(nonce, None)
        if item is None or item.expires_at <= time.monotonic():
            return None
        return item


HANDOFFS = HandoffStore()


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if not origin or not host:
        return False
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    return origin in {f"http://{host}", f"https://{host}"}


async def session_cookie(request: Request) -> JSONResponse:
    """``POST {nonce}``: set or clear the session cookie for a nonce the script issued."""
    refused = JSONResponse({"ok": False}, status_code=403)
    if not _same_origin(request):
        return refused
    if not request.headers.get("content-type", "").startswith("application/json"):
        return refused
    try:
        body = await request.json()
    except ValueError:
        return refused
    nonce = body.get("nonce") if isinstance(body, dict) else None
    handoff = HANDOFFS.take(nonce) if isinstance(nonce, str) else None
    if handoff is None:
        return refused
    response = JSONResponse({"ok": True})
    secure = request.url.scheme == "https"
    if handoff.action == "persist" and handoff.refresh_jwt:
        response.set_cookie(
            COOKIE_NAME,
            handoff.refresh_jwt.reveal(),
            max_age=handoff.max_age_s,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    else:
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=secure)
    response.headers["Cache-Control"] = "no-store"
    return response


def routes() -> list[BaseRoute]:
    """The custom routes ``st.App`` mounts beside Streamlit."""
    return [Route(ROUTE_PATH, session_cookie, methods=["POST"])]


def browser_script(nonce: str) -> str:
    """The snippet that hands ``nonce`` to the route from the page (same origin, JSON)."""
    return (
        "<script>fetch(" + repr(ROUTE_PATH) + ",{method:'POST',credentials:'same-origin',"
        "headers:{'Content-Type':'application/json'},"
        "body:JSON.stringify({nonce:" + repr(nonce) + "})});</script>"
    )
