"""The real ``outbound up`` for tests: the newcomer's command, run as a subprocess.

``start_stack`` runs ``python -m broker.cli up`` from the repository root (so
``.streamlit/config.toml`` applies, as with ``make run``) on free loopback ports with its own data
folder, reads what it prints until the demo sign-in appears, checks that all three programs
answer, and returns the URLs and the printed demo accounts. ``stop()`` sends SIGTERM to its
process group, as CI does to ``make run``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.readiness import BROKER_HEALTH, DASHBOARD_HEALTH, PROVIDER_HEALTH, wait_until_up
from tests.support.servers import free_port, spawn, stop_process_group

READY_LINE = "Demo sign-in"
# Only the ports and the data folder come from the test; nothing from the developer's settings.
FOREIGN_ENV_PREFIXES = ("OUTBOUND_", "DESCOPE_")


@dataclass(frozen=True)
class DemoSignIn:
    """The accounts ``outbound up`` printed (one password for both)."""

    admin_login: str
    user_login: str
    password: str


@dataclass
class RunningStack:
    """A running ``outbound up``: its three URLs, the printed sign-in and its output."""

    process: subprocess.Popen[bytes]
    output_path: Path
    data_dir: Path
    dashboard_url: str
    broker_url: str
    provider_url: str
    sign_in: DemoSignIn

    def stop(self) -> None:
        """SIGTERM to the command's process group (it stops its three children), then wait."""
        stop_process_group(self.process, timeout_s=30)


def parse_printed(output: str) -> tuple[dict[str, str], DemoSignIn] | None:
    """The URLs and demo sign-in from ``outbound up``'s banner, or None until it is printed."""
    if READY_LINE not in output:
        return None
    urls = dict(re.findall(r"^\s+(dashboard|broker|demo provider)\s+(http://\S+)", output, re.M))
    fields = dict(re.findall(r"^\s+(admin|user|password)\s+(\S+)$", output, re.M))
    if len(urls) < 3 or len(fields) < 3:
        return None
    return urls, DemoSignIn(fields["admin"], fields["user"], fields["password"])


def _all_answer(urls: dict[str, str], process: subprocess.Popen[bytes]) -> bool:
    checks = (
        urls["broker"] + BROKER_HEALTH,
        urls["demo provider"] + PROVIDER_HEALTH,
        urls["dashboard"] + DASHBOARD_HEALTH,
    )
    return all(wait_until_up(url, 5, process=process) for url in checks)


def start_stack(
    data_dir: Path,
    *,
    timeout_s: float = 180,
    extra_args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
) -> RunningStack:
    """Run ``outbound up`` (plus ``extra_args``, and ``extra_env`` over the environment) on
    free ports with ``data_dir``.

    Returns once it printed the sign-in and all three programs answer.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV_PREFIXES)}
    env.update(extra_env or {})
    empty_env_file = data_dir.parent / f"{data_dir.name}.env"
    empty_env_file.touch()  # stands in for a developer's own .env
    env["OUTBOUND_ENV_FILE"] = str(empty_env_file)
    ports = [str(free_port()) for _ in range(3)]
    output_path = data_dir.parent / f"{data_dir.name}-up.log"
    argv = [sys.executable, "-m", "broker.cli", "up", "--data-dir", str(data_dir)]
    argv += ["--port", ports[0], "--provider-port", ports[1], "--dashboard-port", ports[2]]
    argv += list(extra_args)
    started = time.monotonic()
    process = spawn(argv, output_path, env)
    deadline = started + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        printed = parse_printed(output_path.read_text(errors="replace"))
        if printed is not None and _all_answer(printed[0], process):
            urls, sign_in = printed
            return RunningStack(
                process=process,
                output_path=output_path,
                data_dir=data_dir,
                dashboard_url=urls["dashboard"],
                broker_url=urls["broker"],
                provider_url=urls["demo provider"],
                sign_in=sign_in,
            )
        time.sleep(0.2)
    tail = output_path.read_text(errors="replace")[-3000:]
    stop_process_group(process, timeout_s=30)
    raise RuntimeError(f"`outbound up` did not print the demo sign-in; its output:\n{tail}")


@contextmanager
def running_stack(data_dir: Path, **kwargs: Any) -> Iterator[RunningStack]:
    """``start_stack`` as a context manager that always stops it."""
    stack = start_stack(data_dir, **kwargs)
    try:
        yield stack
    finally:
        stack.stop()
