"""A token's lifecycle events: the broker's audit extension (not part of Descope's API).

``GET /v1/x/events?tokenId=`` answers ``{"events": [...]}``, oldest first, each event shaped as
broker/lifecycle/events.py writes it::

    {"id": "EV…", "seq": 17, "kind": "refreshed", "time": 1764340000.25, "tokenId": "OT…",
     "appId": "…", "userId": "…", "tenantId": "", "detail": {"trigger": "scheduled", …}}

``POST /v1/x/outbound/token/revealed`` records that the signed-in person revealed a token's
access token (``Bearer pid:refreshJwt:managementKey``: the broker checks who it is). Descope
cloud and a broker in strict mode have neither path: a 404 reads as "not offered" (None/False),
never as an error. tests/conformance/test_dashboard_wire.py reads answers of the real broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dashboard.descope.client import DescopeClient
from dashboard.descope.errors import NotFound
from dashboard.descope.parsing import mapping, number, text, texts, timestamp

_LABELS = {
    "connected": "Connected",
    "reconnected": "Connected again",
    "refreshed": "Refreshed",
    "refresh_failed": "Refresh failed",
    "needs_reauth": "Needs reconnect",
    "recovered": "Recovered",
    "revoked": "Revoked at the provider",
    "disconnected": "Disconnected",
    "revealed": "Access token revealed",
    "agent_call": "Agent call",
}
_OUTCOMES = {
    "connected": "ok",
    "reconnected": "ok",
    "refreshed": "ok",
    "recovered": "ok",
    "refresh_failed": "retrying",
    "needs_reauth": "stopped",
    "revoked": "revoked",
    "disconnected": "deleted",
    "revealed": "recorded",
}
TOKEN_NOT_FOUND = "E111504"  # the broker's code for an unknown token id
_TRIGGERS = {"fetch": "On use", "force": "Forced", "scheduled": "Scheduled"}


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no"


@dataclass(frozen=True)
class TokenEvent:
    """One event of a token's life, as the broker recorded it."""

    id: str
    kind: str
    at: datetime | None
    token_id: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The event as a person reads it ("Refreshed")."""
        return _LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def outcome(self) -> str:
        """One word: how it ended (``ok``, ``retrying``, ``stopped``, ``deleted``…)."""
        if self.kind == "refresh_failed" and self.facts.get("outcome") == "permanent":
            return "stopped"
        if self.kind == "agent_call":
            return text(self.facts.get("outcome"))
        return _OUTCOMES.get(self.kind, "")

    @property
    def detail(self) -> str:
        """What the broker noted about the event, in a short phrase."""
        facts, kind = self.facts, self.kind
        if kind in ("connected", "reconnected"):
            scopes = " ".join(texts(facts.get("scopes"))) or "none"
            return f"Scopes: {scopes} · refresh token: {_yes_no(facts.get('hasRefreshToken'))}"
        if kind == "refreshed":
            trigger = _TRIGGERS.get(text(facts.get("trigger")), "Refresh")
            return f"{trigger} · new refresh token: {_yes_no(facts.get('rotated'))}"
        if kind in ("refresh_failed", "needs_reauth"):
            failures = number(facts.get("failureCount"))
            count = f" (failure {int(failures)})" if failures else ""
            return f"{text(facts.get('error')) or 'The provider refused'}{count}"
        if kind == "recovered":
            failures = number(facts.get("failureCount"))
            return f"After {int(failures or 0)} failed refreshes"
        if kind in ("revoked", "disconnected"):
            access, refresh = text(facts.get("accessToken")), text(facts.get("refreshToken"))
            return f"Access token: {access or '—'} · refresh token: {refresh or '—'}"
        if kind == "revealed":
            who = text(facts.get("byName")) or text(facts.get("byLoginId"))
            return f"By {who or text(facts.get('byUserId')) or 'an unknown person'}"
        if kind == "agent_call":
            call = " ".join(text(facts.get(k)) for k in ("method", "path") if facts.get(k))
            status = number(facts.get("status"))
            answered = f" → {int(status)}" if status else ""
            parts = [f"agent {text(facts.get('agent')) or '?'}", f"tool {text(facts.get('tool'))}"]
            return " · ".join([*parts, *([call + answered] if call else [])])
        return ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> TokenEvent:
        """Parse one event of ``GET /v1/x/events``."""
        return cls(
            id=text(data.get("id")),
            kind=text(data.get("kind")),
            at=timestamp(data.get("time")),
            token_id=text(data.get("tokenId")),
            facts=dict(mapping(data.get("detail"))),
        )


def token_history(client: DescopeClient, token_id: str) -> tuple[TokenEvent, ...] | None:
    """A token's events, oldest first; None where the service keeps no readable history."""
    try:
        data = client.call("GET", "/v1/x/events", management=True, params={"tokenId": token_id})
    except NotFound:
        return None
    items = mapping(data).get("events")
    if not isinstance(items, list):
        return ()
    return tuple(TokenEvent.from_api(e) for e in items if isinstance(e, Mapping))


def last_refreshed(events: tuple[TokenEvent, ...]) -> datetime | None:
    """When the history last shows a successful refresh, if ever."""
    times = [e.at for e in events if e.kind == "refreshed" and e.at is not None]
    return max(times, default=None)


def was_deleted(events: tuple[TokenEvent, ...]) -> bool:
    """Whether the history shows the token deleted (a disconnect; ids are never reused)."""
    return any(e.kind == "disconnected" for e in events)


def record_reveal(client: DescopeClient, token_id: str) -> bool:
    """Record that the client's user revealed the token; False where not offered."""
    try:
        client.call(
            "POST",
            "/v1/x/outbound/token/revealed",
            as_user="refresh",
            management=True,
            json_body={"tokenId": token_id},
        )
    except NotFound as exc:
        if exc.code == TOKEN_NOT_FOUND:
            raise
        return False  # no such path here (Descope cloud, a strict broker)
    return True
