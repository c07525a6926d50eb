"""What the tokens page shows, computed without Streamlit: filters, KPIs, table rows, matrix.

Every value here is metadata; no function takes or returns an access or refresh token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dashboard.inventory.records import Connection
from dashboard.inventory.status import (
    DEFAULT_WINDOWS,
    SEVERITY,
    StatusWindows,
    TokenStatus,
    classify,
    expires_within,
)

DAY = timedelta(hours=24)
FAILING = frozenset({TokenStatus.REFRESH_FAILED, TokenStatus.NEEDS_REAUTH})
# The table's columns, in order; the CSV export uses the same (none of them is a secret).
COLUMNS = (
    "token_id",
    "owner",
    "email",
    "user_id",
    "tenant",
    "app",
    "app_name",
    "status",
    "expires",
    "scopes",
    "has_refresh_token",
    "last_refresh",
    "last_refresh_error",
)


@dataclass(frozen=True)
class Filters:
    """The table's filters; empty means "any"."""

    apps: tuple[str, ...] = ()
    statuses: tuple[TokenStatus, ...] = ()
    user_text: str = ""
    tenant_text: str = ""
    scope_text: str = ""

    def keeps(self, row: Connection, status: TokenStatus) -> bool:
        """Whether ``row`` (with its ``status``) passes every filter."""
        token = row.token
        user = self.user_text.strip().lower()
        tenant = self.tenant_text.strip().lower()
        scope = self.scope_text.strip().lower()
        return (
            (not self.apps or token.app_id in self.apps)
            and (not self.statuses or status in self.statuses)
            and (
                not user
                or any(
                    user in v.lower()
                    for v in (row.user_name, row.user_email, row.user_login_id, token.user_id)
                )
            )
            and (not tenant or any(tenant in v.lower() for v in (row.tenant_name, token.tenant_id)))
            and (not scope or any(scope in s.lower() for s in token.scopes))
        )


@dataclass(frozen=True)
class Classified:
    """The connections with their statuses at one moment."""

    rows: tuple[tuple[Connection, TokenStatus], ...]
    now: datetime
    windows: StatusWindows = field(default=DEFAULT_WINDOWS)

    @classmethod
    def of(
        cls,
        connections: Sequence[Connection],
        now: datetime,
        windows: StatusWindows = DEFAULT_WINDOWS,
    ) -> Classified:
        """Classify every connection at ``now``."""
        return cls(tuple((c, classify(c.token, now, windows)) for c in connections), now, windows)

    def filtered(self, filters: Filters) -> Classified:
        """Only the rows that pass ``filters``."""
        kept = tuple((c, s) for c, s in self.rows if filters.keeps(c, s))
        return Classified(kept, self.now, self.windows)

    def find(self, token_id: str) -> tuple[Connection, TokenStatus] | None:
        """The row of a token id, if it is here."""
        return next(((c, s) for c, s in self.rows if c.token.id == token_id), None)


@dataclass(frozen=True)
class FilterOptions:
    """What the filters offer: apps, statuses (most urgent first), and a tenant filter or not."""

    apps: tuple[str, ...]
    statuses: tuple[TokenStatus, ...]
    tenants: bool

    @classmethod
    def of(cls, classified: Classified) -> FilterOptions:
        """What the rows hold: their apps and statuses, and whether a tenant holds a token."""
        present = {s for _, s in classified.rows}
        return cls(
            apps=tuple(sorted({c.token.app_id for c, _ in classified.rows})),
            statuses=tuple(s for s in SEVERITY if s in present),
            tenants=any(c.token.tenant_id for c, _ in classified.rows),
        )


@dataclass(frozen=True)
class Kpis:
    """The four numbers at the top of the page."""

    connections: int
    healthy: int
    failing_refreshes: int
    ending_24h: int

    @property
    def healthy_share(self) -> float | None:
        """Healthy over all connections; None when there are none."""
        return self.healthy / self.connections if self.connections else None


def renewed_automatically(row: Connection, status: TokenStatus) -> bool:
    """Whether the broker will renew this access token by itself (a refresh token that works)."""
    return row.token.has_refresh_token and status not in FAILING


def kpis(classified: Classified) -> Kpis:
    """Connections, healthy ones, failing refreshes, and connections that end within 24 h.

    A token with a working refresh token does not "end" when its access token expires: the
    broker renews it, so it is not counted (a one-hour token is not an alarm).
    """
    rows = classified.rows
    return Kpis(
        connections=len(rows),
        healthy=sum(1 for _, s in rows if s.healthy),
        failing_refreshes=sum(1 for _, s in rows if s in FAILING),
        ending_24h=sum(
            1
            for c, s in rows
            if not renewed_automatically(c, s) and expires_within(c.token, classified.now, DAY)
        ),
    )


def table_rows(
    classified: Classified, app_names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One dict per connection, keyed by ``COLUMNS`` (datetimes stay datetimes)."""
    names = app_names or {}
    return [
        {
            "token_id": c.token.id,
            "owner": c.owner_label,
            "email": c.user_email,
            "user_id": c.token.user_id,
            "tenant": c.tenant_name or c.token.tenant_id,
            "app": c.token.app_id,
            "app_name": names.get(c.token.app_id) or c.token.app_id,
            "status": s.label,
            "expires": c.token.access_token_expiry,
            "scopes": list(c.token.scopes),
            "has_refresh_token": c.token.has_refresh_token,
            "last_refresh": c.token.last_refresh_time,
            "last_refresh_error": c.token.last_refresh_error,
        }
        for c, s in classified.rows
    ]


def status_counts(classified: Classified) -> list[tuple[TokenStatus, int]]:
    """How many connections are in each status, most urgent first (zeros left out)."""
    return by_severity(Counter(s for _, s in classified.rows))


def by_severity(counts: Mapping[str, int]) -> list[tuple[TokenStatus, int]]:
    """``counts`` by status name (the broker's ``byDetail`` too), most urgent first; zeros and
    names the dashboard does not know left out."""
    return [(s, counts.get(s, 0)) for s in SEVERITY if counts.get(s, 0)]


def app_counts(classified: Classified) -> dict[str, int]:
    """Connections per app, by app id."""
    return dict(sorted(Counter(c.token.app_id for c, _ in classified.rows).items()))


RENEWED, ENDING = "Renewed automatically", "Ends: no working refresh token"


def expiry_timeline(classified: Classified, days: int = 7) -> list[tuple[datetime, str, int]]:
    """Access tokens expiring per hour over the next ``days``: (hour, RENEWED or ENDING, count).

    Hours with none are left out; a token the broker renews by itself is told apart from one
    that ends for good.
    """
    horizon = classified.now + timedelta(days=days)
    hours = Counter(
        (
            expiry.replace(minute=0, second=0, microsecond=0),
            RENEWED if renewed_automatically(c, s) else ENDING,
        )
        for c, s in classified.rows
        if (expiry := c.token.access_token_expiry) and classified.now < expiry <= horizon
    )
    return [(hour, kind, n) for (hour, kind), n in sorted(hours.items())]


def matrix(
    classified: Classified,
) -> tuple[list[str], list[str], dict[tuple[str, str], TokenStatus]]:
    """Owners × apps: the row labels, the app ids, and the worst status in each cell."""
    cells: dict[tuple[str, str], TokenStatus] = {}
    for c, s in classified.rows:
        key = (c.owner_label, c.token.app_id)
        current = cells.get(key)
        if current is None or SEVERITY.index(s) < SEVERITY.index(current):
            cells[key] = s
    owners = sorted({o for o, _ in cells}, key=str.lower)
    apps = sorted({a for _, a in cells})
    return owners, apps, cells
