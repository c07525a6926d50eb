"""One token in detail: metadata, scopes against the app's, the masked token with its reveal,
decoded JWT claims, refresh history, and the actions."""

from __future__ import annotations

from datetime import datetime

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import streamlit as st

from dashboard.descope import tokens
from dashboard.descope.errors import DashboardError
from dashboard.descope.outbound import CatalogTemplate, OutboundApp
from dashboard.inventory_records import Connection
from dashboard.target import current_target
from dashboard.token_inspection import (
    UNVERIFIED,
    compare_scopes,
    decode_unverified,
    missing_defaults,
)
from dashboard.token_status import TokenStatus
from dashboard.token_trial import trial_request
from dashboard.ui.tokens_actions import fetch_secret_token, render_actions
from dashboard.widgets import literal, scope_chips

MASK = "••••••••••••••••"
REVEAL_PREFIX = "tokens__reveal__"


def _when(moment: datetime | None, empty: str = "—") -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else empty


def _metadata(connection: Connection, status: TokenStatus) -> None:
    token = connection.token
    st.markdown(f"**{status.label}** — {status.meaning}")
    rows = {
        "Token id": token.id,
        "Owner": connection.owner_label,
        "Email": connection.user_email or "—",
        "User id": token.user_id or "—",
        "Tenant": connection.tenant_name or token.tenant_id or "—",
        "App": token.app_id,
        "Access token expires": _when(token.access_token_expiry, "does not expire"),
        "Has a refresh token": "yes" if token.has_refresh_token else "no",
        "Last refresh": _when(token.last_refresh_time, "never"),
        "Last refresh error": token.last_refresh_error or "—",
        "Granted by": token.granted_by or "—",
        "Provider subject": token.token_sub or "—",
        "Token type": token.access_token_type,
    }
    if token.failure_count is not None:
        rows["Failed refreshes in a row"] = str(token.failure_count)
    if token.next_refresh_time is not None:
        rows["Next planned refresh"] = _when(token.next_refresh_time)
    if token.expiry_assumed:
        rows["Expiry"] = "assumed (the provider did not say)"
    for name, value in sorted((token.provider_metadata or {}).items()):
        rows[f"Provider · {name}"] = value  # instance_url, team_id, realmId… (not secret)
    frame = pd.DataFrame({"Field": list(rows), "Value": list(rows.values())})
    st.dataframe(frame, hide_index=True, width="stretch")


def _scopes(connection: Connection, app: OutboundApp | None) -> None:
    token = connection.token
    st.markdown("**Granted scopes**")
    scope_chips(token.scopes)
    default = app.default_scopes if app else ()
    missing = missing_defaults(token.scopes, default)
    if missing:
        st.warning(
            f"The provider did not grant these default scopes: {literal(', '.join(missing))}."
        )
    rows = compare_scopes(token.scopes, default, token.requested_scopes)
    if rows:
        frame = pd.DataFrame(
            {
                "Scope": [r.scope for r in rows],
                "Granted": [r.granted for r in rows],
                "App default": [r.default for r in rows],
                "Requested": [r.requested for r in rows],
            }
        )
        st.dataframe(frame, hide_index=True, width="stretch")


def _secret(connection: Connection) -> None:
    token_id = connection.token.id
    st.markdown("**Access token**")
    revealed = st.toggle(
        "Reveal the access token",
        key=f"{REVEAL_PREFIX}{token_id}",
        help="Fetches the token now (it is refreshed first when due); it is never cached.",
    )
    if not revealed:
        st.code(MASK, language=None)
        return
    try:
        fetched = fetch_secret_token(connection)
    except DashboardError as exc:
        st.error(exc.sentence)
        return
    value = fetched.access_token.reveal()
    st.code(value, language=None)  # st.code has a copy button
    decoded = decode_unverified(value)
    if decoded is None:
        st.caption("This access token is opaque (not a JWT), so there are no claims to show.")
        return
    st.warning(UNVERIFIED, icon=":material/warning:")
    left, right = st.columns(2)
    left.markdown("Header")
    left.json(decoded.header)
    right.markdown("Claims")
    right.json(decoded.claims)


def _history(token_id: str) -> None:
    st.markdown("**Refresh history**")
    try:
        events = tokens.token_history(current_target().transport, token_id)
    except DashboardError as exc:
        st.caption(exc.sentence)
        return
    if events is None:
        st.caption("This service keeps no refresh history that the dashboard can read.")
        return
    if not events:
        st.caption("No events recorded for this token yet.")
        return
    frame = pd.DataFrame(
        {
            "When": [e.at for e in events],
            "Event": [e.kind for e in events],
            "Outcome": [e.outcome for e in events],
            "Detail": [e.detail for e in events],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")


def render_detail(
    connection: Connection,
    status: TokenStatus,
    app: OutboundApp | None,
    template: CatalogTemplate | None,
) -> None:
    """The detail panel of one token."""
    with st.container(border=True, key="tokens__detail"):
        name = app.name if app else connection.token.app_id
        st.subheader(f"{literal(connection.owner_label)} · {literal(name)}")
        render_actions(connection, trial_request(app, template))
        left, right = st.columns(2)
        with left:
            _metadata(connection, status)
        with right:
            _scopes(connection, app)
            _secret(connection)
        _history(connection.token.id)
