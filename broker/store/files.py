"""The data folder is private: the folder and its sub-folders 0700, every file in it 0600.

It holds the database (password hashes, emails, sealed tokens), its ``-wal`` and ``-shm``
files, the master key ring and ``local.env`` (a management key). Modes are set when each is
created (a private umask; the SQLite file created 0600 before SQLite opens it, so its WAL and
SHM files, which SQLite creates with the database file's mode, are private too) and repaired at
every start, for folders made by older versions or copied with a loose umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def secure_data_dir(data_dir: Path, database_url: str) -> None:
    """Create the data folder if needed and make it, and all in it, owner-only."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    database_file = sqlite_file(database_url)
    if database_file is not None and not database_file.exists():
        database_file.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.close(os.open(database_file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for path in [data_dir, *data_dir.rglob("*")]:
        _repair(path)
    if database_file is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            companion = database_file.with_name(database_file.name + suffix)
            if companion.exists():
                _repair(companion)


def _repair(path: Path) -> None:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return  # not followed: a link may point anywhere
    wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    if stat.S_IMODE(info.st_mode) != wanted:
        path.chmod(wanted)


def sqlite_file(database_url: str) -> Path | None:
    """The file behind a ``sqlite:///path`` URL (None for memory or other databases)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or database_url == prefix + ":memory:":
        return None
    return Path(database_url[len(prefix) :].split("?", 1)[0])
