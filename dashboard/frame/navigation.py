"""The page registry: one PageSpec per ``pages/*.py`` script, building ``st.navigation``.

Pages live in the top-level ``pages/`` (never beside the entrypoint: that switches Streamlit to
its legacy multipage mode, streamlit.md §1.2). Gated pages stay registered, hidden, when signed
out, so a deep link resolves and the page sends the person to sign in with ``next``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
SIGN_IN = "sign_in"
HOME = "outbound_apps"


@dataclass(frozen=True)
class PageSpec:
    """A page script, how it is shown, and whether it needs a signed-in session."""

    stem: str
    title: str
    icon: str
    needs_session: bool = True
    hidden: bool = False


SPECS: tuple[PageSpec, ...] = (
    PageSpec(SIGN_IN, "Sign in", ":material/login:", needs_session=False),
    PageSpec("outbound_apps", "Outbound apps", ":material/apps:"),
    PageSpec("tokens", "Managed tokens", ":material/key:"),
    PageSpec("agents", "Use with an agent", ":material/smart_toy:"),
    PageSpec("connected", "Connected", ":material/link:", needs_session=False, hidden=True),
)


def spec(stem: str) -> PageSpec:
    """The PageSpec of ``stem``; KeyError for an unknown page."""
    for candidate in SPECS:
        if candidate.stem == stem:
            return candidate
    raise KeyError(stem)


def is_page(stem: str) -> bool:
    """Whether ``stem`` names a registered page (guards ``next`` against open redirects)."""
    return any(s.stem == stem for s in SPECS)


def page(stem: str, *, default: bool = False, hidden: bool | None = None) -> st.Page:
    """The ``st.Page`` of a registered page; also what ``st.switch_page`` is given."""
    s = spec(stem)
    return st.Page(
        PAGES_DIR / f"{stem}.py",
        title=s.title,
        icon=s.icon,
        url_path=stem,
        default=default,
        visibility="hidden" if (s.hidden if hidden is None else hidden) else "visible",
    )


def unregistered_pages() -> list[str]:
    """``pages/*.py`` scripts without a PageSpec (each new page needs one)."""
    found = {p.stem for p in PAGES_DIR.glob("*.py") if not p.name.startswith("_")}
    return sorted(found - {s.stem for s in SPECS})


def _root(home: str) -> st.Page:
    """The app's root URL, sending on to ``home``.

    Streamlit serves the default page at "/" and gives it the url_path "" (navigation/page.py),
    so a page that is itself the default answers "Page not found" at its own name: typing
    ``/outbound_apps`` while signed in did. The default is this hidden step instead.
    """

    def go_home() -> None:
        st.switch_page(page(home))

    return st.Page(
        go_home, title=spec(home).title, url_path="home", default=True, visibility="hidden"
    )


def build_navigation(*, signed_in: bool) -> st.Page:
    """Register every page (gated ones hidden while signed out) and return the current one."""
    missing = unregistered_pages()
    if missing:
        raise RuntimeError(
            f"pages/ scripts without a PageSpec in dashboard/frame/navigation.py: {missing}"
        )
    home = HOME if signed_in else SIGN_IN
    pages = [_root(home)] + [
        page(
            s.stem,
            hidden=s.hidden
            or (s.needs_session and not signed_in)
            or (s.stem == SIGN_IN and signed_in),
        )
        for s in SPECS
    ]
    current: st.Page = st.navigation(pages, position="sidebar")
    return current
