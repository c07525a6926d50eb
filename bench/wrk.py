"""Load from a separate process: Debian's ``wrk`` (C, event loop), driven by a small Lua script.

The script sends the request (method, JSON body, headers from the environment, so a
management key never reaches argv) and prints one ``WRK`` line of counts and latency
percentiles when done; ``run_wrk`` parses it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.servers import BenchmarkUnavailable

INSTALL_HINT = "wrk is not installed: run `apt-get install -y wrk` (Debian) and re-run `make bench`"

SCRIPT = """
wrk.method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    requests: int
    duration_s: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.non_2xx) / self.duration_s if self.duration_s else 0.0


def require_wrk() -> str:
    """The wrk executable, or ``BenchmarkUnavailable`` telling how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise BenchmarkUnavailable(INSTALL_HINT)
    return found


def run_wrk(
    url: str,
    *,
    connections: int,
    duration_s: float,
    method: str = "GET",
    body: str = "",
    authorization: str = "",
    threads: int = 1,
) -> LoadResult:
    """``connections`` keep-alive clients hitting ``url`` for ``duration_s`` seconds."""
    wrk = require_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "request.lua"
        script.write_text(SCRIPT)
        env = {
            **os.environ,
            "BENCH_METHOD": method,
            "BENCH_BODY": body,
            "BENCH_AUTH": authorization,
        }
        argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s"]
        argv += ["--timeout", "10s", "-s", str(script), url]
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=duration_s + 60
        )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return LoadResult(
        requests=int(fields["requests"]),
        duration_s=int(fields["duration_us"]) / 1e6,
        non_2xx=int(fields["non2xx"]),
        socket_errors=int(fields["socket_errors"]),
        p50_ms=int(fields["p50_us"]) / 1000,
        p99_ms=int(fields["p99_us"]) / 1000,
    )
