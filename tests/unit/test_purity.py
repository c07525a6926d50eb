"""The unit suite's guard (tests/support/purity.py, applied by tests/unit/conftest.py): no server,
no program in a unit test."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.support.purity import pure


def test_binding_a_socket_fails_a_unit_test() -> None:
    with (
        pytest.raises(pytest.fail.Exception, match="binds a socket"),
        pure(),
        socket.socket() as sock,
    ):
        sock.bind(("127.0.0.1", 0))


def test_starting_a_program_fails_a_unit_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="starts a program"), pure():
        subprocess.run([sys.executable, "-c", "pass"], check=False)


def test_a_pure_block_passes() -> None:
    with pure():
        assert sum(range(4)) == 6
