"""The Acme Calendar API, guarded by bearer tokens and scopes.

``/api/me`` and ``/api/events`` are Acme's own; ``/calendar/v3/calendars/{calendarId}/events``
answers Google Calendar's ``events.list`` shape for the same events (RFC 3339 ``timeMin``
required as Google parses it, ``maxResults``, ``singleEvents``, ``orderBy=startTime``), so the
Google Calendar example tool runs end to end offline against it.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from broker.demo_provider.context import provider_of
from broker.demo_provider.directory import DemoUser, user_by_id
from broker.demo_provider.tokens import AccessToken

router = APIRouter()
REALM = "acme-calendar"

_TITLES = (
    "Sprint planning",
    "1:1 with Priya",
    "Design review: onboarding flow",
    "Customer call — Globex",
    "Lunch & learn: OAuth 2.1",
    "Quarterly business review",
    "Team retro",
    "Dentist",
    "Interview: backend engineer",
    "Roadmap sync",
    "Coffee with Marco",
    "Incident review",
)
_PLACES = ("Room Ada", "Room Turing", "Video call", "Cafe Lumen", "Room Hopper", "Video call")


class ScopeRequired(InsufficientScopeError):  # type: ignore[misc]  # Authlib ships no types
    """403 naming the scope the call needs (RFC 6750 §3.1)."""

    def __init__(self, scope: str) -> None:
        super().__init__(description=f"This call needs the '{scope}' scope.")
        self.scope = scope

    def get_headers(self) -> list[tuple[str, str]]:
        """The JSON headers plus a ``WWW-Authenticate`` challenge with the missing scope."""
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{self.scope}"'
        return [*super().get_headers(), ("WWW-Authenticate", challenge)]


def _bearer(request: Request) -> tuple[AccessToken, DemoUser]:
    """The caller's verified, unrevoked access token and its person; 401 otherwise."""
    provider = provider_of(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidTokenError(description="A bearer access token is required.", realm=REALM)
    token = provider.server.signer.verify(value.strip())
    grant = provider.server.state.grant(token.grant_id) if token else None
    user = user_by_id(token.claims["sub"]) if token else None
    ended_early = provider.server.faults.take("api_unauthorized")
    if ended_early or token is None or grant is None or grant.revoked_at is not None or not user:
        raise InvalidTokenError(
            description="The access token is expired, revoked or invalid.", realm=REALM
        )
    provider.server.stats.event("api_calls")
    return token, user


Bearer = Annotated[tuple[AccessToken, DemoUser], Depends(_bearer)]


def _require(token: AccessToken, scope: str) -> None:
    if scope not in token.scopes:
        raise ScopeRequired(scope)


@router.get("/api/me")
def me(bearer: Bearer) -> dict[str, Any]:
    """The signed-in person (needs ``profile``; the email only with ``email``)."""
    token, user = bearer
    _require(token, "profile")
    body: dict[str, Any] = {"id": user.id, "name": user.name}
    if "email" in token.scopes:
        body["email"] = user.email
    return body


def upcoming_events(user: DemoUser, today: datetime) -> list[dict[str, Any]]:
    """A believable fortnight of events, the same for a person all day long."""
    rng = random.Random(f"{user.id}:{today.date().isoformat()}")
    events = []
    for day in sorted(rng.sample(range(14), 8)):
        date = today.date() + timedelta(days=day)
        start = datetime.combine(date, time(rng.randint(8, 16), rng.choice((0, 30))), UTC)
        end = start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
        title = rng.choice(_TITLES)
        event_id = hashlib.sha256(f"{user.id}{start.isoformat()}".encode()).hexdigest()[:12]
        events.append(
            {
                "id": f"evt_{event_id}",
                "title": title,
                "start": start.isoformat().replace("+00:00", "Z"),
                "end": end.isoformat().replace("+00:00", "Z"),
                "location": rng.choice(_PLACES),
                "organizer": user.email,
            }
        )
    return events


@router.get("/api/events")
def events(bearer: Bearer) -> dict[str, Any]:
    """Upcoming events on the person's calendar (needs ``calendar.read``)."""
    token, user = bearer
    _require(token, "calendar.read")
    return {"items": upcoming_events(user, datetime.now(UTC))}


def _rfc3339(value: str) -> datetime | None:
    """An RFC 3339 date-time with its offset (Google rejects a bare date or "now")."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if "T" in value and parsed.tzinfo is not None else None


def _google_error(status: int, reason: str, message: str) -> JSONResponse:
    # https://developers.google.com/calendar/api/guides/errors
    body = {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}
    return JSONResponse({"error": body}, status_code=status)


@router.get("/calendar/v3/calendars/{calendar_id}/events", response_model=None)
def google_events_list(
    bearer: Bearer,
    calendar_id: str,
    time_min: str | None = Query(default=None, alias="timeMin"),
    max_results: int = Query(default=250, alias="maxResults", ge=1, le=2500),
    single_events: bool = Query(default=False, alias="singleEvents"),
    order_by: str | None = Query(default=None, alias="orderBy"),
) -> dict[str, Any] | JSONResponse:
    """Google Calendar's ``events.list`` for the person's primary calendar (``calendar.read``).

    https://developers.google.com/calendar/api/v3/reference/events/list
    """
    token, user = bearer
    _require(token, "calendar.read")
    if calendar_id not in ("primary", user.email):
        return _google_error(404, "notFound", "Not Found")
    start = _rfc3339(time_min) if time_min is not None else datetime.min.replace(tzinfo=UTC)
    if start is None:
        return _google_error(400, "badRequest", "Bad Request")
    if order_by == "startTime" and not single_events:
        return _google_error(400, "badRequest", "The requested ordering is not available.")
    items = [
        {
            "kind": "calendar#event",
            "id": e["id"],
            "status": "confirmed",
            "summary": e["title"],
            "location": e["location"],
            "organizer": {"email": e["organizer"]},
            "start": {"dateTime": e["start"], "timeZone": "UTC"},
            "end": {"dateTime": e["end"], "timeZone": "UTC"},
        }
        for e in upcoming_events(user, datetime.now(UTC))
        if datetime.fromisoformat(e["end"].replace("Z", "+00:00")) > start
    ][:max_results]
    return {
        "kind": "calendar#events",
        "summary": user.email,
        "timeZone": "UTC",
        "items": items,
    }
