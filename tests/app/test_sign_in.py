"""Signing in and keeping the session, driven through the real entrypoint (AppTest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.descope import DescopeClient, Secret, shared_transport
from dashboard.descope.errors import (
    EmailNotConfigured,
    SessionExpired,
    Unreachable,
    WrongPassword,
)
from dashboard.descope.session import Session
from dashboard.frame.state import CLOCK_KEY, SESSION_KEY
from dashboard.settings import get_settings
from dashboard.ui.demo import DEMO_NOTICE, OUTBOX_TITLE, WRONG_KEY
from tests.app.conftest import sign_in
from tests.support.dashboard import (
    ADMIN_ROLE,
    ENTRYPOINT,
    LOCAL_ONLY,
    create_user,
    is_strict,
    point_dashboard_at,
    start_dashboard_broker,
)
from tests.support.mailbox import Mailbox
from tests.support.page_text import page_text
from tests.support.servers import LiveBroker, free_port


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def session_of(at: AppTest) -> Session:
    session = at.session_state[SESSION_KEY]
    assert isinstance(session, Session)
    return session


def test_signed_out_visitors_land_on_sign_in(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert titles(app) == ["Sign in"]
    assert SESSION_KEY not in app.session_state


def test_password_sign_in_opens_the_home_page_and_shows_who(live: LiveBroker, app: AppTest) -> None:
    create_user(live, "ada@example.test", name="Ada")
    sign_in(app.run(), "ada@example.test")
    assert not app.exception
    assert titles(app) == ["Outbound apps"]
    assert session_of(app).user.display_name == "Ada"
    sidebar = [m.value for m in app.sidebar.markdown] + [c.value for c in app.sidebar.caption]
    assert "**Ada**" in sidebar
    target = f"Descope project {live.project_id}" if is_strict(live) else "Local broker"
    assert f"Target: {target}" in sidebar
    assert any(line.startswith("Session renews in") for line in sidebar)
    assert [t.value for t in app.toast] == ["Signed in as Ada."]


def test_a_wrong_password_is_one_sentence(live: LiveBroker, app: AppTest) -> None:
    create_user(live, "bo@example.test")
    sign_in(app.run(), "bo@example.test", "not the password")
    assert titles(app) == ["Sign in"]
    assert errors(app) == [WrongPassword.sentence]
    assert SESSION_KEY not in app.session_state


def test_throttled_sign_in_says_how_long_to_wait(live: LiveBroker, app: AppTest) -> None:
    create_user(live, "cy@example.test")
    app.run()
    for _ in range(3):
        sign_in(app, "cy@example.test", "not the password")
    sign_in(app, "cy@example.test")
    (message,) = errors(app)
    assert message.startswith("Too many attempts: try again in ")
    assert message.endswith(" seconds.")


def ask_for_a_code(at: AppTest, login_id: str) -> AppTest:
    """Fill the email-code form and send it."""
    at.text_input(key="sign_in__otp_email").set_value(login_id)
    at.button(key="sign_in__otp_send").click()
    return at.run()


def verify_code(at: AppTest, code: str) -> AppTest:
    """Type the code and verify it."""
    at.text_input(key="sign_in__otp_code").set_value(code)
    at.button(key="sign_in__otp_verify").click()
    return at.run()


def app_against(
    broker: LiveBroker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> AppTest:
    """A fresh AppTest of the entrypoint pointed at ``broker`` (with extra dashboard settings)."""
    point_dashboard_at(monkeypatch, broker, tmp_path, **env)
    return AppTest.from_file(str(ENTRYPOINT), default_timeout=30)


def test_email_code_by_mail_signs_in_and_is_never_on_the_page(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker = start_dashboard_broker(tmp_path / "broker", smtp_url=Secret(mailbox.url))
    try:
        create_user(broker, "dee@example.test", name="Dee")
        at = ask_for_a_code(app_against(broker, monkeypatch, tmp_path).run(), "dee@example.test")
        assert [s.value for s in at.success] == [r"We sent a code to d\*\*\*@example\.test."]
        code = mailbox.latest_code("dee@example.test")
        assert code not in page_text(at)
        assert not at.expander  # no developer outbox outside demo mode
        verify_code(at, code)
        assert not at.exception
        assert titles(at) == ["Outbound apps"]
        assert session_of(at).user.display_name == "Dee"
    finally:
        broker.stop()


def test_email_code_in_demo_mode_opens_only_with_the_management_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker = start_dashboard_broker(tmp_path / "broker", demo_mode=True)
    try:
        create_user(broker, "dee@example.test", name="Dee")
        at = app_against(broker, monkeypatch, tmp_path, OUTBOUND_DEMO_MODE="1").run()
        assert DEMO_NOTICE in [c.value for c in at.caption]
        ask_for_a_code(at, "dee@example.test")
        assert [e.label for e in at.expander] == [OUTBOX_TITLE]
        assert not at.code  # the code is not on the page until the key is typed
        at.text_input(key="demo__outbox_login_id").set_value("dee@example.test")
        at.text_input(key="demo__outbox_key").set_value("K" + "x" * 40)
        at.button(key="demo__outbox_open").click()
        at.run()
        assert errors(at) == [WRONG_KEY] and not at.code
        at.text_input(key="demo__outbox_login_id").set_value("dee@example.test")
        at.text_input(key="demo__outbox_key").set_value(broker.management_key)
        at.button(key="demo__outbox_open").click()
        at.run()
        (code,) = [c.value for c in at.code]
        verify_code(at, code)
        assert not at.exception
        assert titles(at) == ["Outbound apps"]
        assert DEMO_NOTICE in [c.value for c in at.caption]  # on every page
    finally:
        broker.stop()


@LOCAL_ONLY  # Descope's cloud always emails
def test_email_code_without_a_mail_server_is_one_sentence(live: LiveBroker, app: AppTest) -> None:
    create_user(live, "dot@example.test")
    ask_for_a_code(app.run(), "dot@example.test")
    assert errors(app) == [EmailNotConfigured.sentence]
    assert app.text_input(key="sign_in__otp_email").value == "dot@example.test"
    assert DEMO_NOTICE not in [c.value for c in app.caption]


def test_sign_up_creates_the_account_and_signs_in(app: AppTest) -> None:
    app.run()
    app.text_input(key="sign_in__new_login_id").set_value("new@example.test")
    app.text_input(key="sign_in__new_name").set_value("Newt")
    app.text_input(key="sign_in__new_password").set_value("a long enough password 1")
    app.button(key="sign_in__sign_up").click()
    app.run()
    assert not app.exception
    assert titles(app) == ["Outbound apps"]
    assert session_of(app).user.display_name == "Newt"


def test_sign_out_ends_the_session_at_the_broker(
    signed_in_app: Callable[..., AppTest],
) -> None:
    app = signed_in_app("eve@example.test")
    old = session_of(app)
    app.sidebar.button(key="keeper__sign_out").click()
    app.run()
    assert titles(app) == ["Sign in"]
    assert SESSION_KEY not in app.session_state
    assert "You are signed out." in [t.value for t in app.toast]
    settings = get_settings()
    client = DescopeClient(shared_transport(settings.base_url, settings.project_id))
    with pytest.raises(SessionExpired):
        client.restore(old.refresh_jwt)


def test_the_session_is_renewed_ahead_of_expiry(signed_in_app: Callable[..., AppTest]) -> None:
    app = signed_in_app("fay@example.test")
    before = session_of(app)
    app.run()
    assert session_of(app).obtained_at == before.obtained_at  # far from expiry: no refresh
    near_expiry = before.renews_at() + 1
    app.session_state[CLOCK_KEY] = lambda: near_expiry
    app.run()
    assert not app.exception
    after = session_of(app)
    assert after.obtained_at == near_expiry
    assert after.user == before.user
    assert titles(app) == ["Outbound apps"]


def test_a_deep_link_goes_through_sign_in_and_back(live: LiveBroker, app: AppTest) -> None:
    create_user(live, "gil@example.test")
    app.run()
    app.switch_page("../pages/tokens.py").run()
    assert titles(app) == ["Sign in"]
    assert app.query_params["next"] == "tokens"
    # A browser is now at /sign_in?next=tokens; AppTest reruns the page it was last told to.
    app.switch_page("../pages/sign_in.py").run()
    sign_in(app, "gil@example.test")
    assert not app.exception
    assert titles(app) == ["Managed tokens"]


def test_an_ordinary_user_cannot_reach_the_admin_view(
    signed_in_app: Callable[..., AppTest],
) -> None:
    app = signed_in_app("hal@example.test")
    app.switch_page("../pages/tokens.py").run()
    # No choice of view is offered: the page shows only their own connections.
    assert not app.segmented_control
    assert any("You see your own connections" in c.value for c in app.caption)
    assert any("You have no connected app yet" in i.value for i in app.info)


def test_an_admin_reaches_the_admin_view(signed_in_app: Callable[..., AppTest]) -> None:
    app = signed_in_app("ivy@example.test", roles=(ADMIN_ROLE,))
    app.switch_page("../pages/tokens.py").run()
    app.segmented_control(key="tokens__view").set_value("All users").run()
    assert not app.warning
    assert any("No user holds a token yet" in i.value for i in app.info)


def test_a_broker_that_is_down_is_one_sentence(
    app: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "local.env").write_text(
        f"OUTBOUND_PROJECT_ID=P{'d' * 27}\nOUTBOUND_MANAGEMENT_KEY=Kx\nOUTBOUND_BROKER_URL={down}\n"
    )
    monkeypatch.setenv("OUTBOUND_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DESCOPE_BASE_URI", down)  # the cloud target (strict mode) is down too
    get_settings.cache_clear()
    app = AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run()
    sign_in(app, "jo@example.test")
    assert not app.exception
    assert errors(app) == [Unreachable.sentence]
