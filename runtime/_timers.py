"""One thread that runs small callbacks later: restart back-off, idle ticks, ``tell_later``.

A ``threading.Timer`` per delay would cost a thread each; this keeps a heap instead.
Callbacks must be quick (they only enqueue messages); one that raises is logged.

A cancelled callback is let go at once, and the heap drops cancelled entries once they
are most of it (as asyncio's loop does), so timers cancelled long before they fall due
(a 300 s answer timeout, cancelled when the answer comes) keep nothing in memory.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from loguru import logger

from runtime._scheduling import as_batch_thread

# Rebuild the heap when more than this many entries, and more than half of it, are cancelled.
COMPACT_AFTER = 100


class TimerHandle:
    """Lets the scheduler of a callback cancel it before it runs."""

    __slots__ = ("_timers", "callback", "cancelled")

    def __init__(self, callback: Callable[[], None] | None, timers: Timers | None) -> None:
        self.callback = callback  # None once cancelled or run: nothing it holds is kept
        self.cancelled = callback is None
        self._timers = timers

    def cancel(self) -> None:
        """Let go of the callback (and whatever it holds); it will not run. Idempotent."""
        self.cancelled = True
        timers = self._timers
        if timers is None:  # already run, already cancelled, or never scheduled
            self.callback = None
            return
        timers._cancel(self)  # noqa: SLF001 - the handle's own scheduler


class Timers:
    """A heap of due callbacks served by one thread, started and stopped by the system."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._cancelled_count = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="runtime-timers", daemon=False)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        with self._cond:
            if self._closed:
                return TimerHandle(None, None)
            handle = TimerHandle(callback, self)
            heapq.heappush(
                self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), handle)
            )
            # The thread sleeps until the earliest entry: wake it only if that is this one.
            # Most timers are answer timeouts set behind earlier ones, and a thread woken for
            # nothing takes the GIL from the one that set the timer at its busiest moment.
            if self._heap[0][2] is handle:
                self._cond.notify()
        return handle

    def waiting(self) -> int:
        """Entries in the heap, cancelled ones not yet dropped included."""
        with self._cond:
            return len(self._heap)

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._closed = True
            for _, _, handle in self._heap:
                handle.callback = None
                handle._timers = None  # noqa: SLF001 - see TimerHandle
            self._heap.clear()
            self._cancelled_count = 0
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _cancel(self, handle: TimerHandle) -> None:
        with self._cond:
            if handle.callback is None:
                return
            handle.callback = None
            handle._timers = None  # noqa: SLF001 - see TimerHandle
            self._cancelled_count += 1
            cancelled = self._cancelled_count
            if cancelled > COMPACT_AFTER and 2 * cancelled > len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2].callback is not None]
                heapq.heapify(self._heap)
                self._cancelled_count = 0
                self._cond.notify()  # the earliest entry may have changed

    def _run(self) -> None:
        as_batch_thread()  # see runtime/_scheduling.py
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, handle = heapq.heappop(self._heap)
                callback, handle.callback, handle._timers = handle.callback, None, None  # noqa: SLF001
                if callback is None:
                    self._cancelled_count -= 1
            if callback is None:
                continue
            try:
                callback()
            except Exception:  # noqa: BLE001 - boundary: one bad callback must not stop all timers
                logger.exception("timer callback {!r} failed", callback)
