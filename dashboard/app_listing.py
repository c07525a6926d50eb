"""The signed-in person's view of the outbound apps, free of Streamlit.

``load_listing`` is what Descope's widget does (reference §8): every app and the ids of the
apps the user holds a token for, both with the user's refresh JWT alone. With a management key
it is richer: the latest token of each connected app gives its granted scopes and expiry.
``connect_fingerprint`` is what the tab that started a connect polls until it changes.
``ConnectOutcome`` is a connect's outcome as the broker tells it about the flow (``from_flow``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dashboard.descope import (
    DescopeClient,
    FlowAnswer,
    ManagedToken,
    NotFound,
    OutboundApp,
    apps_with_user_token,
    latest_user_token,
    list_apps,
)


@dataclass(frozen=True)
class AppListing:
    """One app, whether the user is connected to it, and (with a management key) its token."""

    app: OutboundApp
    connected: bool
    latest: ManagedToken | None = None

    @property
    def granted_scopes(self) -> tuple[str, ...]:
        """The scopes of the latest token (empty when unknown)."""
        return self.latest.scopes if self.latest else ()

    @property
    def expires_at(self) -> datetime | None:
        """When the latest access token expires (None when unknown)."""
        return self.latest.access_token_expiry if self.latest else None


def load_listing(client: DescopeClient) -> tuple[AppListing, ...]:
    """Every app with the user's connection state; token details when a key is configured."""
    user_id = client.user_id
    apps = list_apps(client, as_user=True)
    connected = set(apps_with_user_token(client, user_id, as_user=True))
    result = []
    for app in apps:
        latest = None
        if app.id in connected and client.has_management_key:
            try:
                latest = latest_user_token(client, app.id, user_id)
            except NotFound:
                latest = None
        result.append(AppListing(app=app, connected=app.id in connected, latest=latest))
    return tuple(result)


def search_and_sort(
    listings: Iterable[AppListing], query: str = "", *, descending: bool = False
) -> tuple[AppListing, ...]:
    """Listings whose name, id or description contains ``query``, sorted by name."""
    needle = query.strip().casefold()
    found = [
        c
        for c in listings
        if not needle
        or needle in c.app.name.casefold()
        or needle in c.app.id.casefold()
        or needle in c.app.description.casefold()
    ]
    return tuple(sorted(found, key=lambda c: (c.app.name.casefold(), c.app.id), reverse=descending))


def connect_fingerprint(client: DescopeClient, app_id: str) -> tuple[tuple[str, ...], str]:
    """What changes when a connect completes: the connected app ids and the app's latest token id.

    The token id (management key only) also changes when an already connected app is connected
    again, e.g. with other scopes.
    """
    user_id = client.user_id
    ids = tuple(sorted(apps_with_user_token(client, user_id, as_user=True)))
    token_id = ""
    if client.has_management_key and app_id in ids:
        try:
            token_id = latest_user_token(client, app_id, user_id).id
        except NotFound:
            token_id = ""
    return ids, token_id


# The broker's own error codes on the final redirect (broker/outbound/connect.py) and the
# provider's standard ones (RFC 6749 §4.1.2.1), each as one sentence.
_ERROR_SENTENCES = {
    "access_denied": "Access was not granted at the provider, so nothing was connected.",
    "expired_state": "The connection took longer than 10 minutes; start it again.",
    "missing_code": "The provider sent no authorization code back; start the connection again.",
    "app_not_found": "The app was deleted while you were at the provider; nothing was stored.",
    "temporarily_unavailable": "The provider could not be reached to finish; try again shortly.",
    "invalid_scope": "The provider does not accept one of the requested scopes.",
    "invalid_grant": "The provider refused the authorization code; start the connection again.",
    "invalid_client": "The provider does not recognise the app's client id or secret.",
    "unauthorized_client": "The provider does not allow this app to ask for authorization.",
    "server_error": "The provider had a problem; try again in a moment.",
    # The user verifier and the broker's other checks (broker/outbound/connect_flows.py).
    "other_user": (
        "This connection was started by another account, so nothing was stored and your approval"
        " was withdrawn at the provider; if you did not expect this link, someone may have tried"
        " to get at your account."
    ),
    "signed_out": (
        "Nobody is signed in to the dashboard in this browser, so the connection could not be"
        " checked: nothing was stored and the approval was withdrawn at the provider."
    ),
    "expired": (
        "The connection was not confirmed within 10 minutes, so nothing was stored and the"
        " approval was withdrawn at the provider."
    ),
    "not_tenant_member": "You are not a member of that tenant (any more), so nothing was stored.",
    "tenant_admin_required": (
        "Connecting the tenant's shared account needs the tenant-admin role, so nothing was stored."
    ),
    "issuer_mismatch": (
        "The answer came from another authorization server than the app's, so it was refused."
    ),
    "issuer_missing": "The provider's answer did not say which server sent it, so it was refused.",
    "app_changed": "The app's settings changed during the connection; start it again.",
    "used": (
        "This connection was already reported: a reloaded or shared page does not say whether it"
        " worked; the outbound apps page shows what you hold now."
    ),
    "unknown": (
        "The service does not know this connection (the link is stale or made up), so nothing is"
        " claimed here; the outbound apps page shows what you hold now."
    ),
}


_ERROR_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class ConnectOutcome(FlowAnswer):
    """A connect's outcome as the broker told it, with what the person reads about it."""

    @classmethod
    def from_flow(cls, answer: FlowAnswer) -> ConnectOutcome:
        """What the broker said about the flow (its ``outcome`` kinds besides ``connected``
        and ``error`` become the error code: ``refused`` carries its reason, ``used`` and
        ``unknown`` stand for themselves)."""
        connected = answer.outcome == "connected"
        return cls(
            outcome=answer.outcome,
            app_id=answer.app_id,
            granted=answer.granted,
            requested=answer.requested,
            has_refresh_token=answer.has_refresh_token,
            tenant_id=answer.tenant_id,
            error="" if connected else answer.error or answer.outcome,
            error_description=answer.error_description if answer.outcome == "error" else "",
        )

    @property
    def connected(self) -> bool:
        """Whether the grant was kept."""
        return self.outcome == "connected"

    @property
    def sentence(self) -> str:
        """The provider's (or the broker's) error in one sentence."""
        if self.connected:
            return ""
        known = _ERROR_SENTENCES.get(self.error)
        if known:
            return known
        # The code is only quoted when it reads as one: the page draws sentences as markdown.
        return "The provider did not complete the connection" + (
            f" ({self.error})." if _ERROR_CODE.fullmatch(self.error) else "."
        )

    def scope_rows(self) -> list[tuple[str, bool, bool]]:
        """``(scope, requested, granted)`` for each scope asked for or granted, requested first."""
        names = list(dict.fromkeys([*self.requested, *self.granted]))
        return [(s, s in self.requested, s in self.granted) for s in names]


def initiator_sentence(app_name: str, status: str, error: str) -> str:
    """What the tab that started a connect says when the broker reports it ended without a
    token: another browser or account finished it, it expired, or it failed."""
    if status == "refused" and error in {"other_user", "signed_out"}:
        return (
            f"The consent for {app_name} was completed in a browser where you are not signed in"
            " (or by another account), so nothing was stored for you and that approval was"
            " withdrawn at the provider. To connect, finish the consent yourself."
        )
    if status == "expired" or error == "expired":
        return f"The connection to {app_name} was not finished within 10 minutes; start it again."
    reason = ConnectOutcome(outcome="error", error=error).sentence
    return f"The connection to {app_name} did not complete: {reason}"
