"""The dashboard's Descope client against a live broker on loopback: calls, errors, throttling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.descope import Secret, auth
from dashboard.descope.errors import (
    AlreadyExists,
    EmailNotConfigured,
    EmailNotSent,
    NotAllowed,
    SessionExpired,
    Throttled,
    Unauthorized,
    UnknownUser,
    Unreachable,
    WrongCode,
    WrongPassword,
)
from dashboard.descope.management import list_tenants
from dashboard.descope.transport import Transport
from tests.support.dashboard import PASSWORD, client_of, create_user, start_dashboard_broker
from tests.support.servers import LiveBroker, free_port


@pytest.fixture(scope="module")
def broker_settings() -> dict[str, Any]:
    """Demo mode: the outbox answers the email-code tests."""
    return {"demo_mode": True}


@pytest.fixture
def transport_for(live: LiveBroker) -> Iterator[Callable[..., Transport]]:
    """Transports to ``live`` (with its management key), closed at the end of the test."""
    made: list[Transport] = []

    def make(**kwargs: Any) -> Transport:
        made.append(Transport(live.url, live.project_id, Secret(live.management_key), **kwargs))
        return made[-1]

    yield make
    for t in made:
        t.close()


def test_password_sign_in_answers_both_jwts_and_the_user(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "ada@example.test", name="Ada")
    result = auth.password_sign_in(client_of(transport_for()), "ada@example.test", PASSWORD)
    assert result.session_jwt.count(".") == 2
    assert result.refresh_jwt and result.refresh_jwt.count(".") == 2
    assert result.user is not None and result.user.display_name == "Ada"
    assert "***" in repr(result) and result.session_jwt not in repr(result)


def test_wrong_password_is_one_sentence(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "bob@example.test")
    with pytest.raises(WrongPassword) as caught:
        auth.password_sign_in(client_of(transport_for()), "bob@example.test", "not it")
    assert str(caught.value) == WrongPassword.sentence
    assert caught.value.status == 401


def test_unknown_login_id_on_sign_in_is_not_revealed(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    with pytest.raises(WrongPassword):
        auth.password_sign_in(client_of(transport_for()), "nobody@example.test", PASSWORD)


def test_unknown_user_lookup_maps_to_unknown_user(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    with pytest.raises(UnknownUser) as caught:
        transport_for().request(
            "GET", "/v1/mgmt/user", management=True, params={"loginId": "ghost@example.test"}
        )
    assert str(caught.value) == UnknownUser.sentence


def test_sign_up_of_a_taken_login_id_says_sign_in_instead(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    t = transport_for()
    auth.password_sign_up(client_of(t), "cy@example.test", PASSWORD, name="Cy")
    with pytest.raises(AlreadyExists) as caught:
        auth.password_sign_up(client_of(t), "cy@example.test", PASSWORD)
    assert "sign in instead" in str(caught.value)


def test_otp_code_from_the_demo_outbox_signs_in_and_a_wrong_code_is_refused(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "dee@example.test")
    t = transport_for()
    started = auth.otp_start(client_of(t), "dee@example.test")
    assert started.masked_email and "dee@example.test" not in started.masked_email
    with pytest.raises(WrongCode) as caught:
        auth.otp_verify(client_of(t), "dee@example.test", "000000x")
    assert str(caught.value) == WrongCode.sentence
    with pytest.raises(Unauthorized):  # the outbox opens with the key typed, not the dashboard's
        auth.read_outbox(client_of(t), "dee@example.test", Secret("K" + "x" * 40))
    (message, *_) = auth.read_outbox(client_of(t), "dee@example.test", Secret(live.management_key))
    assert message.code and message.code not in repr(message)
    result = auth.otp_verify(client_of(t), "dee@example.test", message.code)
    assert result.user is not None and result.user.email == "dee@example.test"


def test_refresh_me_and_logout_then_the_session_has_ended(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "eve@example.test", name="Eve")
    client = client_of(transport_for())
    first = client.start(auth.password_sign_in(client, "eve@example.test", PASSWORD))
    renewed = client.renew()
    assert renewed.session_jwt and client.session is renewed and renewed.user == first.user
    assert client.me().name == "Eve"
    client.sign_out()
    with pytest.raises(SessionExpired) as caught:
        client.renew()
    assert str(caught.value) == SessionExpired.sentence


def test_throttled_sign_in_waits_once_as_told_then_says_when_to_retry(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "fay@example.test")
    waits: list[float] = []
    patient = transport_for(max_wait_s=3600, sleep=waits.append)
    for _ in range(3):
        with pytest.raises(WrongPassword):
            auth.password_sign_in(client_of(patient), "fay@example.test", "not it")
    with pytest.raises(Throttled) as caught:
        auth.password_sign_in(client_of(patient), "fay@example.test", PASSWORD)
    # One wait, as long as the first 429 said; the second 429 counts down from there (the
    # clock ticks between the two answers on a loaded machine, so it may say a second less).
    assert len(waits) == 1
    assert 0 <= waits[0] - caught.value.retry_after <= 2
    assert 1 <= caught.value.retry_after <= 30
    assert (
        str(caught.value) == f"Too many attempts: try again in {caught.value.retry_after} seconds."
    )


def test_a_throttle_longer_than_the_bound_is_not_waited(
    live: LiveBroker, transport_for: Callable[..., Transport]
) -> None:
    create_user(live, "gus@example.test")
    waits: list[float] = []
    hasty = transport_for(max_wait_s=0, sleep=waits.append)
    for _ in range(3):
        with pytest.raises(WrongPassword):
            auth.password_sign_in(client_of(hasty), "gus@example.test", "not it")
    with pytest.raises(Throttled):
        auth.password_sign_in(client_of(hasty), "gus@example.test", PASSWORD)
    assert waits == []


def test_a_broker_that_is_not_running_is_unreachable() -> None:
    with (
        Transport(f"http://127.0.0.1:{free_port()}", "P" + "x" * 27, timeout_s=2) as t,
        pytest.raises(Unreachable) as caught,
    ):
        auth.password_sign_in(client_of(t), "ada@example.test", PASSWORD)
    assert str(caught.value) == Unreachable.sentence


def test_management_calls_need_a_management_key(live: LiveBroker) -> None:
    with Transport(live.url, live.project_id) as t, pytest.raises(NotAllowed):
        list_tenants(client_of(t))


def test_bearer_is_project_then_token_then_key() -> None:
    with Transport("http://127.0.0.1:9", "P123", Secret("K456")) as t:
        assert t.bearer() == "Bearer P123"
        assert t.bearer("a.b.c") == "Bearer P123:a.b.c"
        assert t.bearer(management=True) == "Bearer P123:K456"
        assert t.bearer("a.b.c", management=True) == "Bearer P123:a.b.c:K456"
        # A key the person typed (the developer outbox) replaces the dashboard's own.
        assert t.bearer(management_key=Secret("Ktyped")) == "Bearer P123:Ktyped"
    with Transport("http://127.0.0.1:9", "P123") as t:
        assert t.bearer(management_key=Secret("Ktyped")) == "Bearer P123:Ktyped"


def test_only_the_transport_imports_httpx() -> None:
    dashboard = Path(__file__).resolve().parents[2] / "dashboard"
    importers = sorted(
        str(p.relative_to(dashboard))
        for p in dashboard.rglob("*.py")
        if any(
            line.strip().startswith(("import httpx", "from httpx"))
            for line in p.read_text().splitlines()
        )
    )
    assert importers == ["descope/transport.py"]


def _dashboard_sources() -> dict[str, str]:
    root = Path(__file__).resolve().parents[2]
    files = [*(root / "dashboard").rglob("*.py"), *(root / "pages").glob("*.py")]
    return {str(p.relative_to(root)): p.read_text() for p in files}


def test_the_ui_imports_the_client_through_its_public_surface() -> None:
    inner = sorted(
        path
        for path, source in _dashboard_sources().items()
        if not path.startswith("dashboard/descope/") and "from dashboard.descope." in source
    )
    assert inner == []


def test_only_the_client_and_the_cookie_route_handle_the_session_jwts() -> None:
    # The client sends them; the cookie route hands the refresh JWT to the browser's HttpOnly
    # cookie (dashboard/frame/remember.py). No page reveals them or passes them on.
    revealing = sorted(
        path
        for path, source in _dashboard_sources().items()
        if not path.startswith("dashboard/descope/")
        and any(f"{jwt}.reveal()" in source for jwt in ("refresh_jwt", "session_jwt"))
    )
    assert revealing == ["dashboard/frame/remember.py"]


def test_a_broker_that_cannot_email_a_code_is_one_sentence(tmp_path: Path) -> None:
    nowhere = Secret(f"smtp://127.0.0.1:{free_port()}")
    for name, settings, error in (
        ("plain", {}, EmailNotConfigured),  # no SMTP, not a demo
        ("down", {"smtp_url": nowhere}, EmailNotSent),  # the mail server is not there
    ):
        live = start_dashboard_broker(tmp_path / name, **settings)
        try:
            create_user(live, "ida@example.test")
            with Transport(live.url, live.project_id) as t, pytest.raises(error) as caught:
                auth.otp_start(client_of(t), "ida@example.test")
            assert str(caught.value) == error.sentence
        finally:
            live.stop()
