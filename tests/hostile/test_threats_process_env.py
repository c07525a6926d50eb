"""``outbound up`` hands the broker's secrets to the broker only: the dashboard and the demo
provider it starts get none of the broker's ``OUTBOUND_`` variables beyond the few they read.

A dashboard (a web app rendering provider data) or a demo provider that could read the master
key ring, the SMTP password or the database URL from its own environment would turn any bug in
it into the vault's keys; ``/proc/<pid>/environ`` of each child shows what it holds.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from broker.cli import DASHBOARD_VARIABLES, PROVIDER_VARIABLES
from broker.crypto import KeyRing
from tests.support.stack import running_stack


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").partition("=") for item in raw if item)
    return {name: value for name, _, value in pairs}


def _role(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"streamlit" in argv:
        return "dashboard"
    return "provider" if b"provider" in argv else "broker" if b"broker" in argv else "?"


def test_the_broker_alone_holds_the_brokers_secrets(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path / "ring")
    smtp_password = secrets.token_urlsafe(12)
    webhook_secret = secrets.token_urlsafe(24)
    secret_env = {
        "OUTBOUND_MASTER_KEY": ring.to_json(),
        "OUTBOUND_SMTP_URL": f"smtp://mailer:{smtp_password}@127.0.0.1:2525",
        "OUTBOUND_WEBHOOK_SECRET": webhook_secret,
    }
    with running_stack(tmp_path / "data", extra_env=secret_env) as stack:
        environs = {_role(pid): _environ(pid) for pid in _children(stack.process.pid)}

    assert set(environs) == {"broker", "provider", "dashboard"}, environs.keys()
    broker = environs["broker"]
    assert json.loads(broker["OUTBOUND_MASTER_KEY"]) == json.loads(ring.to_json())
    assert smtp_password in broker["OUTBOUND_SMTP_URL"]
    for role, keep in (("dashboard", DASHBOARD_VARIABLES), ("provider", PROVIDER_VARIABLES)):
        env = environs[role]
        outbound = {name for name in env if name.startswith("OUTBOUND_")}
        assert outbound <= keep, (role, outbound - keep)
        held = "\n".join(env.values())
        for secret in (ring.to_json(), smtp_password, webhook_secret):
            assert secret not in held, role
    # What the dashboard needs to find the broker and to know it is a demo is still there.
    assert environs["dashboard"]["OUTBOUND_DATA_DIR"]
    assert environs["dashboard"]["OUTBOUND_DEMO_MODE"] == "1"
