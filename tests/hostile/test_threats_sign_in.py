"""Nobody becomes somebody else through the sign-in page, the demo, CORS or a tenant role.

Each test is an attack that worked against the code before issue 13 (docs/reliability.md):

- a stranger asks for the admin's email code on the sign-in page and reads it there;
- the outbox answers outside demo mode, and a code "sent" with no mail server is silently lost;
- demo mode (codes kept locally, every local origin trusted) runs on a public address;
- a role held inside one tenant opens the dashboard's global admin views;
- a user's own name is drawn as markdown in the sidebar;
- any localhost page makes credentialed cross-origin calls to a real deployment.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from starlette.responses import PlainTextResponse
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from broker.config import BrokerSettings, StartupRefused
from broker.context import bootstrap
from broker.store.identity import OtpCode, OutboxMessage
from dashboard.demo_mode import LoopbackOnly
from dashboard.descope.errors import EmailNotConfigured
from tests.app.conftest import app, sign_in  # noqa: F401  (AppTest fixtures)
from tests.hostile.test_dashboard_xss import USER_NAME, assert_inert
from tests.support.dashboard import (
    ADMIN_ROLE,
    ENTRYPOINT,
    REPO_ROOT,
    create_user,
    point_dashboard_at,
    start_dashboard_broker,
)
from tests.support.mailbox import DELIVERY_MODES, Mailbox, delivery
from tests.support.page_text import page_text
from tests.support.servers import LiveBroker, free_port

ADMIN = "admin@acme.test"

T = TypeVar("T")


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# --- email codes -------------------------------------------------------------------------


@pytest.fixture(params=DELIVERY_MODES)
def sign_in_page(
    request: pytest.FixtureRequest,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[tuple[str, LiveBroker, AppTest]]:
    """A broker with an admin, in one delivery set-up, and a signed-out sign-in page on it."""
    settings, env = delivery(request.param, mailbox)
    broker = start_dashboard_broker(tmp_path / "broker", **settings)
    create_user(broker, ADMIN, roles=(ADMIN_ROLE,), name="Ada Admin")
    point_dashboard_at(monkeypatch, broker, tmp_path, **env)
    try:
        yield request.param, broker, AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run()
    finally:
        broker.stop()


def _issued_code(mode: str, broker: LiveBroker, mailbox: Mailbox) -> str | None:
    """The code the broker issued for the admin, read where it really went (None: none)."""
    if mode == "smtp":
        return mailbox.latest_code(ADMIN)
    with broker.broker.db.session() as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.login_id == ADMIN)).first()
        code = (
            broker.broker.ring.unseal(row.code_sealed, context=f"outbox:{row.id}") if row else None
        )
    return code


def test_email_code_for_admin_is_never_shown_on_the_sign_in_page(
    sign_in_page: tuple[str, LiveBroker, AppTest], mailbox: Mailbox
) -> None:
    mode, broker, at = sign_in_page
    at.text_input(key="sign_in__otp_email").set_value(ADMIN)
    at.button(key="sign_in__otp_send").click()
    at.run()
    assert not at.exception
    code = _issued_code(mode, broker, mailbox)
    if code is not None:
        assert code not in page_text(at)
    if mode == "no mail server":  # no code issued, and the page says why in one sentence
        assert code is None and _errors(at) == [EmailNotConfigured.sentence]
        return
    assert code is not None and len(code) == 6
    # The developer outbox (demo mode only) gives nothing without the management key.
    if mode == "demo mode":
        at.text_input(key="demo__outbox_login_id").set_value(ADMIN)
        at.button(key="demo__outbox_open").click()
        at.run()
        assert code not in page_text(at)
    else:
        assert not at.expander


def test_outbox_refused_outside_demo_mode(live_broker: LiveBroker) -> None:
    known = "kim@example.test"
    create_user(live_broker, known)
    outbox = httpx.get(
        f"{live_broker.url}/v1/x/outbox",
        params={"loginId": known},
        headers=live_broker.mgmt_headers(),
    )
    assert outbox.status_code == 404 and outbox.json()["errorCode"] == "E011006"
    answers = [
        httpx.post(
            f"{live_broker.url}{path}",
            json={"loginId": login},
            headers=live_broker.project_headers(),
        )
        for path in ("/v1/auth/otp/signin/email", "/v1/auth/otp/signup-in/email")
        for login in (known, "nobody-here@example.test")
    ]
    # A clear error, never a silent success — and the same one whether the account exists.
    assert {a.status_code for a in answers} == {501}
    assert {a.json()["errorCode"] for a in answers} == {"E061201"}
    assert len({a.text for a in answers}) == 1
    with live_broker.broker.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OtpCode)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- demo mode stays on loopback ------------------------------------------------------------


@pytest.mark.parametrize("how", ["--demo", "OUTBOUND_DEMO_MODE=1"])
def test_demo_mode_refused_on_non_loopback_bind_broker(tmp_path: Path, how: str) -> None:
    data = tmp_path / "data"
    # 192.0.2.1 (TEST-NET-1) is on no interface here: nothing can be exposed, refused or not.
    command = ["broker", "--host", "192.0.2.1", "--port", str(free_port()), "--data-dir", str(data)]
    flag, env = ([how], {}) if how == "--demo" else ([], dict([how.split("=")]))
    started = subprocess.run(
        [sys.executable, "-m", "broker.cli", *command, *flag],
        env={**_clean_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert started.returncode == 2, started.stderr
    assert "Demo mode runs on loopback only" in started.stderr
    assert "Traceback" not in started.stderr
    assert not data.exists()  # refused before anything was created


@pytest.mark.parametrize(
    "where",
    [
        {"host": "0.0.0.0"},
        {"host": "::"},
        {"host": "10.1.2.3"},
        {"host": "broker.example.test"},
        {"public_url": "https://outbound.example.test"},
    ],
)
def test_demo_mode_refused_on_non_loopback_bind_broker_settings(
    where: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOUND_DEMO_MODE", "1")
    settings = BrokerSettings.from_env(data_dir=tmp_path / "data", **where)
    with pytest.raises(StartupRefused, match="loopback only"):
        bootstrap(settings)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OUTBOUND_", "DESCOPE_"))}


@pytest.fixture
def server_address() -> Iterator[Callable[[str], None]]:
    """Set Streamlit's ``server.address`` for this process (restored afterwards)."""
    before = streamlit_config.get_option("server.address")
    yield lambda address: streamlit_config.set_option("server.address", address)
    streamlit_config.set_option("server.address", before)


