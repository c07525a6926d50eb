"""The outbound apps page's one-sentence notices, left by an action for the next run."""

from __future__ import annotations

from typing import Literal

import streamlit as st

NOTICE_KEY = "apps__notice"
NoticeKind = Literal["success", "warning", "error", "info"]


def notify(kind: NoticeKind, sentence: str) -> None:
    """Leave ``sentence`` to be shown at the top of the page on the next run."""
    st.session_state[NOTICE_KEY] = (kind, sentence)


def show_notice() -> None:
    """Show (once) the notice an action left."""
    pending = st.session_state.pop(NOTICE_KEY, None)
    if not pending:
        return
    kind, sentence = pending
    show = {"success": st.success, "warning": st.warning, "error": st.error, "info": st.info}
    show.get(kind, st.info)(sentence)
