"""``outbound mcp`` for tests: the real command over stdio, driven by the official MCP client,
with every byte of the protocol (and the server's stderr) teed to files the test can search."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp import Client, StdioServerParameters

from tests.support.servers import LiveBroker

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass(frozen=True)
class McpRun:
    """How to start the server for one access key, and where its traffic is recorded."""

    params: StdioServerParameters
    traffic: list[Path]

    def recorded(self) -> str:
        """Everything that crossed stdin, stdout and stderr so far."""
        return "".join(p.read_text(errors="replace") for p in self.traffic if p.exists())


def mcp_run(live: LiveBroker, access_key: str, tmp: Path, **env: str) -> McpRun:
    """The stdio command of ``outbound mcp`` for ``access_key``, teed into ``tmp``."""
    sent, received, errors = (
        tmp / "client-to-server.jsonl",
        tmp / "server-to-client.jsonl",
        tmp / "stderr.log",
    )
    server = f"{shlex.quote(sys.executable)} -m broker.cli mcp"
    pipeline = (
        f"tee -a {shlex.quote(str(sent))} | {server} 2>>{shlex.quote(str(errors))} "
        f"| tee -a {shlex.quote(str(received))}"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "OUTBOUND_ACCESS_KEY": access_key,
        "OUTBOUND_BROKER_URL": live.url,
        "OUTBOUND_PROJECT_ID": live.project_id,
        "OUTBOUND_CONNECT_REDIRECT_URL": f"{live.url}/v1/x/health",
        "OUTBOUND_MCP_CONNECT_WAIT": "10",
        **env,
    }
    params = StdioServerParameters(command="sh", args=["-c", pipeline], env=environment, cwd=ROOT)
    return McpRun(params, [sent, received, errors])


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main`` to completion on an event loop in a thread of its own (Playwright's sync API
    keeps a loop running in the test's thread once a browser test has run in the process)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()


def with_client(run: McpRun, body: Callable[[Client], Awaitable[T]], **options: Any) -> T:
    """Start the server, connect the official client (``options`` go to ``Client``), run ``body``."""

    async def main() -> T:
        async with Client(run.params, **options) as client:
            return await body(client)

    return run_async(main)
