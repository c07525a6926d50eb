"""AppTest fixtures: the dashboard's entrypoint run in-process against a live broker.

Every module runs twice: against the embedded broker (``local``) and against the broker in
strict mode standing in for Descope's cloud (``strict``; tests/support/dashboard.py).

Reuse them for a new page: ``app`` is a fresh, not-yet-run AppTest of the entrypoint pointed at
``live``; ``signed_in_app(login_id, roles=...)`` returns one already signed in through the form.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.dashboard import (
    ENTRYPOINT,
    PASSWORD,
    create_user,
    point_dashboard_at,
)
from tests.support.servers import LiveBroker


@pytest.fixture
def app(live: LiveBroker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    """The entrypoint, pointed at ``live``, not yet run."""
    point_dashboard_at(monkeypatch, live, tmp_path)
    return AppTest.from_file(str(ENTRYPOINT), default_timeout=30)


def sign_in(at: AppTest, login_id: str, password: str = PASSWORD) -> AppTest:
    """Fill the password form and submit it."""
    at.text_input(key="sign_in__login_id").set_value(login_id)
    at.text_input(key="sign_in__password").set_value(password)
    at.button(key="sign_in__submit").click()
    return at.run()


@pytest.fixture
def signed_in_app(live: LiveBroker, app: AppTest) -> Callable[..., AppTest]:
    """``signed_in_app(login_id, roles=())``: a new user signed in through the form."""

    def make(login_id: str, roles: tuple[str, ...] = ()) -> AppTest:
        create_user(live, login_id, roles=roles)
        return sign_in(app.run(), login_id)

    return make
