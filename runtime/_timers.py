"""One thread that runs small callbacks later: restart back-off, idle ticks, ``tell_later``.

A ``threading.Timer`` per delay would cost a thread each; this keeps a heap instead.
Callbacks must be quick (they only enqueue messages); one that raises is logged.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from loguru import logger


class TimerHandle:
    """Lets the scheduler of a callback cancel it before it runs."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """A heap of due callbacks served by one thread, started and stopped by the system."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, TimerHandle, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="runtime-timers", daemon=False)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        handle = TimerHandle()
        with self._cond:
            if self._closed:
                handle.cancel()
                return handle
            heapq.heappush(
                self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), handle, callback)
            )
            self._cond.notify()
        return handle

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, handle, callback = heapq.heappop(self._heap)
            if handle.cancelled:
                continue
            try:
                callback()
            except Exception:  # noqa: BLE001 - boundary: one bad callback must not stop all timers
                logger.exception("timer callback {!r} failed", callback)
