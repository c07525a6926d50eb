"""Never a traceback: an error while a page runs becomes one sentence for the person."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from dashboard.descope import (
    DashboardError,
)

UNEXPECTED = "Something unexpected went wrong on this page; it has been logged. Please try again."

log = logging.getLogger(__name__)


@contextmanager
def errors_as_sentences() -> Iterator[None]:
    """Show a DashboardError's sentence, or a generic sentence for anything else (logged).

    Streamlit's own control flow (``st.rerun``, ``st.switch_page``, ``st.stop``) derives from
    BaseException, so it passes through untouched.
    """
    try:
        yield
    except DashboardError as exc:
        st.error(exc.sentence, icon=":material/error:")
    except Exception:
        log.exception("page failed")
        st.error(UNEXPECTED, icon=":material/error:")
