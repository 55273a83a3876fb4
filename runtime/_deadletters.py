"""The dead-letter office: a bounded ring of messages nobody could handle."""

from __future__ import annotations

import threading
import time
from collections import deque

from loguru import logger

from runtime._message import Message


class DeadLetter(Message, frozen=True, kw_only=True):
    """A message that was not delivered or was given up on. Never holds its contents."""

    message_type: str
    target: str
    reason: str
    at: float
    correlation_id: str
    sender: str | None = None


class DeadLetters:
    """Keeps the most recent dead letters for introspection; older ones fall off the end.

    Written from any thread (whoever found the message undeliverable), read by snapshots.
    """

    def __init__(self, capacity: int = 1000) -> None:
        self._ring: deque[DeadLetter] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._total = 0

    def record(
        self,
        *,
        message_type: str,
        target: str,
        reason: str,
        correlation_id: str,
        sender: str | None,
    ) -> DeadLetter:
        letter = DeadLetter(
            message_type=message_type,
            target=target,
            reason=reason,
            at=time.time(),
            correlation_id=correlation_id,
            sender=sender,
        )
        with self._lock:
            self._ring.append(letter)
            self._total += 1
        logger.warning(
            "dead letter: {} to {} ({}) cid={}", message_type, target, reason, correlation_id
        )
        return letter

    @property
    def total(self) -> int:
        """How many dead letters there have been since start, including those dropped."""
        return self._total

    def recent(self, limit: int | None = None) -> tuple[DeadLetter, ...]:
        """Return the newest ``limit`` dead letters, newest last."""
        with self._lock:
            letters = tuple(self._ring)
        return letters if limit is None else letters[-limit:]
