"""Waiting until a program answers over HTTP: ``outbound up``, the tests and the benchmarks.

One poll for every "is it up yet" in the project. It imports nothing of the project, so anything
may import it: ``broker/cli.py`` waits for the three programs of ``outbound up``, tests/support and
bench/ wait for the servers they start.
"""

from __future__ import annotations

import subprocess
import time

import httpx

# What each program answers once it serves (its health or discovery URL, below its base URL).
BROKER_HEALTH = "/v1/x/health"
PROVIDER_HEALTH = "/.well-known/oauth-authorization-server"
DASHBOARD_HEALTH = "/_stcore/health"


def wait_until_up(
    url: str,
    timeout_s: float = 60.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
    interval_s: float = 0.1,
) -> bool:
    """Poll ``url`` until it answers a status below 500: True; False once ``timeout_s`` passed
    or ``process`` (the program serving it, when given) exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)
    return False
