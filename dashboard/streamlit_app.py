"""Entrypoint: ``python -m streamlit run dashboard`` (from the repository root).

Streamlit imports this file as a module to find ``app`` (an ``st.App`` with the session-cookie
route, dashboard/frame/remember.py), then runs the same file as ``__main__`` for every page view.
"""

from __future__ import annotations

import streamlit as st

if __name__ != "__main__":
    from starlette.middleware import Middleware

    from dashboard.demo_mode import LoopbackOnly, demo_mode_on, refusal
    from dashboard.frame.remember import routes
    from dashboard.settings import environment

    # Imported once at start-up, before the server answers anything: demo mode refuses to run
    # on a non-loopback address (the process exits), and serves loopback connections only.
    env = environment()
    refused = refusal(env, st.get_option("server.address"))
    if refused:
        raise SystemExit(f"outbound dashboard: {refused}")
    guard = [Middleware(LoopbackOnly)] if demo_mode_on(env) else []
    app = st.App(__file__, routes=routes(), middleware=guard)
else:
    from dashboard.frame.keeper import restore_from_cookie, session_keeper, sync_cookie
    from dashboard.frame.navigation import build_navigation
    from dashboard.frame.state import current_session, enter_page, show_flash
    from dashboard.ui.demo import demo_notice
    from dashboard.ui.failures import errors_as_sentences

    st.set_page_config(page_title="Outbound Dashboard", page_icon="🔐", layout="wide")
    with errors_as_sentences():
        restore_from_cookie()
        current = build_navigation(signed_in=current_session() is not None)
        enter_page(current.url_path)
        with st.sidebar:
            if current_session() is not None:
                session_keeper()
            sync_cookie()
        show_flash()
        demo_notice()
        current.run()
