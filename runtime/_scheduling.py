"""Actor threads run under Linux's batch policy, so that waking one never preempts the loop.

A message told from the event loop's thread wakes its actor's thread. Linux then often
places the woken thread on the loop's own CPU and lets it preempt the loop at once, only
for it to wait for the GIL the loop holds: two context switches that the loop, which
carries every chat's latency, pays for in the middle of its work. ``SCHED_BATCH`` tells
the kernel a thread is not interactive: it keeps its full share of CPU (same weight as
``SCHED_OTHER``) but a batch thread never preempts a running normal one when it wakes; it
runs on an idle CPU, at the loop's next pause (an I/O wait, where the loop drops the GIL
too) or at the next tick. In the bot benchmark this cut the loop's involuntary context
switches from about 7.8 to 2.4 an update and its overhead p99 by about 13%
(docs/benchmarks.md, "Stop 17").

The event loop's thread is put back under the normal policy (it may be started from an
actor's thread, whose policy a new thread inherits). Where the OS has no batch policy this
is a no-op.
"""

from __future__ import annotations

import os

from loguru import logger

_BATCH: int | None = getattr(os, "SCHED_BATCH", None)
_NORMAL: int | None = getattr(os, "SCHED_OTHER", None)


def as_batch_thread() -> None:
    """Put the calling thread under ``SCHED_BATCH`` (if the OS has it; else nothing)."""
    _set_policy(_BATCH, "SCHED_BATCH")


def as_normal_thread() -> None:
    """Put the calling thread back under the normal policy (``SCHED_OTHER``)."""
    _set_policy(_NORMAL, "SCHED_OTHER")


def _set_policy(policy: int | None, name: str) -> None:
    if policy is None or _BATCH is None:
        return
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))  # 0: the calling thread
    except OSError as exc:  # a sandbox may forbid it: the thread runs as before
        logger.debug("could not make this thread {}: {}", name, exc)
