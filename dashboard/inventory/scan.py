"""Running an inventory's calls: a bounded thread pool over the one pooled transport.

A task is one HTTP call; it may answer follow-up tasks (a user page yields its users, a user
yields its apps), so work starts before the whole list is known. Calls that fail become
``Failure`` rows instead of aborting. A 429 that the transport did not wait out (its
``Retry-After`` was longer than it waits, or it came twice) pauses *every* worker until the time
the service asked for, then the call is retried, up to ``max_attempts`` times.
Progress is reported from the calling thread only, so a Streamlit callback may draw with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from dashboard.descope import (
    Throttled,
)
from dashboard.inventory.records import Connection, Failure, Progress

T = TypeVar("T")
Task = Callable[[], Iterable["Task"]]
ProgressCallback = Callable[[Progress], None]

DEFAULT_WORKERS = 16
DEFAULT_MAX_ATTEMPTS = 5
UNEXPECTED = "An unexpected error interrupted this call; it has been logged."

log = logging.getLogger(__name__)


class Scan:
    """Runs tasks concurrently, paces them on 429, and collects connections and failures."""

    def __init__(
        self,
        *,
        workers: int = DEFAULT_WORKERS,
        on_progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.workers = max(1, workers)
        self.cancel = cancel or threading.Event()
        self._on_progress = on_progress
        # Waiting on the cancel event makes a long Retry-After interruptible.
        self._sleep = sleep or self.cancel.wait
        self._clock = clock
        self._max_attempts = max(1, max_attempts)
        self._lock = threading.Lock()
        self._resume_at = 0.0
        self.connections: list[Connection] = []
        self.failures: list[Failure] = []
        self.users_scanned = 0
        self.calls = 0
        self.backoffs = 0
        self.started = clock()

    def polite(self, call: Callable[[], T]) -> T:
        """Make one call, waiting out (and retrying after) throttling as the service asks."""
        for attempt in range(1, self._max_attempts + 1):
            with self._lock:
                delay = self._resume_at - self._clock()
                self.calls += 1
            if delay > 0:
                self._sleep(delay)
            try:
                return call()
            except Throttled as exc:
                if attempt == self._max_attempts or self.cancel.is_set():
                    raise
                with self._lock:
                    self.backoffs += 1
                    self._resume_at = max(self._resume_at, self._clock() + exc.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def found(self, connection: Connection) -> None:
        """Record a connection (thread-safe)."""
        with self._lock:
            self.connections.append(connection)

    def failed(self, failure: Failure) -> None:
        """Record a failed call (thread-safe)."""
        with self._lock:
            self.failures.append(failure)

    def scanned_users(self, count: int) -> None:
        """Count users looked at (thread-safe)."""
        with self._lock:
            self.users_scanned += count

    def _run_task(self, task: Task) -> list[Task]:
        if self.cancel.is_set():
            return []
        try:
            return list(task())
        except Exception:
            log.exception("inventory task failed")
            self.failed(Failure(step="inventory", sentence=UNEXPECTED))
            return []

    def run(self, first: Iterable[Task]) -> bool:
        """Run ``first`` and every follow-up; False when cancelled before the end."""
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="inventory")
        pending: set[Future[list[Task]]] = {pool.submit(self._run_task, t) for t in first}
        done, total = 0, len(pending)
        finished_all = False
        try:
            while pending and not self.cancel.is_set():
                finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += 1
                    for follow in future.result():
                        pending.add(pool.submit(self._run_task, follow))
                        total += 1
                if finished and self._on_progress is not None:
                    self._on_progress(Progress(done, total, self._clock() - self.started))
            finished_all = not pending
        finally:
            if not finished_all:
                # Cancelled, or the caller was interrupted (a Streamlit rerun): stop the rest.
                self.cancel.set()
            pool.shutdown(wait=finished_all, cancel_futures=True)
        return finished_all
