"""Notices to admins, rate-limited per topic (:class:`~actors.admin.messages.NotifyAdmins`).

Health transitions, crash reports and refresh results all reach admins as private
messages; a source that flaps or a bug that fires on every update must not flood them. So
per topic at most one notice goes out per ``interval`` seconds; the ones held back in
between are counted and the next notice that goes out says how many there were. An
``urgent`` notice always goes out (and resets its topic's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MAX_TOPICS: Final = 1000  # past this, topics quiet for an interval are forgotten


@dataclass(kw_only=True)
class _Topic:
    last_sent: float
    held_back: int = 0


class AlertLimiter:
    """Decides which notices go out; see the module docstring. Times are the caller's clock."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._topics: dict[str, _Topic] = {}

    def admit(self, topic: str, *, urgent: bool, now: float) -> int | None:
        """None to hold this notice back; else send it, noting the count held back before it."""
        state = self._topics.get(topic)
        if state is not None and not urgent and now - state.last_sent < self._interval:
            state.held_back += 1
            return None
        held_back = 0 if state is None else state.held_back
        self._topics[topic] = _Topic(last_sent=now)
        if len(self._topics) > MAX_TOPICS:
            self._forget_quiet(now)
        return held_back

    def _forget_quiet(self, now: float) -> None:
        for topic, state in list(self._topics.items()):
            if now - state.last_sent >= self._interval:
                del self._topics[topic]


def with_held_back(text: str, held_back: int) -> str:
    """``text``, saying how many notices like it were held back since the last one sent."""
    if not held_back:
        return text
    plural = "notice" if held_back == 1 else "notices"
    return f"{text}\n\n(+{held_back} more {plural} on this held back since the last one.)"
