"""The ``outbound`` command: ``up``, ``broker``, ``provider``, ``seed``, ``mcp`` (ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from broker.config import (
    DEFAULT_DASHBOARD_PORT,
    DEFAULT_PORT,
    DEFAULT_PROVIDER_PORT,
    BrokerSettings,
    StartupRefused,
)
from broker.crypto import Secret
from broker.readiness import BROKER_HEALTH, DASHBOARD_HEALTH, PROVIDER_HEALTH, wait_until_up
from broker.store.files import PRIVATE_UMASK


def _announce_when_up(url: str, message: str) -> None:
    def run() -> None:
        if wait_until_up(url):
            print(message, flush=True)

    threading.Thread(target=run, daemon=True).start()


def _broker_settings(args: argparse.Namespace) -> BrokerSettings:
    lifecycle: dict[str, Any] = {}
    if args.scheduler_interval is not None:
        lifecycle["scheduler_interval_s"] = args.scheduler_interval
    if args.webhook_url:
        lifecycle["webhook_urls"] = tuple(args.webhook_url)
        secret = os.environ.get("OUTBOUND_WEBHOOK_SECRET", "")
        lifecycle["webhook_secret"] = Secret(secret) if secret else None
    try:
        settings = BrokerSettings.from_env(
            host=args.host,
            port=args.port,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            database_url=args.database_url,
            public_url=args.public_url,
            workers=args.workers,
            allowed_redirects=tuple(args.allowed_redirect) if args.allowed_redirect else None,
            scheduler_enabled=False if args.no_scheduler else None,
            dashboard_url=args.dashboard_url,
            demo_mode=True if args.demo else None,
            strict_descope=True if getattr(args, "strict_descope", False) else None,
        )
        return replace(settings, lifecycle=replace(settings.lifecycle, **lifecycle))
    except ValueError as exc:
        raise SystemExit(f"outbound broker: {exc}") from None


def cmd_broker(args: argparse.Namespace) -> int:
    """Run the broker alone (bootstraps keys first, so every worker shares them)."""
    import uvicorn

    from broker.app import create_app
    from broker.context import bootstrap
    from broker.lifecycle.metrics import prepare_multiprocess
    from broker.logs import configure_logging, uvicorn_log_config

    settings = _broker_settings(args)
    configure_logging(settings.log_level)
    broker = bootstrap(settings)
    os.environ.update(settings.to_env())
    _announce_when_up(settings.base_url + BROKER_HEALTH, f"broker ready at {settings.base_url}")
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": uvicorn_log_config(settings.log_level),
        "access_log": False,
        "timeout_graceful_shutdown": 5,
    }
    if settings.workers > 1:
        broker.db.dispose()
        prepare_multiprocess(settings.data_dir)
        uvicorn.run(
            "broker.app:create_app_from_env", factory=True, workers=settings.workers, **common
        )
    else:
        uvicorn.run(create_app(broker), **common)
    return 0


def cmd_provider(args: argparse.Namespace) -> int:
    """Run the demo OAuth provider alone."""
    import uvicorn

    from broker.demo_provider.app import create_provider_app
    from broker.logs import uvicorn_log_config

    url = f"http://{args.host}:{args.port}"
    _announce_when_up(url + PROVIDER_HEALTH, f"provider ready at {url}")
    uvicorn.run(
        create_provider_app(
            issuer=args.public_url or url,
            auto_approve=args.auto_approve,
            state_path=Path(args.data_dir) / "demo_provider.json" if args.data_dir else None,
        ),
        host=args.host,
        port=args.port,
        log_config=uvicorn_log_config("INFO"),
        access_log=False,
    )
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Create demo data through the broker's API."""
    from broker.seed import seed_bulk

    settings = _broker_settings(args)
    report = seed_bulk(settings, users=args.users, tokens_per_user=args.tokens_per_user)
    print(report)
    return 0


def _demo_mode_notice(settings: BrokerSettings) -> list[str]:
    if settings.smtp_url is not None:
        where = ["Email codes go out through OUTBOUND_SMTP_URL."]
    else:
        where = [
            "No email is sent: codes wait in the developer outbox on the sign-in page,",
            f"opened with the management key in {settings.data_dir}/local.env.",
        ]
    return [
        "Demo mode (loopback only; real deployments: docs/operations.md).",
        *[f"  {line}" for line in where],
    ]


