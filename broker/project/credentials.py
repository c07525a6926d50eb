"""Project credentials: the project id (Descope's shape) and management keys (kept as digests)."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import string
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement

from broker.crypto import KeyRing, Secret, keyed_digest
from broker.store.db import Database, now_s
from broker.store.identity import ManagementKey, Project

log = logging.getLogger("broker.keys")

LOCAL_ENV_FILE = "local.env"
LOCAL_ENV_HEADER = "Local project credentials, written by `outbound`. Keep private."
_BASE62 = string.ascii_letters + string.digits
_DIGEST_PURPOSE = "management-key"
# A revoked key stops working in every worker within this many seconds.
MAX_CACHE_AGE_S = 5.0


def new_project_id() -> str:
    """A project id shaped like Descope's: ``P`` + 27 base62 characters (28 in all, US region)."""
    return "P" + "".join(secrets.choice(_BASE62) for _ in range(27))


def new_management_key() -> str:
    """A high-entropy management key (256 bits)."""
    return "K" + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")


def new_id(prefix: str, length: int = 27) -> str:
    """A random id with a one-letter kind prefix (``U`` users, ``T`` tenants…)."""
    return prefix + "".join(secrets.choice(_BASE62) for _ in range(length))


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file; comments and blanks ignored."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: dict[str, str], header: str) -> None:
    """Write ``KEY=value`` lines, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# {header}\n")
        for key, value in values.items():
            fh.write(f"{key}={value}\n")
    tmp.replace(path)


@dataclass(frozen=True)
class ProjectCredentials:
    """What a client needs to talk to this broker."""

    project_id: str
    management_key: Secret


def ensure_project(db: Database, data_dir: Path, ring: KeyRing) -> ProjectCredentials:
    """Create or load the project id and the local management key; pinned env values win.

    ``OUTBOUND_PROJECT_ID`` / ``OUTBOUND_MANAGEMENT_KEY`` pin them (tests and scripts);
    otherwise they come from ``<data>/local.env``, or are created on first run. A key is stored
    only while the project has none: a key named there is never added to a project that has
    keys, so a revoked key (still written in an old local.env) is never revived.
    """
    stored = read_env_file(data_dir / LOCAL_ENV_FILE)
    with db.session() as s:
        existing = s.scalar(select(Project))
        project_id = (
            os.environ.get("OUTBOUND_PROJECT_ID")
            or (existing.id if existing else None)
            or stored.get("OUTBOUND_PROJECT_ID")
            or new_project_id()
        )
        if existing is None:
            s.add(Project(id=project_id, created_at=now_s()))
        elif existing.id != project_id:
            existing.id = project_id
        key = os.environ.get("OUTBOUND_MANAGEMENT_KEY") or stored.get("OUTBOUND_MANAGEMENT_KEY")
        if not key:
            key = new_management_key()
        digest = ring.digest(key, purpose=_DIGEST_PURPOSE)
        if s.scalar(select(ManagementKey.id).limit(1)) is None:
            s.add(
                ManagementKey(id=new_id("MK", 12), digest=digest, name="local", created_at=now_s())
            )
        elif s.scalar(select(ManagementKey.id).where(_live(digest))) is None:
            log.warning(
                "the local management key (local.env or OUTBOUND_MANAGEMENT_KEY) is not a live "
                "key of this project; it stays refused (outbound keys new-management-key)"
            )
    return ProjectCredentials(project_id=project_id, management_key=Secret(key))


def _live(digest: str) -> ColumnElement[bool]:
    return and_(ManagementKey.digest == digest, ManagementKey.revoked_at.is_(None))


class ManagementKeys:
    """Checks management keys against their digests in constant time, with an in-memory cache."""

    def __init__(self, db: Database, ring: KeyRing) -> None:
        self._db = db
        self._ring = ring
        self._subkey = ring.subkey(f"digest:{_DIGEST_PURPOSE}")
        self._lock = threading.Lock()
        self._digests: frozenset[str] = frozenset()
        self._loaded_at = 0.0

    def create(self, name: str = "") -> Secret:
        """A new management key; its clear value is returned once and never stored."""
        key = new_management_key()
        with self._db.session() as s:
            s.add(
                ManagementKey(
                    id=new_id("MK", 12),
                    digest=self._ring.digest(key, purpose=_DIGEST_PURPOSE),
                    name=name,
                    created_at=now_s(),
                )
            )
        self._reload()
        return Secret(key)

    def revoke_all_except(self, keep: str) -> None:
        """Revoke every key but ``keep`` (rotation)."""
        keep_digest = self._ring.digest(keep, purpose=_DIGEST_PURPOSE)
        with self._db.session() as s:
            for row in s.scalars(select(ManagementKey).where(ManagementKey.revoked_at.is_(None))):
                if row.digest != keep_digest:
                    row.revoked_at = now_s()
        self._reload()

    def is_valid(self, key: str) -> bool:
        """Whether ``key`` is a live management key of this project.

        The digests are re-read at most once a second on a miss (a key another worker just
        created) and every ``MAX_CACHE_AGE_S`` on a hit (a key another worker revoked).
        """
        digest = keyed_digest(self._subkey, key)
        age = now_s() - self._loaded_at
        if age > MAX_CACHE_AGE_S:
            self._reload()
        if self._matches(digest):
            return True
        if age > 1.0:
            self._reload()
            return self._matches(digest)
        return False

    def is_known(self, key: str) -> bool:
        """Whether ``key`` matches a digest held in memory and still fresh (no database read)."""
        fresh = now_s() - self._loaded_at <= MAX_CACHE_AGE_S
        return fresh and self._matches(keyed_digest(self._subkey, key))

    def _matches(self, digest: str) -> bool:
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(known, digest)
        return found

    def _reload(self) -> None:
        with self._lock, self._db.session() as s:
            rows = s.scalars(select(ManagementKey.digest).where(ManagementKey.revoked_at.is_(None)))
            self._digests = frozenset(rows)
            self._loaded_at = now_s()
