"""Live figures an actor keeps about itself, cheap enough to update on every message.

They live in the actor's cell, not in the actor object, so they survive restarts. The
actor's own thread writes them (and the event loop, for messages an actor serves there:
a count may then miss one now and then, which figures for a debug view can afford);
snapshots read them from other threads, which is safe for ints, floats and a
``tuple(deque)`` copy under the GIL.
"""

from __future__ import annotations

import time
from collections import deque

import msgspec

RECENT_TYPES = 16
LATENCY_WINDOW = 512


class FailureInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The last exception that escaped a handler (type and text only)."""

    type: str
    message: str
    at: float


class ActorStats:
    """Counters, recent message types and a window of processing times for one address."""

    __slots__ = (
        "created_at",
        "durations",
        "failures",
        "last_failure",
        "last_message_at",
        "processed",
        "recent",
        "restart_times",
        "restarts",
    )

    def __init__(self) -> None:
        self.created_at = time.time()
        self.processed = 0
        self.failures = 0
        self.restarts = 0
        self.last_message_at: float | None = None
        self.last_failure: FailureInfo | None = None
        self.recent: deque[tuple[str, float]] = deque(maxlen=RECENT_TYPES)
        self.durations: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.restart_times: deque[float] = deque(maxlen=64)

    def record_message(self, type_name: str, seconds: float, at: float) -> None:
        self.processed += 1
        self.last_message_at = at
        self.recent.append((type_name, at))
        self.durations.append(seconds)

    def record_failure(self, exc: BaseException) -> None:
        self.failures += 1
        self.last_failure = FailureInfo(type=type(exc).__name__, message=str(exc), at=time.time())

    def record_restart(self) -> None:
        self.restarts += 1
        self.restart_times.append(time.time())

    def restarts_since(self, since: float) -> int:
        """How many restarts happened at or after ``since`` (epoch seconds; last 64 kept)."""
        return sum(1 for at in tuple(self.restart_times) if at >= since)

    def percentiles_ms(self) -> tuple[float, float]:
        """Return (p50, p99) processing time in milliseconds over the recent window."""
        window = sorted(self.durations)
        if not window:
            return (0.0, 0.0)
        last = len(window) - 1
        return (window[round(last * 0.50)] * 1000.0, window[round(last * 0.99)] * 1000.0)
