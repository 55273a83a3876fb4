"""When to try a provider call again, and when to stop calling a provider for a while.

:class:`RetryPolicy` is pure arithmetic (no sleeping), and :class:`CircuitBreaker` reads time
from an injected clock, so both are tested without waiting.
"""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING

import msgspec

from actors.errors import (
    BadProviderResponse,
    CircuitOpen,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Callable


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How often and how patiently to retry a call that failed before producing anything.

    Attributes:
        attempts: Calls in total, the first included; 1 disables retrying.
        base_delay: Wait before the first retry, in seconds; doubles for each further retry.
        max_delay: Ceiling of the exponential backoff, in seconds.
        jitter: Fraction of each backoff taken off at random (0 to 1), so that many sessions
            failing together do not come back in lockstep.
        max_retry_after: Ceiling on a provider's Retry-After hint, in seconds: a chat user is
            waiting, so we do not sleep for as long as a provider might ask.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 20.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("retry attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("retry jitter must be between 0 and 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("retry delays must not be negative")

    def delay(self, attempt: int, error: ProviderError, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise ``error``.

        Args:
            attempt: The attempt that just failed, counting from 1.
            error: How it failed; only retryable errors (see ``actors.errors``) are retried.
            rng: Source of jitter, injected so tests are deterministic.
        """
        if not error.retryable or attempt >= self.attempts:
            return None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        backoff = min(self.base_delay * 2.0 ** (attempt - 1), self.max_delay)
        return backoff * (1.0 - self.jitter * rng.random())


class CircuitSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a provider counts as broken and how long to leave it alone.

    Attributes:
        failure_threshold: Consecutive failed calls that open the circuit.
        reset_timeout: Seconds the circuit stays open before one trial call is let through.
    """

    failure_threshold: int = 5
    reset_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("circuit failure_threshold must be at least 1")
        if self.reset_timeout < 0:
            raise ValueError("circuit reset_timeout must not be negative")


class CircuitState(enum.Enum):
    """Where a :class:`CircuitBreaker` stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


def counts_against_circuit(error: ProviderError) -> bool:
    """Whether a failure says the provider is unhealthy, rather than our request or our key.

    Rate limiting is left out on purpose: the provider is healthy and tells us when to return.
    """
    return isinstance(error, ProviderUnavailable | ProviderTimeout | BadProviderResponse)


class CircuitBreaker:
    """Closed, open or half-open, for one provider; not thread-safe (one event loop owns it).

    Closed: calls go through and consecutive failures are counted. Open: :meth:`check` raises
    :class:`CircuitOpen` without calling. Half-open (after ``reset_timeout``): exactly one trial
    call goes through; its success closes the circuit, its failure opens it again.
    """

    def __init__(
        self,
        settings: CircuitSettings,
        *,
        provider: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._provider = provider
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> CircuitState:
        """The current state, moving to half-open if the reset timeout has passed."""
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self._settings.reset_timeout
        ):
            self._state = CircuitState.HALF_OPEN
            self._trial_in_flight = False
        return self._state

    def check(self) -> None:
        """Call before each attempt; admits it or raises.

        Raises:
            CircuitOpen: The circuit is open, or half-open with its one trial call in flight.
        """
        state = self.state
        if state is CircuitState.CLOSED:
            return
        if state is CircuitState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        remaining = max(0.0, self._settings.reset_timeout - (self._clock() - self._opened_at))
        raise CircuitOpen(
            f"{self._provider}: suspended after {self._failures} failures, "
            f"next try in {remaining:.0f}s",
            provider=self._provider,
        )

    def record_success(self) -> None:
        """The admitted call worked: close the circuit and forget past failures."""
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._trial_in_flight = False

    def record_failure(self) -> None:
        """The admitted call failed in a way that says the provider is unhealthy."""
        self._failures += 1
        self._trial_in_flight = False
        if (
            self._state is CircuitState.HALF_OPEN
            or self._failures >= self._settings.failure_threshold
        ):
            self._state = CircuitState.OPEN
            self._opened_at = self._clock()

    def record_neutral(self) -> None:
        """The admitted call ended without telling us anything (cancelled, or our own fault).

        In half-open state this frees the trial slot for the next caller.
        """
        self._trial_in_flight = False

    def trip(self) -> None:
        """Open the circuit now, whatever the count of failures so far.

        The health supervisor calls this when its own cheap call to the provider keeps
        failing, so chats get the short "unavailable" line at once instead of each waiting
        out its timeouts and retries. After ``reset_timeout`` one trial call decides, as after
        any other opening.
        """
        self._state = CircuitState.OPEN
        self._opened_at = self._clock()
        self._trial_in_flight = False
