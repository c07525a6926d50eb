"""``broker.readiness.wait_until_up``: the one "is it up yet" of ``outbound up``, tests and bench."""

from __future__ import annotations

import subprocess
import sys
import time

from fastapi import FastAPI

from broker.readiness import wait_until_up
from tests.support.servers import ThreadedServer, free_port


def test_a_server_answering_below_500_is_up() -> None:
    server = ThreadedServer(FastAPI()).start()  # answers 404 to every path
    try:
        assert wait_until_up(f"{server.url}/anything", timeout_s=5)
    finally:
        server.stop()


def test_nothing_listening_is_not_up_once_the_time_is_over() -> None:
    assert not wait_until_up(f"http://127.0.0.1:{free_port()}/", timeout_s=0.5)


def test_a_program_that_exited_is_not_waited_for() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    started = time.monotonic()
    assert not wait_until_up(f"http://127.0.0.1:{free_port()}/", timeout_s=60, process=process)
    assert time.monotonic() - started < 30  # it gave up at once, not after the 60 s
