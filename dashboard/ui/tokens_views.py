"""The inventory at a glance: KPIs, filters, the table (with CSV export), the users × apps
matrix and the charts. Numbers come from ``dashboard.inventory.views``; this module only draws."""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import streamlit as st

from dashboard.inventory.page import InventoryKpis
from dashboard.inventory.status import TokenStatus
from dashboard.inventory.views import (
    COLUMNS,
    ENDING,
    RENEWED,
    Classified,
    FilterOptions,
    Filters,
    Kpis,
    app_counts,
    by_severity,
    expiry_timeline,
    matrix,
    status_counts,
    table_rows,
)
from dashboard.ui.tokens_actions import SELECTED_KEY, TABLE_GENERATION_KEY

MATRIX_MAX_OWNERS = 200
OPEN_LIST_MAX = 1000  # options in the "Open a token" list
# The table widget's key and the token ids of its rows, in order (for the selection callback).
SHOWN_KEY = "tokens__shown"
FILTER_KEYS = ("tokens__f_app", "tokens__f_status", "tokens__f_user", "tokens__f_tenant")
SCOPE_FILTER_KEY = "tokens__f_scope"
FILTER_MAX = 256  # characters of a text filter (the broker's inventory refuses longer ones)
ENDING_HELP = (
    "Connections whose access token expires within 24 hours and that no working refresh token"
    " renews: the user has to connect again. Tokens the service refreshes by itself are not"
    " counted."
)
# The hour axis in the browser's own time zone (Vega-Lite's default for temporal fields).
HOUR_FORMAT = "%a %d %b, %H:%M"


def render_kpis(numbers: Kpis) -> None:
    """Connections, healthy share, failing refreshes, connections that end within 24 h."""
    share = numbers.healthy_share
    first, second, third, fourth = st.columns(4)
    first.metric("Connections", numbers.connections, border=True)
    second.metric("Healthy", "—" if share is None else f"{share:.0%}", border=True)
    third.metric("Failing refreshes", numbers.failing_refreshes, border=True)
    fourth.metric("Ending within 24 h", numbers.ending_24h, border=True, help=ENDING_HELP)


def _clear_filters() -> None:
    """Callback: every filter back to "any"."""
    for key in FILTER_KEYS:
        st.session_state[key] = [] if key in ("tokens__f_app", "tokens__f_status") else ""
    st.session_state[SCOPE_FILTER_KEY] = ""


def shown_count(shown: int, total: int) -> None:
    """ "N of M shown" and, when filters hide some, the control that clears them."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption(f"{shown} of {total} connections shown")
        if shown < total or any(st.session_state.get(k) for k in (*FILTER_KEYS, SCOPE_FILTER_KEY)):
            st.button(
                "Clear filters",
                key="tokens__clear_filters",
                icon=":material/filter_alt_off:",
                type="tertiary",
                on_click=_clear_filters,
            )


def filter_controls(options: FilterOptions, app_names: dict[str, str]) -> Filters:
    """The filter widgets (offering ``options``); what they select."""
    with st.container(horizontal=True):
        chosen_apps = st.multiselect(
            "App",
            options.apps,
            format_func=lambda a: app_names.get(a) or a,
            key="tokens__f_app",
        )
        chosen = st.multiselect(
            "Status",
            options.statuses,
            format_func=lambda s: TokenStatus(s).label,
            key="tokens__f_status",
        )
    with st.container(horizontal=True):
        user = st.text_input("User name or email", key="tokens__f_user", max_chars=FILTER_MAX)
        tenant = (
            st.text_input("Tenant", key="tokens__f_tenant", max_chars=FILTER_MAX)
            if options.tenants
            else ""
        )
        scope = st.text_input("Scope contains", key=SCOPE_FILTER_KEY, max_chars=FILTER_MAX)
    return Filters(
        apps=tuple(chosen_apps),
        statuses=tuple(TokenStatus(s) for s in chosen),
        user_text=user,
        tenant_text=tenant,
        scope_text=scope,
    )


def _frame(classified: Classified, app_names: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(table_rows(classified, app_names), columns=list(COLUMNS))
    for column in ("expires", "last_refresh"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def browser_timezone() -> str:
    """The browser's time zone (IANA name), or UTC when the browser did not say."""
    return st.context.timezone or "UTC"


def _csv(frame: pd.DataFrame) -> bytes:
    """The export: every column but the display-only chips, times in UTC (ISO 8601)."""
    text: str = frame.drop(columns=["status_chip"], errors="ignore").to_csv(
        index=False, date_format="%Y-%m-%dT%H:%M:%SZ"
    )
    return text.encode()


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


def _shown_columns(frame: pd.DataFrame) -> list[str]:
    """The columns worth a place: never the ids, and none that is empty for every row."""
    optional = ("email", "tenant", "last_refresh", "last_refresh_error")
    hidden = {"token_id", "user_id", "app", "status"}
    hidden |= {c for c in optional if not frame[c].replace("", None).notna().any()}
    return [c for c in frame.columns if c not in hidden]


