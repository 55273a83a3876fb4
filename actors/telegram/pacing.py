"""Token buckets: how the gateway stays inside Telegram's sending limits.

Telegram allows about one message a second per chat (short bursts pass), 20 a minute
per group and about 30 a second overall. Each chat gets its own bucket so that a chat
waiting on its limit, or on a 429, never holds up the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Pacing:
    """The limits the outbox keeps (from ``[telegram]`` in config.toml)."""

    per_chat_rate: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20
    global_rate: float = 30.0
    # Back-off doubles from retry_backoff up to max_network_backoff: 40 retries ride out
    # about 17 minutes of Telegram being unreachable. Past that the call is dropped; its
    # update stays in the durable inbox only if the process stops first.
    network_retries: int = 40
    retry_backoff: float = 0.5
    max_network_backoff: float = 30.0
    max_in_flight: int = 16  # the gateway's HTTP connection pool size (TELEGRAM_CONNECTIONS)
    max_retry_after: float = 300.0


class TokenBucket:
    """``rate`` tokens a second, holding at most ``capacity``; one token per API call."""

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._capacity = max(1.0, capacity)
        self._tokens = self._capacity
        self._clock = clock
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now

    def wait_time(self) -> float:
        """Seconds until a token is available (0 if one is now)."""
        self._refill()
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def take(self) -> None:
        """Take a token, waiting for it if need be.

        The token is reserved at once (the balance may go negative), so callers waiting
        together are served in order, each after its fair share of time.
        """
        self._refill()
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)

    @property
    def idle(self) -> bool:
        """True when the bucket is full again, i.e. forgetting it changes nothing."""
        self._refill()
        return self._tokens >= self._capacity
