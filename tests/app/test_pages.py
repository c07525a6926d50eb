"""The page registry and the frame around every page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.frame.navigation import SPECS, unregistered_pages
from dashboard.ui.failures import UNEXPECTED


def test_every_page_script_has_a_spec_and_every_spec_a_script() -> None:
    assert unregistered_pages() == []
    from dashboard.frame.navigation import PAGES_DIR

    assert all((PAGES_DIR / f"{s.stem}.py").is_file() for s in SPECS)


def test_the_connect_landing_page_needs_no_session(app: AppTest) -> None:
    app.run()
    app.switch_page("../pages/connected.py").run()
    assert not app.exception
    assert [t.value for t in app.title] == ["Connected"]


def test_an_unexpected_error_becomes_one_sentence_without_a_traceback() -> None:
    def page() -> None:
        from dashboard.ui.failures import errors_as_sentences

        with errors_as_sentences():
            raise RuntimeError("internal detail that must not be shown")

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert [e.value for e in at.error] == [UNEXPECTED]
