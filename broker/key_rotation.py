"""Key management for operators: master key ring, signing keys, management keys (``outbound keys``)."""

from __future__ import annotations

import os

from broker.config import BrokerSettings
from broker.context import bootstrap
from broker.crypto import MASTER_KEY_ENV, KeyRing
from broker.project.credentials import LOCAL_ENV_FILE, read_env_file, write_env_file


def rotate_master_key(settings: BrokerSettings) -> str:
    """Add a new current master key; older keys stay in the ring so sealed values still open.

    New and rewritten secrets (refreshed tokens, updated apps) are sealed with the new key.
    With ``OUTBOUND_MASTER_KEY`` set, the new ring is printed for the operator to deploy.
    """
    ring = KeyRing.load_or_create(settings.data_dir).rotated()
    if os.environ.get(MASTER_KEY_ENV):
        return f"Set {MASTER_KEY_ENV} on every broker to:\n{ring.to_json()}"
    ring.save(settings.data_dir)
    return f"master key rotated; current key id {ring.current} (restart brokers to use it)"


def rotate_signing_key(settings: BrokerSettings) -> str:
    """Start a new JWT signing key; the old one stays published until its last token expires."""
    broker = bootstrap(settings, write_local_env=False)
    kid = broker.signing.rotate(publish_old_for_s=settings.refresh_ttl_s)
    broker.db.dispose()
    return f"signing key rotated; new key id {kid} (restart brokers to sign with it)"


def create_management_key(settings: BrokerSettings, name: str) -> str:
    """A new management key, shown once and stored only as a digest."""
    broker = bootstrap(settings, write_local_env=False)
    key = broker.management_keys.create(name)
    broker.db.dispose()
    return f"new management key (shown once, keep it secret):\n{key.reveal()}"


def revoke_other_management_keys(settings: BrokerSettings, keep: str) -> str:
    """Revoke every management key except ``keep``."""
    broker = bootstrap(settings, write_local_env=False)
    if not broker.management_keys.is_valid(keep):
        broker.db.dispose()
        raise SystemExit("the key to keep is not a live management key; nothing revoked")
    broker.management_keys.revoke_all_except(keep)
    broker.db.dispose()
    # local.env names the key the local dashboard uses: it must not keep naming a revoked one.
    path = settings.data_dir / LOCAL_ENV_FILE
    values = read_env_file(path)
    if values.get("OUTBOUND_MANAGEMENT_KEY", keep) != keep:
        values["OUTBOUND_MANAGEMENT_KEY"] = keep
        write_env_file(
            path, values, "Local project credentials, written by `outbound`. Keep private."
        )
        return f"every other management key is revoked; {path} now holds the kept key"
    return "every other management key is revoked"
