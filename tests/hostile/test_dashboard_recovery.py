"""The dashboard when its broker is down or answers garbage: one sentence, never a traceback.

The broker is stopped under a signed-in tab and started again on the same port and data folder:
each page says one sentence while it is down and works again by itself, with the same session.
A tiny loopback server that answers HTML, broken JSON or a bare 500 stands in for a broken
broker (the dashboard's settings point at it): each page again says one sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from streamlit.testing.v1 import AppTest

from dashboard.descope.errors import ServerError, Unreachable
from dashboard.settings import get_settings
from tests.app.conftest import app, sign_in, signed_in_app  # noqa: F401  (AppTest fixtures)
from tests.support.dashboard import (
    ADMIN_ROLE,
    ENTRYPOINT,
    LOCAL_ONLY,
    create_user,
    point_dashboard_at,
    start_dashboard_broker,
)
from tests.support.page_text import proto_text
from tests.support.servers import LiveBroker, ThreadedServer
from tests.support.token_seed import upload_user_token

APPS, TOKENS, LANDING = "../pages/outbound_apps.py", "../pages/tokens.py", "../pages/connected.py"


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def everything(at: AppTest) -> str:
    """Every element's protobuf text (where a traceback would show)."""
    return proto_text(at)


def assert_one_sentence(at: AppTest, sentence: str) -> None:
    """The page ran to the end and says exactly ``sentence`` as its one error, no traceback."""
    assert not at.exception, at.exception
    assert errors(at) == [sentence], everything(at)[-3000:]
    assert "Traceback" not in everything(at) and 'File "' not in everything(at)


def assert_works(at: AppTest, title: str) -> None:
    """The page ran to the end with its title and no error."""
    assert not at.exception, at.exception
    assert errors(at) == []
    assert [t.value for t in at.title] == [title]


def connections(at: AppTest) -> str:
    """The tokens page's connection count."""
    return next(str(m.value) for m in at.metric if m.label == "Connections")


def create_app(live: LiveBroker, app_id: str) -> None:
    """A plain app to hold a token (no provider is called)."""
    response = httpx.post(
        f"{live.url}/v1/mgmt/outbound/app/create",
        headers=live.mgmt_headers(),
        json={"id": app_id, "name": app_id, "tokenUrl": "http://127.0.0.1:9/token"},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[list[LiveBroker]]:
    """A broker in its own data folder; a test appends the restarted one (both stopped at end)."""
    brokers = [start_dashboard_broker(tmp_path / "data")]
    yield brokers
    for broker in brokers:
        broker.stop()


def test_a_broker_that_goes_down_is_one_sentence_per_page_and_the_dashboard_recovers(
    restartable: list[LiveBroker], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = restartable[0]
    point_dashboard_at(monkeypatch, first, tmp_path)
    user_id = create_user(first, "ops@example.test", roles=(ADMIN_ROLE,))
    create_app(first, "ops-app")
    upload_user_token(first, "ops-app", user_id, accessToken="ops-access-token-0123456789")
    tab = sign_in(AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run(), "ops@example.test")
    assert_works(tab, "Outbound apps")
    tab.switch_page(TOKENS).run()
    assert_works(tab, "Managed tokens")
    assert connections(tab) == "1"

    first.stop()
    tab.switch_page(APPS).run()
    assert_one_sentence(tab, Unreachable.sentence)
    tab.switch_page(TOKENS).run()  # the page reads the broker's inventory on every run
    assert_one_sentence(tab, Unreachable.sentence)
    new_tab = sign_in(
        AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run(), "ops@example.test"
    )
    assert_one_sentence(new_tab, Unreachable.sentence)
    tab.query_params.update({"outbound": "connected", "appId": "acme", "flow": "f" * 43})
    tab.switch_page(LANDING).run()
    assert_one_sentence(tab, Unreachable.sentence)  # the outcome is the broker's to tell

    restartable.append(start_dashboard_broker(first.data_dir, port=first.server.port))
    tab.switch_page(APPS).run()
    assert_works(tab, "Outbound apps")
    tab.switch_page(TOKENS).run()
    assert_works(tab, "Managed tokens")
    assert connections(tab) == "1"  # read again by itself: a failed read is never kept
    sign_in(new_tab, "ops@example.test")
    assert_works(new_tab, "Outbound apps")


GARBAGE = {
    "html": lambda: Response(
        "<html><body><h1>Welcome to nginx!</h1></body></html>", 200, media_type="text/html"
    ),
    "broken json": lambda: Response('{"apps": [', 200, media_type="application/json"),
    "bare 500": lambda: PlainTextResponse("Internal Server Error", 500),
}


@pytest.fixture(scope="module")
def garbage_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A loopback server answering every request with the garbage named in ``mode["answer"]``."""
    mode = {"answer": "html"}

    async def answer(_: Request) -> Response:
        return GARBAGE[mode["answer"]]()

    server = ThreadedServer(
        Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    ).start()
    yield server.url, mode
    server.stop()


def point_at_garbage(
    monkeypatch: pytest.MonkeyPatch,
    live: LiveBroker,
    url: str,
    folder: Path,
) -> None:
    """The dashboard's settings: the same project, but its broker URL is ``url``."""
    folder.mkdir(exist_ok=True)
    (folder / "local.env").write_text(
        f"OUTBOUND_PROJECT_ID={live.project_id}\n"
        f"OUTBOUND_MANAGEMENT_KEY={live.management_key}\n"
        f"OUTBOUND_BROKER_URL={url}\n"
    )
    monkeypatch.setenv("OUTBOUND_DATA_DIR", str(folder))
    get_settings.cache_clear()


@LOCAL_ONLY  # once: the strict (cloud) mode runs tests/app and tests/e2e
@pytest.mark.parametrize("answer", list(GARBAGE))
def test_a_broker_answering_garbage_is_one_sentence_per_page(
    answer: str,
    garbage_server: tuple[str, dict[str, str]],
    live: LiveBroker,
    signed_in_app: Callable[..., AppTest],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url, mode = garbage_server
    mode["answer"] = answer
    tab = signed_in_app(f"garbage-{answer.replace(' ', '-')}@example.test", roles=(ADMIN_ROLE,))
    point_at_garbage(monkeypatch, live, url, tmp_path / "garbage")

    tab.run()
    assert_one_sentence(tab, ServerError.sentence)
    tab.switch_page(TOKENS).run()
    assert_one_sentence(tab, ServerError.sentence)
    new_tab = sign_in(
        AppTest.from_file(str(ENTRYPOINT), default_timeout=30).run(), "x@example.test"
    )
    assert_one_sentence(new_tab, ServerError.sentence)
