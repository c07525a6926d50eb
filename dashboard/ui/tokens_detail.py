"""One token in detail: metadata, scopes against what was asked for, the masked token with its
confirmed and audited reveal, decoded JWT claims, lifecycle history, and the actions.

A revealed access token is tied to the view it was revealed in (the selected token, the filters,
the open tab): when any of them changes, or the person leaves the page, it is hidden again.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import streamlit as st

from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    OutboundApp,
    TokenEvent,
    last_refreshed,
    record_reveal,
    token_history,
    was_deleted,
)
from dashboard.frame.keeper import current_client
from dashboard.frame.state import REVEALED_KEY
from dashboard.frame.widgets import literal, scope_chips
from dashboard.inventory.cache import forget_inventories
from dashboard.inventory.inspection import UNVERIFIED, decode_unverified, scope_findings
from dashboard.inventory.records import Connection
from dashboard.inventory.status import TokenStatus
from dashboard.inventory.trial import trial_request
from dashboard.ui.tokens_actions import (
    clear_selection,
    fetch_secret_token,
    render_actions,
    render_outcome,
)
from dashboard.ui.tokens_reconnect import render_reconnect
from dashboard.ui.tokens_views import browser_timezone

MASK = "••••••••••••••••"
VIEW_KEY = "tokens__view_now"
ASK_REVEAL_KEY = "tokens__ask_reveal"
NOT_AUDITED = "This service keeps no audit log, so this reveal was not recorded."


def local_time(moment: datetime | None, empty: str = "—") -> str:
    """``moment`` in the browser's time zone, with the UTC time beside it."""
    if moment is None:
        return empty
    try:
        zone = ZoneInfo(browser_timezone())
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    if local.utcoffset() == moment.utcoffset():
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({moment:%H:%M} UTC)"


def _metadata(
    connection: Connection,
    status: TokenStatus,
    app_name: str,
    history: tuple[TokenEvent, ...] | None,
) -> None:
    token = connection.token
    st.markdown(f"**{status.label}** — {status.meaning}")
    refreshed = max(
        (t for t in (token.last_refresh_time, last_refreshed(history or ())) if t),
        default=None,
    )
    rows = {
        "Owner": connection.owner_label,
        "Email": connection.user_email,
        "Tenant": connection.tenant_name or token.tenant_id,
        "App": f"{app_name} ({token.app_id})" if app_name != token.app_id else app_name,
        "Access token expires": local_time(token.access_token_expiry, "does not expire"),
        "Has a refresh token": "yes" if token.has_refresh_token else "no",
        "Last refresh": local_time(refreshed, "not refreshed since it was connected"),
        "Last refresh error": token.last_refresh_error,
        # Only when someone else connected it for them (on behalf of): otherwise the same id.
        "Granted by": token.granted_by if token.granted_by != token.user_id else "",
        "Provider subject": token.token_sub,
        "Token type": token.access_token_type,
        "Token id": token.id,
        "User id": token.user_id,
    }
    if token.failure_count:
        rows["Failed refreshes in a row"] = str(token.failure_count)
    if token.next_refresh_time is not None:
        rows["Next planned refresh"] = local_time(token.next_refresh_time)
    if token.expiry_assumed:
        rows["Expiry"] = "assumed (the provider did not say)"
    for name, value in sorted((token.provider_metadata or {}).items()):
        rows[f"Provider · {name}"] = value  # instance_url, team_id, realmId… (not secret)
    # st.table grows with its rows: the whole list is readable without an inner scroll bar.
    shown = {k: v for k, v in rows.items() if v}
    st.table(pd.DataFrame({"Value": list(shown.values())}, index=pd.Index(list(shown), name="")))


def _scopes(connection: Connection, app: OutboundApp | None) -> None:
    token = connection.token
    st.markdown("**Granted scopes**")
    scope_chips(token.scopes)
    findings = scope_findings(
        token.scopes, app.default_scopes if app else (), token.requested_scopes
    )
    if findings.not_granted:
        st.warning(
            f"The provider did not grant {findings.asked_for}: "
            f"{literal(', '.join(findings.not_granted))}."
        )
    elif findings.defaults_absent:
        st.caption(
            "Not known what was asked for at connect; of the app's default scopes this token"
            f" lacks {literal(', '.join(findings.defaults_absent))}."
        )
    if findings.rows:
        frame = pd.DataFrame(
            {
                "Scope": [r.scope for r in findings.rows],
                "Granted": [r.granted for r in findings.rows],
                "Requested": [r.requested for r in findings.rows],
                "App default": [r.default for r in findings.rows],
            }
        )
        st.dataframe(frame, hide_index=True, width="stretch", height="content")


