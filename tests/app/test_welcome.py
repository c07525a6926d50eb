"""The first-run banner: what to click first, only against the embedded broker, until done.

The whole journey with ``outbound up`` is in tests/e2e/test_newcomer_journey.py; these pin the
rules: where it shows, that "Hide" keeps it away, that a connection or Descope cloud ends it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui.welcome import CONNECT_STEP, DEMO_APP_ID, SIGN_IN_STEP, TOKENS_STEP
from tests.support.dashboard import ENTRYPOINT, LOCAL_ONLY, point_dashboard_at
from tests.support.outbound import create_demo_app
from tests.support.provider import LiveProvider, running_provider
from tests.support.servers import LiveBroker
from tests.support.token_seed import upload_user_token

BANNER = "New here?"


@pytest.fixture(scope="module")
def demo(live: LiveBroker) -> Iterator[LiveProvider]:
    """The demo app under the id ``outbound up`` gives it."""
    with running_provider() as provider:
        create_demo_app(live, provider, DEMO_APP_ID)
        yield provider


def texts(at: AppTest) -> str:
    """Every markdown element of the run, joined."""
    return "\n".join(m.value for m in at.markdown)


@LOCAL_ONLY
def test_sign_in_shows_the_first_step_and_hide_keeps_it_away(app: AppTest) -> None:
    app.run()
    assert BANNER in texts(app)
    assert f"**{SIGN_IN_STEP}**" in texts(app)  # the step to do now
    app.button(key="welcome__dismiss").click().run()
    assert BANNER not in texts(app)
    app.run()
    assert BANNER not in texts(app)


@LOCAL_ONLY
def test_the_apps_page_shows_the_next_step_until_the_demo_app_is_connected(
    live: LiveBroker, demo: LiveProvider, signed_in_app: Callable[..., AppTest]
) -> None:
    at = signed_in_app("newcomer@example.test")
    assert f"**{CONNECT_STEP}**" in texts(at)
    assert TOKENS_STEP in texts(at)
    session = at.session_state["session"]
    upload_user_token(
        live, DEMO_APP_ID, session.user.user_id, accessToken="demo-access", scopes=["profile"]
    )
    at.run()
    assert BANNER not in texts(at)


def test_descope_cloud_never_shows_it(
    live: LiveBroker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_dashboard_at(
        monkeypatch,
        live,
        tmp_path,
        DESCOPE_PROJECT_ID=live.project_id,
        DESCOPE_BASE_URL=live.url,
    )
    at = AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert BANNER not in texts(at)