def render_table(
    classified: Classified,
    app_names: dict[str, str],
    export: Callable[[], Classified] | None = None,
) -> None:
    """The filterable table; selecting a row opens its detail below. With a CSV export of the
    rows, or of what ``export`` gives on the click (every page of a server-side view)."""
    frame = _frame(classified, app_names)
    frame.insert(frame.columns.get_loc("status") + 1, "status_chip", [[s] for s in frame["status"]])
    generation = st.session_state.get(TABLE_GENERATION_KEY, 0)
    table_key = f"tokens__table_{generation}"
    st.session_state[SHOWN_KEY] = (table_key, list(frame["token_id"]))
    zone = browser_timezone()
    statuses = list(TokenStatus)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=_shown_columns(frame),
        column_config={
            "owner": st.column_config.TextColumn("User or tenant"),
            "email": st.column_config.TextColumn("Email"),
            "tenant": st.column_config.TextColumn("Tenant"),
            "app_name": st.column_config.TextColumn(
                "App", help="The app's id is in the token's detail and in the CSV export."
            ),
            "status_chip": st.column_config.MultiselectColumn(
                "Status",
                options=[s.label for s in statuses],
                color=[s.colour for s in statuses],
            ),
            "expires": st.column_config.DatetimeColumn(
                "Access token expires",
                format="distance",
                timezone=zone,
                help="Refreshable tokens are renewed by the service before they expire.",
            ),
            "scopes": st.column_config.ListColumn("Scopes"),
            "has_refresh_token": st.column_config.CheckboxColumn("Refresh token"),
            "last_refresh": st.column_config.DatetimeColumn(
                "Last refresh", format="distance", timezone=zone
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
            listed["token_id"], listed["owner"], listed["app_name"], listed["status"], strict=True
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
        # Made on click, not on every run.
        data=lambda: _csv(frame if export is None else _frame(export(), app_names)),
        file_name="managed-tokens.csv",
        mime="text/csv",
        key="tokens__export",
        help="Token metadata only, times in UTC: no access or refresh token is ever exported.",
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


def _count_axis(title: str) -> alt.Axis:
    """A count axis with whole numbers only (no 0.5 connections)."""
    return alt.Axis(title=title, tickMinStep=1, format="d")


def render_charts(
    classified: Classified, app_names: dict[str, str], totals: InventoryKpis | None = None
) -> None:
    """Connections per app, the status breakdown, and when access tokens expire. ``totals``:
    the broker's numbers over every connection the filters keep, for the two breakdowns when
    ``classified`` is one page of them."""
    left, right = st.columns(2)
    with left:
        st.markdown("**Connections per app**")
        per_app = totals.by_app if totals else app_counts(classified)
        data = pd.DataFrame(
            {
                "app": [app_names.get(a) or a for a in per_app],
                "id": list(per_app),
                "connections": list(per_app.values()),
            }
        )
        bars = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("connections:Q", axis=_count_axis("Connections")),
                y=alt.Y("app:N", sort="-x", title=None),
                tooltip=["app", "id", "connections"],
            )
        )
        st.altair_chart(bars, width="stretch")
    with right:
        st.markdown("**Status breakdown**")
        counts = by_severity(totals.by_detail) if totals else status_counts(classified)
        data = pd.DataFrame(
            {"status": [s.label for s, _ in counts], "connections": [n for _, n in counts]}
        )
        chart = (
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("connections:Q", axis=_count_axis("Connections")),
                y=alt.Y("status:N", sort=None, title=None),
                color=alt.Color(
                    "status:N",
                    scale=alt.Scale(
                        domain=[s.label for s, _ in counts], range=[s.colour for s, _ in counts]
                    ),
                    legend=None,
                ),
                tooltip=["status", "connections"],
            )
        )
        st.altair_chart(chart, width="stretch")
    st.markdown("**Access tokens expiring in the next 7 days, per hour (your time zone)**")
    timeline = expiry_timeline(classified)
    if not timeline:
        st.caption("No access token expires in the next 7 days.")
        return
    data = pd.DataFrame(
        {
            "hour": [h for h, _, _ in timeline],
            "what": [k for _, k, _ in timeline],
            "tokens": [n for _, _, n in timeline],
        }
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "hour:T",
                timeUnit="yearmonthdatehours",
                axis=alt.Axis(title=None, format=HOUR_FORMAT),
            ),
            y=alt.Y("sum(tokens):Q", axis=_count_axis("Access tokens")),
            color=alt.Color(
                "what:N",
                scale=alt.Scale(domain=[RENEWED, ENDING], range=["#16a34a", "#dc2626"]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("hour:T", title="Hour", format=HOUR_FORMAT),
                alt.Tooltip("what:N", title="What happens"),
                alt.Tooltip("sum(tokens):Q", title="Access tokens"),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "Green: the service renews these access tokens by itself before they expire. Red: no"
        " working refresh token, so the connection ends unless the user connects again."
    )