@pytest.mark.parametrize("address", ["0.0.0.0", "", "192.168.1.20", "::"])
def test_demo_mode_refused_on_non_loopback_bind_dashboard(
    address: str,
    server_address: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OUTBOUND_DEMO_MODE", "1")
    monkeypatch.setenv("OUTBOUND_ENV_FILE", str(tmp_path / "none.env"))
    server_address(address)
    # What `streamlit run dashboard` does at start-up: import the entrypoint to find its app.
    with pytest.raises(SystemExit) as refused:
        runpy.run_path(str(ENTRYPOINT), run_name="dashboard_entrypoint")
    assert "Demo mode runs on loopback only" in str(refused.value)


def test_demo_mode_on_loopback_and_no_demo_anywhere_start(
    server_address: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OUTBOUND_ENV_FILE", str(tmp_path / "none.env"))
    for demo, address in (("1", "127.0.0.1"), ("1", "::1"), ("0", "0.0.0.0")):
        monkeypatch.setenv("OUTBOUND_DEMO_MODE", demo)
        server_address(address)
        assert "app" in runpy.run_path(str(ENTRYPOINT), run_name="dashboard_entrypoint")


def _entrypoint_app(demo: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("OUTBOUND_DEMO_MODE", demo)
    monkeypatch.setenv("OUTBOUND_ENV_FILE", str(tmp_path / "none.env"))
    return runpy.run_path(str(ENTRYPOINT), run_name="dashboard_entrypoint")["app"]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a loop of its own thread: the browser tests' session-scoped
    Playwright keeps an event loop running on this one, where ``asyncio.run`` refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _health_via(asgi: Any, host: str) -> int:
    """GET /_stcore/health on ``asgi`` as a connection that arrived on ``host``."""
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}:8501") as client:
        return (await client.get("/_stcore/health")).status_code


async def _websocket_via(asgi: Any, host: str) -> list[dict[str, Any]]:
    """Open Streamlit's WebSocket on ``asgi`` from ``host``; what it sent back first."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": [],
             "server": (host, 8501), "client": ("192.0.2.7", 5000)}  # fmt: skip
    await asgi(scope, receive, send)
    return sent


def test_demo_mode_serves_loopback_connections_only(
    server_address: Callable[[str], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Whatever server runs the entrypoint's app (`uvicorn dashboard.streamlit_app:app --host
    # 0.0.0.0` skips Streamlit's own address check), a connection that arrived on a
    # non-loopback address is refused in demo mode — before Streamlit sees it.
    server_address("127.0.0.1")
    guarded = _entrypoint_app("1", monkeypatch, tmp_path)
    for host in ("192.168.1.20", "10.0.0.5", "[2001:db8::1]"):
        assert _run(_health_via(guarded, host)) == 403, host
    assert _run(_websocket_via(guarded, "192.168.1.20")) == [
        {"type": "websocket.close", "code": 1008}
    ]

    # Connections on loopback go through (a stand-in app: a second Streamlit runtime cannot
    # start in this process).
    async def served(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("served")(scope, receive, send)

    for host in ("127.0.0.1", "[::1]", "localhost"):
        assert _run(_health_via(LoopbackOnly(served), host)) == 200, host


# --- authorization in the dashboard ---------------------------------------------------------


def test_tenant_role_does_not_grant_global_admin(
    live: LiveBroker,
    app: AppTest,  # noqa: F811
) -> None:
    tenant = httpx.post(
        f"{live.url}/v1/mgmt/tenant/create",
        headers=live.mgmt_headers(),
        json={"name": "Dana's team"},
    ).json()["id"]
    create_user(live, "dana-tenant-admin@example.test")
    joined = httpx.post(
        f"{live.url}/v1/mgmt/user/update/tenant/add",
        headers=live.mgmt_headers(),
        json={"loginId": "dana-tenant-admin@example.test", "tenantId": tenant},
    )
    assert joined.status_code == 200, joined.text
    granted = httpx.post(
        f"{live.url}/v1/mgmt/user/update/role/add",
        headers=live.mgmt_headers(),
        json={
            "loginId": "dana-tenant-admin@example.test",
            "tenantId": tenant,
            "roleNames": [ADMIN_ROLE],
        },
    )
    assert granted.status_code == 200, granted.text
    at = sign_in(app.run(), "dana-tenant-admin@example.test")
    session = at.session_state["session"]
    claims = jwt.decode(session.session_jwt.reveal(), options={"verify_signature": False})
    assert claims["tenants"][tenant]["roles"] == [ADMIN_ROLE]  # she is admin in her tenant
    assert session.roles == ()
    at.switch_page("../pages/tokens.py").run()
    assert not at.segmented_control  # no "All users" view
    assert any("You see your own connections" in c.value for c in at.caption)
    at.switch_page("../pages/outbound_apps.py").run()
    assert "Create one below." not in page_text(at)


def test_sidebar_name_is_not_markdown(
    live: LiveBroker,
    app: AppTest,  # noqa: F811
) -> None:
    create_user(live, "mallory-herself@example.test", name=USER_NAME)
    at = sign_in(app.run(), "mallory-herself@example.test")
    assert [t.value for t in at.title] == ["Outbound apps"]
    assert_inert(at, USER_NAME)  # the sidebar's name and the "Signed in as" toast, as typed


# --- CORS -------------------------------------------------------------------------------------


def _preflight(broker: LiveBroker, origin: str) -> httpx.Response:
    return httpx.options(
        f"{broker.url}/v1/auth/refresh",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def _allowed(answer: httpx.Response, origin: str) -> bool:
    return (
        answer.headers.get("access-control-allow-origin") == origin
        and answer.headers.get("access-control-allow-credentials") == "true"
    )


LOCAL_PAGES = ("http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8080")


def test_credentialed_cors_only_for_the_dashboard_origin(
    make_broker: Callable[..., LiveBroker],
) -> None:
    dashboard, listed = "https://console.example.test", "https://app.example.test"
    broker = make_broker(
        dashboard_url=f"{dashboard}/outbound/",  # a path: the origin still counts
        cors_origins=(f"{listed}/",),  # OUTBOUND_CORS_ORIGINS adds to it
    )
    for origin in (dashboard, listed):
        assert _allowed(_preflight(broker, origin), origin), origin
    for origin in (*LOCAL_PAGES, "https://evil.example.test", "null"):
        assert not _allowed(_preflight(broker, origin), origin), origin
        simple = httpx.get(f"{broker.url}/v1/x/health", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers, origin


def test_demo_mode_keeps_credentialed_cors_for_local_pages_only(
    make_broker: Callable[..., LiveBroker],
) -> None:
    broker = make_broker(demo_mode=True)
    for origin in LOCAL_PAGES:
        assert _allowed(_preflight(broker, origin), origin), origin
    for origin in ("http://127.0.0.1.evil.test", "http://localhost.evil.test:80", "null"):
        assert not _allowed(_preflight(broker, origin), origin), origin


def test_a_wildcard_cors_origin_refuses_to_start(tmp_path: Path) -> None:
    settings = BrokerSettings(data_dir=tmp_path / "data", cors_origins=("https://a.test", "*"))
    with pytest.raises(StartupRefused, match="cannot be '\\*'"):
        bootstrap(settings)
