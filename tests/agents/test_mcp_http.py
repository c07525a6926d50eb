"""``outbound mcp --transport http``: streamable HTTP on loopback, for the key's holder only."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support.agents import KeyHolder, app_and_holder
from tests.support.mcp import ROOT, run_async
from tests.support.outbound import connect
from tests.support.provider import LiveProvider
from tests.support.servers import LiveBroker, free_port


@pytest.fixture
def served(live_broker: LiveBroker, provider: LiveProvider) -> Iterator[tuple[str, KeyHolder, str]]:
    """A connected user, their key, and ``outbound mcp`` serving HTTP for it on loopback."""
    app_id, holder = app_and_holder(live_broker, provider)
    connect(live_broker, holder.user, app_id)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OUTBOUND_ACCESS_KEY": holder.access_key,
        "OUTBOUND_BROKER_URL": live_broker.url,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "broker.cli", "mcp", "--transport", "http", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, holder, app_id
    finally:
        process.terminate()
        process.wait(15)


def test_the_http_transport_serves_the_key_holder(served: tuple[str, KeyHolder, str]) -> None:
    url, holder, app_id = served

    async def main() -> dict[str, object]:
        headers = {"Authorization": f"Bearer {holder.access_key}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            result = await client.call_tool(
                "call_provider", {"app_id": app_id, "method": "GET", "path": "/me"}
            )
        assert result.structured_content
        return result.structured_content

    answer = run_async(main)
    assert answer["outcome"] == "ok"


def test_the_http_transport_refuses_anyone_without_the_key(
    served: tuple[str, KeyHolder, str],
) -> None:
    url, _, _ = served
    for headers in ({}, {"Authorization": "Bearer Kguess"}):
        response = httpx.post(
            url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}
        )
        assert response.status_code == 401
