"""In-process single-flight: concurrent callers of one key share one run of the work.

The first caller (the leader) runs the work; callers that arrive while it runs wait and get its
result — its error too (a fresh copy, so tracebacks are not shared between threads). Only the
leader goes on to the database lease, so a burst of requests in one worker costs one poller.

``Flights`` serves threads; ``LoopFlights`` the event loop: a burst of fetches waiting on one
refresh awaits the leader there, instead of taking a worker thread each (200 threads woken and
contending for the GIL, the callers beyond the thread pool's size queued behind the refresh).
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Generic, TypeVar

from broker.errors import DescopeError
from broker.lifecycle import metrics

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: DescopeError | None = None


class Flights(Generic[T]):
    """Runs of keyed work in flight in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[tuple[str, str], _Flight[T]] = {}

    def run(self, key: tuple[str, str], work: Callable[[], T]) -> T:
        """``work()``, or the result of the run of ``key`` already in flight."""
        with self._lock:
            flight = self._active.get(key)
            leader = flight is None
            if flight is None:
                flight = self._active[key] = _Flight()
        if not leader:
            return self._join(flight)
        try:
            flight.result = work()
            return flight.result
        except DescopeError as exc:
            flight.error = exc
            raise
        except Exception:
            flight.error = DescopeError("Internal error during a token refresh")
            raise
        finally:
            with self._lock:
                self._active.pop(key, None)
            flight.done.set()

    @staticmethod
    def _join(flight: _Flight[T]) -> T:
        metrics.LEASE_WAITS.labels(scope="process").inc()
        started = time.perf_counter()
        flight.done.wait()
        metrics.LEASE_WAIT_SECONDS.observe(time.perf_counter() - started)
        if flight.error is not None:
            raise copy.copy(flight.error)
        assert flight.result is not None
        return flight.result


class LoopFlights(Generic[T]):
    """Single-flight of awaitable work on the event loop (see the module docstring).

    The work runs as a task of its own: a caller going away (the leader included) does not
    cancel it, and the others still get its result."""

    def __init__(self) -> None:
        self._active: dict[tuple[str, ...], asyncio.Future[T]] = {}

    async def run(
        self,
        key: tuple[str, ...],
        work: Callable[[], Awaitable[T]],
        joined: Callable[[T | DescopeError], None],
    ) -> T:
        """``await work()``, or the result of the run of ``key`` already in flight on this loop
        (then ``joined`` is told what this caller gets: the result, or the error it raises)."""
        flight = self._active.get(key)
        if flight is not None and flight.get_loop() is asyncio.get_running_loop():
            return await _joined(flight, joined)
        flight = self._active[key] = asyncio.ensure_future(work())
        flight.add_done_callback(partial(self._settled, key))
        return await asyncio.shield(flight)

    def _settled(self, key: tuple[str, ...], flight: asyncio.Future[T]) -> None:
        if self._active.get(key) is flight:
            del self._active[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: no "never retrieved" warning when the leader left


async def _joined(flight: asyncio.Future[T], joined: Callable[[T | DescopeError], None]) -> T:
    metrics.LEASE_WAITS.labels(scope="process").inc()
    started = time.perf_counter()
    try:
        result = await asyncio.shield(flight)
    except DescopeError as exc:
        error = copy.copy(exc)  # a fresh copy: tracebacks are not shared between callers
        joined(error)
        raise error from None
    except Exception:
        error = DescopeError("Internal error during a token refresh")
        joined(error)
        raise error from None
    finally:
        metrics.LEASE_WAIT_SECONDS.observe(time.perf_counter() - started)
    joined(result)
    return result
