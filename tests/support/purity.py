"""A guard for pure tests: ``pure()`` fails the test whose block bound a socket (started a
server) or started a program. It listens to Python's audit events (``socket.bind``,
``subprocess.Popen``), so it sees servers started in other threads and by uvloop too.
tests/unit/conftest.py wraps every unit test and its fixtures in it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

_WATCHED = {"socket.bind": "binds a socket (a server)", "subprocess.Popen": "starts a program"}
_watching = [False]
_seen: list[str] = []


def _audit(event: str, args: Any) -> None:
    if _watching[0] and event in _WATCHED:
        _seen.append(_WATCHED[event])


sys.addaudithook(_audit)


@contextmanager
def pure() -> Iterator[None]:
    """Fail (after the block) if the block bound a socket or started a program."""
    outer_watching, outer_seen = _watching[0], _seen[:]
    _watching[0] = True
    _seen.clear()
    try:
        yield
    finally:
        _watching[0] = outer_watching
        found = _seen[:]
        _seen[:] = outer_seen
    if found:
        pytest.fail(
            f"a unit test {found[0]}: move it to its layer (tests/unit/conftest.py says which)"
        )
