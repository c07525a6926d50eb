"""Servers for benchmarks, each in its own process on a free loopback port.

The broker runs as ``python -m broker.cli broker`` (the command operators run, uvicorn with
httptools and uvloop), so its CPU and memory are its own and ``/proc/<pid>`` measures it alone.
Children stay in the benchmark's process group: when the driver stops a benchmark that ran out
of time, its servers go with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from broker.cli import dashboard_argv
from broker.config import BrokerSettings
from broker.project.credentials import LOCAL_ENV_FILE, read_env_file
from broker.readiness import BROKER_HEALTH, DASHBOARD_HEALTH, PROVIDER_HEALTH, wait_until_up
from broker.seed import seed_bulk
from tests.support.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000  # tokens per batch upload request (well under the 1 MiB body limit)


class BenchmarkUnavailable(Exception):
    """A benchmark cannot run on this machine (a tool or a module is missing); says which."""


def spawn(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def ensure_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until ``url`` answers (``broker.readiness``); else stop ``process`` and raise its log."""
    if not wait_until_up(url, process=process):
        stop_process(process)
        raise RuntimeError(f"{url} did not come up; log:\n{log_path.read_text()[-2000:]}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful stop, workers included
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's worker processes)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found += process_tree(int(child))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MiB (``VmRSS`` from /proc)."""
    total_kb = 0
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
        total_kb += int(line.split()[1])
    return total_kb / 1024


@dataclass
class BrokerProcess:
    """A broker subprocess and the credentials to call it."""

    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    project_id: str
    management_key: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=120))

    @property
    def settings(self) -> BrokerSettings:
        """Settings that reach this broker (for ``broker.seed``)."""
        return BrokerSettings(data_dir=self.data_dir, port=int(self.url.rsplit(":", 1)[1]))

    @property
    def mgmt_authorization(self) -> str:
        """The ``Authorization`` value of management calls (kept out of argv and logs)."""
        return f"Bearer {self.project_id}:{self.management_key}"

    def mgmt(self, method: str, path: str, **kwargs: Any) -> Any:
        """A management call; raises on an error status; answers the JSON body."""
        headers = {"Authorization": self.mgmt_authorization}
        response = self.http.request(method, self.url + path, headers=headers, **kwargs)
        response.raise_for_status()
        return response.json()

    def upload_tokens(self, tokens: list[dict[str, Any]]) -> None:
        """Store user tokens through the batch upload, ``BATCH`` per request."""
        for start in range(0, len(tokens), BATCH):
            body = {"tokens": tokens[start : start + BATCH]}
            failures = self.mgmt(
                "POST", "/v1/mgmt/outbound/app/user/oauthtoken/batch/upload", json=body
            )
            if failures.get("failures"):
                raise RuntimeError(f"batch upload refused: {failures['failures'][:1]}")

    def rss_mb(self) -> float:
        """The broker's resident memory (all its processes), in MiB."""
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        """Stop the broker."""
        self.http.close()
        stop_process(self.process)


def start_broker(
    data_dir: Path,
    *,
    database_url: str | None = None,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    tree: Path | None = None,
) -> BrokerProcess:
    """``outbound broker`` on a free port with a fresh data folder, background refresh off.

    ``tree``: another checkout whose broker is run instead (A/B runs, ``bench/ab.py``; ``python
    -m`` imports from its working directory); else ``BENCH_BROKER_TREE``, else this one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "broker.cli",
        "broker",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    argv += ["--workers", str(workers), "--no-scheduler"]
    if database_url:
        argv += ["--database-url", database_url]
    env = {"OUTBOUND_LOG_LEVEL": "WARNING", **(extra_env or {})}
    log_path = data_dir / "broker.log"
    tree = tree or Path(os.environ.get("BENCH_BROKER_TREE", REPO_ROOT))
    process = spawn(argv, log_path, env, cwd=tree)
    url = f"http://127.0.0.1:{port}"
    ensure_up(url + BROKER_HEALTH, process, log_path)
    creds = read_env_file(data_dir / LOCAL_ENV_FILE)
    return BrokerProcess(
        url=url,
        process=process,
        data_dir=data_dir,
        project_id=creds["OUTBOUND_PROJECT_ID"],
        management_key=creds["OUTBOUND_MANAGEMENT_KEY"],
    )


@dataclass
class ProviderProcess:
    """The demo OAuth provider (auto-approving) in a subprocess."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the provider."""
        stop_process(self.process)


def start_provider(work_dir: Path) -> ProviderProcess:
    """``outbound provider --auto-approve`` on a free port."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [sys.executable, "-m", "broker.cli", "provider", "--port", str(port), "--auto-approve"]
    log_path = work_dir / "provider.log"
    process = spawn(argv, log_path)
    url = f"http://127.0.0.1:{port}"
    ensure_up(url + PROVIDER_HEALTH, process, log_path)
    return ProviderProcess(url=url, process=process)


def fresh_token(app_id: str, user_id: str, *, ttl_s: int = 3600) -> dict[str, Any]:
    """A batch-upload item: a random access/refresh pair valid for ``ttl_s`` seconds."""
    return {
        "appId": app_id,
        "userId": user_id,
        "accessToken": os.urandom(18).hex(),
        "refreshToken": os.urandom(18).hex(),
        "accessTokenExpiry": int(time.time()) + ttl_s,
        "scopes": ["read"],
    }


@dataclass
class DashboardProcess:
    """The Streamlit dashboard in a subprocess, pointed at a broker."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the dashboard."""
        stop_process(self.process)


def start_dashboard(broker: BrokerProcess, work_dir: Path) -> DashboardProcess:
    """``python -m streamlit run dashboard`` (as ``outbound up`` runs it) against ``broker``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env_file = work_dir / "empty.env"  # keeps a developer's own .env out
    env_file.touch()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = dashboard_argv(port, watch_files=False)
    env = {
        "OUTBOUND_DATA_DIR": str(broker.data_dir),
        "OUTBOUND_ENV_FILE": str(env_file),
        "OUTBOUND_DASHBOARD_URL": url,
        "DESCOPE_PROJECT_ID": "",
        "DESCOPE_MANAGEMENT_KEY": "",
        "DESCOPE_BASE_URL": "",
    }
    log_path = work_dir / "dashboard.log"
    process = spawn(argv, log_path, env)
    ensure_up(url + DASHBOARD_HEALTH, process, log_path)
    return DashboardProcess(url=url, process=process)


def seed_connections(broker: BrokerProcess, users: int, apps: int) -> None:
    """``users`` users (``seeded-<n>@example.test``) × ``apps`` catalog apps' tokens, made as
    ``outbound seed`` makes them (``broker.seed.seed_bulk``: in bulk through the store)."""
    seed_bulk(broker.settings, users=users, tokens_per_user=apps, prefix="seeded")
