"""The "Use with an agent" page: the signed-in user's access keys and the MCP set-up.

A new key's cleartext is kept in this tab's session state until "I saved it", masked unless
the person reveals it, and never written anywhere else. Admins also see agent calls per app
and their failures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard.agent_setup import ProbeFailed, ServerCommand, client_config, list_tools
from dashboard.descope import (
    AccessKey,
    Secret,
    Session,
    agent_calls,
    create_access_key,
    delete_access_key,
    user_access_keys,
)
from dashboard.frame.gates import is_admin
from dashboard.frame.keeper import current_client
from dashboard.settings import Settings, get_settings
from dashboard.ui.failures import errors_as_sentences

FRESH_KEY = "agents__fresh_key"
EXPIRIES = {"30 days": 30, "90 days": 90, "1 year": 365, "Never": 0}
LOCAL_ONLY = (
    "Agents use this broker's proxy and MCP server (`outbound mcp`); against Descope cloud the "
    "page shows your access keys only."
)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _create_form(session: Session) -> None:
    with st.form("agents__create", border=True):
        st.markdown("**New access key** — an agent using it acts as you, for your connections.")
        name = st.text_input("Name", value="my agent", max_chars=200, key="agents__name")
        expiry = st.selectbox("Expires after", list(EXPIRIES), key="agents__expiry")
        apps = st.text_input("Only these apps (optional, comma-separated ids)", key="agents__apps")
        if not st.form_submit_button("Create access key", type="primary"):
            return
    days = EXPIRIES[str(expiry)]
    expire_time = int((datetime.now(UTC) + timedelta(days=days)).timestamp()) if days else 0
    app_ids = [a.strip() for a in apps.split(",") if a.strip()]
    key, cleartext = create_access_key(
        current_client(),
        session.user.user_id,
        name.strip() or "agent",
        expire_time=expire_time,
        app_ids=app_ids,
    )
    st.session_state[FRESH_KEY] = (key.id, cleartext)


def _fresh_key(command: ServerCommand) -> None:
    fresh = st.session_state.get(FRESH_KEY)
    if not fresh:
        return
    key_id, cleartext = fresh
    assert isinstance(cleartext, Secret)
    settings = get_settings()
    with st.container(border=True, key="agents__fresh"):
        st.success(
            "Access key created. It is shown only now: turn on “Show the key”, copy the "
            "configuration into your MCP client, then click “I saved it”.",
            icon=":material/key:",
        )
        reveal = st.toggle("Show the key", key="agents__reveal")
        st.code(client_config(settings, cleartext if reveal else None, command), language="json")
        with st.container(horizontal=True):
            if st.button("Test it", icon=":material/play_arrow:", key="agents__test"):
                _test(settings, cleartext, command)
            if st.button("I saved it", key="agents__saved"):
                del st.session_state[FRESH_KEY]
                st.rerun()
        st.caption(f"Key id {key_id}")


def _test(settings: Settings, key: Secret, command: ServerCommand) -> None:
    with st.spinner("Starting `outbound mcp` and listing its tools…"):
        try:
            tools = list_tools(settings, key, command)
        except ProbeFailed as exc:
            st.error(str(exc), icon=":material/error:")
            return
    st.success(f"The MCP server answered with {len(tools)} tools.", icon=":material/check:")
    rows = [{"Tool": t.name, "What it does": t.description} for t in tools]
    st.dataframe(rows, hide_index=True, key="agents__tools")


def _key_table(keys: tuple[AccessKey, ...]) -> None:
    st.subheader("Your access keys")
    if not keys:
        st.caption("No access keys yet.")
        return
    rows = [
        {
            "Name": k.name,
            "Id": k.id,
            "Active": k.active,
            "Apps": ", ".join(k.app_ids) or "all",
            "Expires": _when(k.expires),
            "Last used": _when(k.last_used),
        }
        for k in keys
    ]
    st.dataframe(rows, hide_index=True, key="agents__keys")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Revoke a key",
            [k.id for k in keys],
            format_func=lambda i: next(f"{k.name} ({k.id})" for k in keys if k.id == i),
            key="agents__revoke_pick",
        )
        if st.button("Revoke", icon=":material/delete:", key="agents__revoke"):
            # Only ids listed for this user can be picked: the management key never touches
            # another person's key from this page.
            delete_access_key(current_client(), str(chosen))
            st.toast("Access key revoked; agents using it stop working now.")
            st.rerun()


def _admin_figures() -> None:
    st.subheader("Agent calls (last 7 days)")
    figures = agent_calls(current_client(), days=7)
    if not figures:
        st.caption("No agent has called a provider yet.")
        return
    rows = [
        {
            "App": f.app_id,
            "Calls": f.calls,
            "Failures": f.failures,
            "Latest failure": f.last_failure or "—",
        }
        for f in figures
    ]
    st.dataframe(rows, hide_index=True, key="agents__calls")


def render_agents_page(session: Session) -> None:
    """The whole page for the signed-in user (admins see agent figures too)."""
    st.title("Use with an agent")
    settings = get_settings()
    st.markdown(
        "Give an AI agent your connections without giving it a token: the agent talks to "
        "`outbound mcp`, which calls providers through the broker with your tokens."
    )
    if not settings.is_local:
        st.info(LOCAL_ONLY, icon=":material/info:")
    command = ServerCommand.here()
    with errors_as_sentences():
        _create_form(session)
        _fresh_key(command)
        _key_table(user_access_keys(current_client(), session.user.user_id))
        st.subheader("MCP client configuration")
        st.code(client_config(settings, None, command), language="json")
        if settings.is_local and is_admin(session):
            _admin_figures()
