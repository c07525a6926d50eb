"""The sign-in page's forms: password, email code and sign-up (and, in demo mode, the outbox)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.descope import (
    AuthResult,
    DashboardError,
    DescopeClient,
    otp_start,
    otp_verify,
    password_sign_in,
    password_sign_up,
)
from dashboard.frame.keeper import current_client, start_session
from dashboard.frame.navigation import HOME, is_page, page
from dashboard.frame.plain_text import literal
from dashboard.frame.state import flash
from dashboard.settings import get_settings
from dashboard.ui.demo import developer_outbox

OTP_SENT_KEY = "sign_in__otp_login_id"


def _next_page() -> str:
    wanted = st.query_params.get("next", "")
    return wanted if is_page(wanted) and wanted != "sign_in" else HOME


def _finish(attempt: Callable[[], AuthResult]) -> None:
    """Run a sign-in call; on success keep the session and go on, else show its sentence."""
    try:
        session = start_session(attempt())
    except DashboardError as exc:
        st.error(exc.sentence, icon=":material/error:")
        return
    flash(f"Signed in as {literal(session.user.display_name)}.", icon=":material/check_circle:")
    st.switch_page(page(_next_page()))


def password_form(client: DescopeClient) -> None:
    """Login id and password."""
    with st.form("sign_in__password_form"):
        login_id = st.text_input("Login id or email", key="sign_in__login_id")
        password = st.text_input("Password", type="password", key="sign_in__password")
        submitted = st.form_submit_button("Sign in", type="primary", key="sign_in__submit")
    if submitted:
        if not login_id or not password:
            st.error("Enter your login id and password.")
            return
        _finish(lambda: password_sign_in(client, login_id.strip(), password))


def otp_form(client: DescopeClient) -> None:
    """Email a one-time code, then verify it."""
    with st.form("sign_in__otp_start_form"):
        login_id = st.text_input("Email", key="sign_in__otp_email")
        send = st.form_submit_button("Email me a code", key="sign_in__otp_send")
    if send:
        if not login_id:
            st.error("Enter your email.")
        else:
            try:
                started = otp_start(client, login_id.strip())
            except DashboardError as exc:
                st.error(exc.sentence, icon=":material/error:")
            else:
                st.session_state[OTP_SENT_KEY] = login_id.strip()
                to = literal(started.masked_email or login_id.strip())
                st.success(f"We sent a code to {to}.")
    sent_to = st.session_state.get(OTP_SENT_KEY)
    if not isinstance(sent_to, str):
        return
    with st.form("sign_in__otp_verify_form"):
        code = st.text_input("Code", key="sign_in__otp_code", max_chars=12)
        verify = st.form_submit_button("Verify code", type="primary", key="sign_in__otp_verify")
    if verify:
        if not code:
            st.error("Enter the code from the email.")
            return
        _finish(lambda: otp_verify(client, sent_to, code.strip()))


def sign_up_form(client: DescopeClient) -> None:
    """Create an account with a password."""
    with st.form("sign_in__sign_up_form"):
        login_id = st.text_input("Email", key="sign_in__new_login_id")
        name = st.text_input("Name", key="sign_in__new_name")
        password = st.text_input("Password", type="password", key="sign_in__new_password")
        create = st.form_submit_button("Create account", key="sign_in__sign_up")
    if create:
        if not login_id or not password:
            st.error("Enter an email and a password.")
            return
        email = login_id.strip() if "@" in login_id else ""
        _finish(
            lambda: password_sign_up(
                client, login_id.strip(), password, name=name.strip(), email=email
            )
        )


def render_sign_in() -> None:
    """The whole sign-in page body."""
    settings, client = get_settings(), current_client()
    st.caption(f"Signing in to: {settings.target_label}")
    password_tab, otp_tab, sign_up_tab = st.tabs(["Password", "Email code", "Sign up"])
    with password_tab:
        password_form(client)
    with otp_tab:
        otp_form(client)
    with sign_up_tab:
        sign_up_form(client)
    if settings.demo_mode:
        developer_outbox(client)