# The ``OUTBOUND_`` variables the dashboard and the demo provider read. ``outbound up`` gives
# them only these: every other one is the broker's (the SMTP URL with its password, the
# database URL, the master key, the webhook secret…), and a program that does not need a
# secret should not hold it (docs/security.md).
DASHBOARD_VARIABLES = frozenset(
    {
        "OUTBOUND_ADMIN_ROLES",
        "OUTBOUND_DASHBOARD_URL",
        "OUTBOUND_DATA_DIR",
        "OUTBOUND_DEMO_MODE",
        "OUTBOUND_ENV_FILE",
    }
)
PROVIDER_VARIABLES = frozenset({"OUTBOUND_PROVIDER_ADMIN_SECRET"})


DASHBOARD_DIR = Path(__file__).resolve().parents[1] / "dashboard"


def dashboard_argv(port: int, *, watch_files: bool = True) -> list[str]:
    """The command that serves the dashboard on ``127.0.0.1:port``: ``outbound up``'s, and the
    tests' and benchmarks' (which leave out Streamlit's file watcher: ``watch_files=False``)."""
    argv = [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_DIR)]
    argv += ["--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}"]
    argv += ["--browser.gatherUsageStats=false"]
    return argv if watch_files else [*argv, "--server.fileWatcherType=none"]


def only_outbound(env: dict[str, str], keep: frozenset[str]) -> dict[str, str]:
    """``env`` without the ``OUTBOUND_`` variables not in ``keep`` (the others stay)."""
    return {k: v for k, v in env.items() if not k.startswith("OUTBOUND_") or k in keep}


