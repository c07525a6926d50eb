"""The bare stack: a FastAPI app with nothing of the broker in it, the denominator of the fetch.

``GET /noop`` answers a small JSON body from an ``async def`` route; ``POST /token`` answers a
token-shaped JSON body (the size of a fetch answer) from the request's JSON body, so the bare
app parses a body as the fetch does. It runs on the same uvicorn as the broker
(``python -m broker.cli broker``: httptools, uvloop, one worker, no access log), in its own
process, so ``/proc/<pid>`` measures it alone. ``bench/fetch.py`` drives it in the same run as
the broker, alternating, so the machine's load falls on both alike.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from bench.servers import REPO_ROOT, ensure_up, spawn, stop_process
from tests.support.servers import free_port

NOOP_PATH = "/noop"
TOKEN_PATH = "/token"

app = FastAPI()


@app.get(NOOP_PATH)
async def noop() -> dict[str, Any]:
    """The smallest useful answer."""
    return {"ok": True}


@app.post(TOKEN_PATH)
async def token(request: Request) -> dict[str, Any]:
    """A token-shaped answer (the fetch's size and fields), after reading the JSON body."""
    body = await request.json()
    return {
        "token": {
            "id": "0" * 24,
            "appId": body.get("appId", ""),
            "userId": body.get("userId", ""),
            "tenantId": "",
            "tokenSub": "",
            "accessToken": "a" * 36,
            "accessTokenType": "bearer",
            "accessTokenExpiry": "1900000000",
            "hasRefreshToken": True,
            "refreshToken": "",
            "lastRefreshTime": "",
            "lastRefreshError": "",
            "scopes": ["read"],
            "grantedBy": "",
            "externalIdentifier": "",
        }
    }


@dataclass
class BareProcess:
    """The bare app in a subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop it."""
        stop_process(self.process)


def start_bare(work_dir: Path, *, workers: int = 1) -> BareProcess:
    """The bare app under uvicorn with the broker's settings, on a free loopback port."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    argv += ["--workers", str(workers)]
    argv += ["--no-access-log", "--log-level", "warning"]
    log_path = work_dir / "bare.log"
    process = spawn(argv, log_path, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    ensure_up(url + NOOP_PATH, process, log_path)
    return BareProcess(url=url, process=process)
