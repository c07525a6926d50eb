"""Connect options (Descope's ``connect()``), the authorization-URL inspector and the link.

Options: scopes (the app's defaults; the catalog's known scopes with descriptions, plus free
text); for admins and developers only, under "Advanced": redirect URL (the dashboard's landing
page unless edited), tenant, and an explicit refresh JWT to connect on behalf of its holder (a
password field, cleared once used). The link appears in the card that asked for it.
"""

from __future__ import annotations

import streamlit as st

from dashboard.authorization_url import decode_authorization_url, split_scopes
from dashboard.descope import (
    CatalogTemplate,
    DashboardError,
    NotFound,
    OutboundApp,
    Secret,
    Session,
)
from dashboard.frame.gates import sees_advanced
from dashboard.frame.widgets import (
    ConnectAction,
    PendingConnect,
    current_connect,
    follow_link,
    forget_connect,
    landing_url,
    literal,
    scope_chips,
)
from dashboard.ui.apps_notice import notify

SELECTED_KEY = "apps__selected"
CONNECT_ERROR_KEY = "apps__connect_error"
SHOW_URL_KEY = "apps__show_url"


def _key(name: str, app_id: str) -> str:
    return f"apps__{name}__{app_id}"


def known_scopes(app: OutboundApp, template: CatalogTemplate | None) -> list[str]:
    """The scopes the picker offers: the app's defaults, then the catalog's known scopes."""
    names = [*app.default_scopes, *(s.name for s in template.scopes)] if template else []
    return list(dict.fromkeys(names or app.default_scopes))


def _start(app: OutboundApp) -> None:
    """The "Get the authorization link" callback: connect, remember the link, clear the token."""
    state = st.session_state
    picked = list(state.get(_key("scopes", app.id)) or [])
    scopes = list(dict.fromkeys([*picked, *split_scopes(state.get(_key("extra", app.id), ""))]))
    pasted = str(state.get(_key("on_behalf", app.id)) or "").strip()
    state[_key("on_behalf", app.id)] = ""  # never kept in a widget once used
    state.pop(CONNECT_ERROR_KEY, None)
    try:
        ConnectAction(default_app_id=app.id)(
            app_name=app.name,
            scopes=scopes,
            redirect_url=str(state.get(_key("redirect", app.id)) or "").strip(),
            tenant_id=str(state.get(_key("tenant", app.id)) or ""),
            token=Secret(pasted) if pasted else None,
        )
    except NotFound as exc:
        state.pop(SELECTED_KEY, None)
        notify("error", exc.sentence)
        return
    except DashboardError as exc:
        state[CONNECT_ERROR_KEY] = (app.id, exc.sentence)
        return
    state.pop(SELECTED_KEY, None)


def _close() -> None:
    st.session_state.pop(SELECTED_KEY, None)
    st.session_state.pop(CONNECT_ERROR_KEY, None)


def render_connect_options(
    app: OutboundApp, template: CatalogTemplate | None, session: Session
) -> None:
    """The options of a connect to ``app`` and the button that asks for the link."""
    offered = known_scopes(app, template)

    def describe(scope: str) -> str:
        description = template.describe(scope) if template else ""
        return f"{scope} — {description}" if description else scope

    st.markdown(f"**Connect to {literal(app.name)}**")
    st.multiselect(
        "Scopes",
        offered,
        default=[s for s in app.default_scopes if s in offered],
        format_func=describe,
        key=_key("scopes", app.id),
        help="Starts with the app's default scopes; none selected means the defaults.",
    )
    st.text_input(
        "More scopes (space-separated, free text)",
        key=_key("extra", app.id),
        placeholder="e.g. calendar.write",
    )
    if sees_advanced(session):
        with st.expander("Advanced", icon=":material/tune:"):
            st.text_input("Redirect URL", value=landing_url(), key=_key("redirect", app.id))
            tenants = ", ".join(t.tenant_id for t in session.user.tenants) or "none"
            st.text_input("Tenant (optional)", key=_key("tenant", app.id), help=f"Yours: {tenants}")
            st.text_input(
                "Connect on behalf of (a refresh JWT, optional)",
                type="password",
                key=_key("on_behalf", app.id),
                help=(
                    "The connection is made for the holder of this token instead of you; they"
                    " must finish the consent themselves, signed in to the dashboard in that"
                    " browser."
                ),
            )
    failed = st.session_state.get(CONNECT_ERROR_KEY)
    if failed and failed[0] == app.id:
        st.error(failed[1], icon=":material/error:")
    with st.container(horizontal=True):
        st.button(
            "Get the authorization link",
            type="primary",
            key=_key("start", app.id),
            on_click=_start,
            args=(app,),
        )
        st.button("Close", key=_key("close", app.id), on_click=_close)


def _inspector_rows(pending: PendingConnect) -> list[dict[str, str]]:
    request = decode_authorization_url(pending.url)
    rows = [
        ("Provider host", request.provider_host),
        ("Authorization endpoint", request.endpoint),
        ("Client id", request.client_id),
        ("Redirect URI", request.redirect_uri),
        ("Response type", request.response_type),
        *[("Scope", scope) for scope in request.scopes],
        ("PKCE", request.pkce_method or "none"),
        ("State", request.state_masked or "none"),
        *[(f"Extra: {k}", v) for k, v in request.extra],
    ]
    return [{"Part": part, "Value": value} for part, value in rows]


def render_pending() -> None:
    """The tab's pending connect: requested scopes, the inspector, the link and its copy."""
    pending = current_connect()
    if pending is None:
        return
    with st.container(border=True, key="apps__pending"):
        st.markdown(f"**Authorization link for {literal(pending.app_name)}**")
        if pending.on_behalf:
            st.caption("On behalf of the holder of the pasted refresh token.")
        st.caption("Requested scopes" + ("" if pending.requested else ": the app's defaults"))
        scope_chips(pending.requested, empty="default scopes")
        try:
            rows = _inspector_rows(pending)
        except ValueError:
            st.error("The service answered a link that is not a web address; do not follow it.")
            return
        st.dataframe(rows, hide_index=True, key="apps__inspector", height="content")
        for warning in decode_authorization_url(pending.url).warnings():
            st.warning(warning)
        st.caption(f"After the consent the provider sends you to {literal(pending.redirect_url)}")
        with st.container(horizontal=True):
            follow_link(pending)
            st.toggle("Show the link to copy", key=SHOW_URL_KEY)
            st.button("Cancel", key="apps__pending_cancel", on_click=forget_connect)
        if st.session_state.get(SHOW_URL_KEY):
            st.code(pending.url, language=None, wrap_lines=True)
