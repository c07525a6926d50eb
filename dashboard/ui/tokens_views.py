"""The inventory at a glance: KPIs, filters, the table (with CSV export), the users × apps
matrix and the charts. Numbers come from ``dashboard.inventory_views``; this module only draws."""

from __future__ import annotations

import altair as alt
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import streamlit as st

from dashboard.inventory_views import (
    COLUMNS,
    Classified,
    Filters,
    app_counts,
    expiry_timeline,
    kpis,
    matrix,
    status_counts,
    table_rows,
)
from dashboard.token_status import SEVERITY, TokenStatus
from dashboard.ui.tokens_actions import SELECTED_KEY, TABLE_GENERATION_KEY

MATRIX_MAX_OWNERS = 200
OPEN_LIST_MAX = 1000  # options in the "Open a token" list
# The table widget's key and the token ids of its rows, in order (for the selection callback).
SHOWN_KEY = "tokens__shown"


def render_kpis(classified: Classified) -> None:
    """Connections, healthy share, failing refreshes, expiring within 24 h."""
    numbers = kpis(classified)
    share = numbers.healthy_share
    first, second, third, fourth = st.columns(4)
    first.metric("Connections", numbers.connections, border=True)
    second.metric("Healthy", "—" if share is None else f"{share:.0%}", border=True)
    third.metric("Failing refreshes", numbers.failing_refreshes, border=True)
    fourth.metric("Expiring in 24 h", numbers.expiring_24h, border=True)


def filter_controls(classified: Classified) -> Filters:
    """The filter widgets; what they select."""
    apps = sorted({c.token.app_id for c, _ in classified.rows})
    present = {s for _, s in classified.rows}
    with st.container(horizontal=True):
        chosen_apps = st.multiselect("App", apps, key="tokens__f_app")
        chosen = st.multiselect(
            "Status",
            [s for s in SEVERITY if s in present],
            format_func=lambda s: TokenStatus(s).label,
            key="tokens__f_status",
        )
    with st.container(horizontal=True):
        user = st.text_input("User name or email", key="tokens__f_user")
        tenant = st.text_input("Tenant", key="tokens__f_tenant")
        scope = st.text_input("Scope contains", key="tokens__f_scope")
    return Filters(
        apps=tuple(chosen_apps),
        statuses=tuple(TokenStatus(s) for s in chosen),
        user_text=user,
        tenant_text=tenant,
        scope_text=scope,
    )