def cmd_up(args: argparse.Namespace) -> int:
    """Start broker, demo provider and dashboard; seed demo data on first run; Ctrl-C stops all."""
    from broker.context import bootstrap
    from broker.seed import seed_first_run

    settings = _broker_settings(args)
    provider_url = f"http://127.0.0.1:{args.provider_port}"
    dashboard_url = f"http://127.0.0.1:{args.dashboard_port}"
    settings = replace(settings, dashboard_url=dashboard_url, demo_mode=True)
    booted = bootstrap(settings)
    project_id = booted.project_id
    booted.db.dispose()
    env = {**os.environ, **settings.to_env()}
    py = sys.executable
    common_flags = ["--data-dir", str(settings.data_dir), "--port", str(settings.port)]
    if settings.database_url:
        common_flags += ["--database-url", settings.database_url]
    children: list[subprocess.Popen[bytes]] = []

    def spawn(argv: Sequence[str], keep: frozenset[str] | None = None) -> None:
        """``argv`` in a session of its own, with the broker's environment (``keep``: only these
        of its ``OUTBOUND_`` variables)."""
        child_env = env if keep is None else only_outbound(env, keep)
        children.append(subprocess.Popen(list(argv), env=child_env, start_new_session=True))

    spawn([py, "-m", "broker.cli", "broker", *common_flags])
    provider_flags = ["--port", str(args.provider_port), "--data-dir", str(settings.data_dir)]
    spawn([py, "-m", "broker.cli", "provider", *provider_flags], PROVIDER_VARIABLES)
    spawn(dashboard_argv(args.dashboard_port), DASHBOARD_VARIABLES)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)

    def on_sigterm(*_: object) -> None:
        stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        ok = all(
            wait_until_up(u, 90)
            for u in (
                settings.base_url + BROKER_HEALTH,
                provider_url + PROVIDER_HEALTH,
                dashboard_url + DASHBOARD_HEALTH,
            )
        )
        if not ok:
            print("outbound: a program did not start; see the output above", file=sys.stderr)
            stop()
            return 1
        accounts = seed_first_run(settings, provider_url=provider_url)
        print(
            "\n".join(
                [
                    "",
                    "Outbound Dashboard is up.",
                    f"  dashboard      {dashboard_url}",
                    f"  broker         {settings.base_url}",
                    f"  demo provider  {provider_url}",
                    f"  project id     {project_id}  (credentials in {settings.data_dir}/local.env)",
                    "",
                    *accounts.describe(),
                    "",
                    *_demo_mode_notice(settings),
                    "",
                    "Open the dashboard, sign in, and connect 'Acme Calendar'"
                    " on the Outbound apps page.",
                    "Press Ctrl-C to stop all three.",
                ]
            ),
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("outbound: a program exited; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve the access key's user's connections as an MCP server (stdio, or loopback HTTP)."""
    from broker.mcp_server.run import run

    return run(args.transport, args.port)


def cmd_keys(args: argparse.Namespace) -> int:
    """Rotate the master or signing key, or create / revoke management keys."""
    from broker import key_rotation

    settings = _broker_settings(args)
    if args.action == "rotate-master":
        print(key_rotation.rotate_master_key(settings))
    elif args.action == "rotate-signing":
        print(key_rotation.rotate_signing_key(settings))
    elif args.action == "new-management-key":
        print(key_rotation.create_management_key(settings, args.name))
    else:
        print(key_rotation.revoke_other_management_keys(settings, args.keep))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``outbound`` argument parser."""
    parser = argparse.ArgumentParser(prog="outbound", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def broker_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=None)
        p.add_argument("--port", type=int, default=None)
        p.add_argument("--data-dir", default=None)
        p.add_argument("--database-url", default=None)
        p.add_argument("--public-url", default=None)
        p.add_argument("--workers", type=int, default=None)
        p.add_argument(
            "--allowed-redirect", action="append", help="origin or URL prefix (repeatable)"
        )
        p.add_argument(
            "--dashboard-url", default=None, help="the dashboard's URL (its origin gets CORS)"
        )
        p.add_argument(
            "--demo",
            action="store_true",
            help="demo mode, loopback only: email codes kept in a local outbox (OUTBOUND_DEMO_MODE)",
        )
        p.add_argument("--no-scheduler", action="store_true", help="disable background refresh")
        p.add_argument(
            "--scheduler-interval", type=float, default=None, help="seconds between sweeps"
        )
        p.add_argument(
            "--webhook-url",
            action="append",
            help="lifecycle event receiver (repeatable; signed with OUTBOUND_WEBHOOK_SECRET)",
        )

    up = sub.add_parser("up", help="start broker, demo provider and dashboard")
    broker_flags(up)
    up.add_argument("--provider-port", type=int, default=DEFAULT_PROVIDER_PORT)
    up.add_argument("--dashboard-port", type=int, default=DEFAULT_DASHBOARD_PORT)
    up.set_defaults(func=cmd_up)

    b = sub.add_parser("broker", help="run the broker alone")
    broker_flags(b)
    b.add_argument(
        "--strict-descope",
        action="store_true",
        help="answer only Descope's own surface, as the cloud (also OUTBOUND_STRICT_DESCOPE=1)",
    )
    b.set_defaults(func=cmd_broker)

    p = sub.add_parser("provider", help="run the demo OAuth provider alone")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PROVIDER_PORT)
    p.add_argument("--public-url", default=None)
    p.add_argument("--auto-approve", action="store_true", help="skip the consent page (tests)")
    p.add_argument("--data-dir", default=None, help="keep clients and grants across restarts")
    p.set_defaults(func=cmd_provider)

    k = sub.add_parser("keys", help="rotate the master or signing key; manage management keys")
    broker_flags(k)
    k.add_argument(
        "action",
        choices=["rotate-master", "rotate-signing", "new-management-key", "revoke-other-keys"],
    )
    k.add_argument("--name", default="", help="label of a new management key")
    k.add_argument("--keep", default="", help="the management key to keep (revoke-other-keys)")
    k.set_defaults(func=cmd_keys)

    m = sub.add_parser(
        "mcp",
        help="the user's connections as an MCP server (env: OUTBOUND_ACCESS_KEY, "
        "OUTBOUND_BROKER_URL, OUTBOUND_PROJECT_ID)",
    )
    m.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    m.add_argument("--port", type=int, default=8790, help="HTTP port on 127.0.0.1 (http only)")
    m.set_defaults(func=cmd_mcp)

    s = sub.add_parser("seed", help="bulk demo data for demos and benchmarks")
    broker_flags(s)
    s.add_argument("--users", type=int, default=50)
    s.add_argument("--tokens-per-user", type=int, default=3)
    s.set_defaults(func=cmd_seed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``outbound`` console script."""
    args = build_parser().parse_args(argv)
    if getattr(args, "port", None) is None and args.command in {"up", "broker", "seed", "keys"}:
        args.port = int(os.environ.get("OUTBOUND_PORT", DEFAULT_PORT))
    if args.command in {"up", "broker", "seed", "keys"}:
        os.umask(PRIVATE_UMASK)  # files these create in the data folder are the owner's only
    try:
        code: int = args.func(args)
    except StartupRefused as exc:
        print(f"outbound: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