def hide_reveal_unless(view: Hashable) -> None:
    """Hide a revealed access token unless it was revealed in this very ``view``."""
    st.session_state[VIEW_KEY] = view
    kept = st.session_state.get(REVEALED_KEY)
    if kept is not None and kept[1] != view:
        st.session_state.pop(REVEALED_KEY, None)
    asked = st.session_state.get(ASK_REVEAL_KEY)
    if asked is not None and asked[1] != view:
        st.session_state.pop(ASK_REVEAL_KEY, None)


def _ask_reveal(token_id: str) -> None:
    st.session_state[ASK_REVEAL_KEY] = (token_id, st.session_state.get(VIEW_KEY))


def _hide() -> None:
    st.session_state.pop(REVEALED_KEY, None)
    st.session_state.pop(ASK_REVEAL_KEY, None)


def _reveal(token_id: str) -> None:
    """Callback: the reveal was confirmed; record it (who, what, when), then show the token."""
    asked = st.session_state.pop(ASK_REVEAL_KEY, None)
    if asked is None or asked[0] != token_id:
        return
    try:
        recorded = record_reveal(current_client(), token_id)
    except DashboardError as exc:
        st.session_state[REVEALED_KEY] = (token_id, asked[1], exc.sentence)
        return
    st.session_state[REVEALED_KEY] = (token_id, asked[1], "" if recorded else NOT_AUDITED)


def _secret(connection: Connection) -> None:
    token_id = connection.token.id
    st.markdown("**Access token**")
    revealed = st.session_state.get(REVEALED_KEY)
    if revealed is None or revealed[0] != token_id:
        st.code(MASK, language=None)
        asked = st.session_state.get(ASK_REVEAL_KEY)
        if asked is None or asked[0] != token_id:
            st.button(
                "Reveal the access token…",
                key="tokens__reveal",
                icon=":material/visibility:",
                on_click=_ask_reveal,
                args=(token_id,),
            )
            return
        with st.container(border=True, key="tokens__reveal_confirm"):
            st.write(
                f"Show {literal(connection.owner_label)}'s access token on screen? Anyone who"
                " sees it can act as them at the provider until it expires. The reveal is"
                " recorded in the token's history with your name."
            )
            with st.container(horizontal=True):
                st.button(
                    "Reveal",
                    key="tokens__reveal_yes",
                    type="primary",
                    on_click=_reveal,
                    args=(token_id,),
                )
                st.button("Cancel", key="tokens__reveal_no", on_click=_hide)
        return
    if revealed[2]:
        st.caption(revealed[2])
    try:
        fetched = fetch_secret_token(connection)
    except DashboardError as exc:
        st.error(exc.sentence)
        return
    value = fetched.access_token.reveal()
    st.code(value, language=None)  # st.code has a copy button
    st.button("Hide", key="tokens__reveal_hide", icon=":material/visibility_off:", on_click=_hide)
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


def _history(token_id: str) -> tuple[TokenEvent, ...] | None:
    try:
        return token_history(current_client(), token_id)
    except DashboardError as exc:
        st.caption(exc.sentence)
        return None


def _show_history(history: tuple[TokenEvent, ...] | None) -> None:
    st.markdown("**History**")
    if history is None:
        st.caption("This service keeps no token history that the dashboard can read.")
        return
    if not history:
        st.caption("No events recorded for this token yet.")
        return
    zone = browser_timezone()
    frame = pd.DataFrame(
        {
            "When": pd.to_datetime([e.at for e in history], utc=True),
            "Event": [e.label for e in history],
            "Outcome": [e.outcome for e in history],
            "Detail": [e.detail for e in history],
        }
    )
    st.dataframe(
        frame.iloc[::-1],  # newest first
        hide_index=True,
        width="stretch",
        column_config={
            "When": st.column_config.DatetimeColumn(
                "When", format="YYYY-MM-DD HH:mm:ss", timezone=zone
            )
        },
    )


def render_detail(
    connection: Connection,
    status: TokenStatus,
    app: OutboundApp | None,
    template: CatalogTemplate | None,
) -> None:
    """The detail panel of one token; never of one deleted since the list was read."""
    history = _history(connection.token.id)
    if was_deleted(history or ()):
        # Deleted elsewhere (another tab, an agent, the SDK) while the kept list still holds
        # it: the list is read anew, where the owner's new token, if any, takes its place.
        forget_inventories()
        clear_selection()
        st.rerun()
    with st.container(border=True, key="tokens__detail"):
        name = app.name if app else connection.token.app_id
        st.subheader(f"{literal(connection.owner_label)} · {literal(name)}")
        render_actions(connection, trial_request(app, template))
        render_outcome()  # the outcome of an action right under its buttons
        render_reconnect(connection, status)
        left, right = st.columns(2)
        with left:
            _metadata(connection, status, name, history)
        with right:
            _scopes(connection, app)
            _secret(connection)
        _show_history(history)