def _frame(classified: Classified) -> pd.DataFrame:
    frame = pd.DataFrame(table_rows(classified), columns=list(COLUMNS))
    for column in ("expires", "last_refresh"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _picked() -> None:
    """Callback: a row of the table was selected (or unselected)."""
    table_key, token_ids = st.session_state.get(SHOWN_KEY, ("", []))
    event = st.session_state.get(table_key)
    rows = list(event["selection"]["rows"]) if event else []
    if rows and rows[0] < len(token_ids):
        st.session_state[SELECTED_KEY] = token_ids[rows[0]]


def _opened() -> None:
    """Callback: a token was chosen in the list."""
    chosen = st.session_state.get("tokens__open")
    if chosen:
        st.session_state[SELECTED_KEY] = chosen


def render_table(classified: Classified) -> None:
    """The filterable table; selecting a row opens its detail below. With a CSV export."""
    frame = _frame(classified)
    generation = st.session_state.get(TABLE_GENERATION_KEY, 0)
    table_key = f"tokens__table_{generation}"
    st.session_state[SHOWN_KEY] = (table_key, list(frame["token_id"]))
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=[c for c in COLUMNS if c not in ("token_id", "user_id")],
        column_config={
            "owner": st.column_config.TextColumn("User or tenant", pinned=True),
            "email": st.column_config.TextColumn("Email"),
            "tenant": st.column_config.TextColumn("Tenant"),
            "app": st.column_config.TextColumn("App"),
            "status": st.column_config.TextColumn("Status"),
            "expires": st.column_config.DatetimeColumn(
                "Expires", format="distance", timezone="UTC"
            ),
            "scopes": st.column_config.ListColumn("Scopes"),
            "has_refresh_token": st.column_config.CheckboxColumn("Refresh token"),
            "last_refresh": st.column_config.DatetimeColumn(
                "Last refresh", format="distance", timezone="UTC"
            ),
            "last_refresh_error": st.column_config.TextColumn("Last refresh error"),
        },
        on_select=_picked,
        selection_mode="single-row",
        key=table_key,
    )
    # A list of the same rows, for keyboards and screen readers (the grid is a canvas). Capped:
    # 10,000 options cost the browser ≈0.7 s of the first paint (docs/performance.md), and a
    # list that long is found through the filters above anyway.
    listed = frame.head(OPEN_LIST_MAX)
    labels = {
        str(token_id): f"{owner} · {app} · {status}"
        for token_id, owner, app, status in zip(
            listed["token_id"], listed["owner"], listed["app"], listed["status"], strict=True
        )
    }
    st.selectbox(
        "Open a token",
        list(labels),
        index=None,
        format_func=lambda token_id: labels.get(token_id, token_id),
        placeholder="Choose a connection, or select a row above",
        key="tokens__open",
        on_change=_opened,
    )
    if len(frame) > OPEN_LIST_MAX:
        st.caption(
            f"The list offers the first {OPEN_LIST_MAX:,} of {len(frame):,}; filter to narrow."
        )
    st.download_button(
        "Download CSV",
        data=lambda: frame.to_csv(index=False).encode(),  # made on click, not on every run
        file_name="managed-tokens.csv",
        mime="text/csv",
        key="tokens__export",
        help="Token metadata only: no access or refresh token is ever exported.",
    )


def render_matrix(classified: Classified) -> None:
    """Owners × apps, each cell coloured by the worst status of its tokens."""
    owners, apps, cells = matrix(classified)
    if len(owners) > MATRIX_MAX_OWNERS:
        st.caption(f"Showing the first {MATRIX_MAX_OWNERS} of {len(owners)}; filter to narrow.")
        owners = owners[:MATRIX_MAX_OWNERS]
    frame = pd.DataFrame(
        [[cells[(o, a)].label if (o, a) in cells else "" for a in apps] for o in owners],
        index=owners,
        columns=apps,
    )
    colours = {s.label: s.colour for s in TokenStatus}
    styled = frame.style.map(
        lambda v: f"background-color: {colours[v]}; color: white" if v in colours else ""
    )
    st.dataframe(styled, width="stretch")


def render_charts(classified: Classified) -> None:
    """Connections per app, the status breakdown, and when access tokens expire."""
    left, right = st.columns(2)
    with left:
        st.markdown("**Connections per app**")
        per_app = app_counts(classified)
        st.bar_chart(
            pd.DataFrame({"app": list(per_app), "connections": list(per_app.values())}),
            x="app",
            y="connections",
        )
    with right:
        st.markdown("**Status breakdown**")
        counts = status_counts(classified)
        data = pd.DataFrame(
            {"status": [s.label for s, _ in counts], "connections": [n for _, n in counts]}
        )
        chart = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("connections:Q", title="Connections"),
                y=alt.Y("status:N", sort=None, title=None),
                color=alt.Color(
                    "status:N",
                    scale=alt.Scale(
                        domain=[s.label for s, _ in counts], range=[s.colour for s, _ in counts]
                    ),
                    legend=None,
                ),
            )
        )
        st.altair_chart(chart, width="stretch")
    st.markdown("**Access tokens expiring, next 7 days (per hour)**")
    timeline = expiry_timeline(classified)
    if not timeline:
        st.caption("No access token expires in the next 7 days.")
        return
    st.bar_chart(
        pd.DataFrame({"hour": [h for h, _ in timeline], "expiring": [n for _, n in timeline]}),
        x="hour",
        y="expiring",
    )
