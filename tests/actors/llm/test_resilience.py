"""RetryPolicy arithmetic and CircuitBreaker states, with an injected clock and random source."""

from __future__ import annotations

import random

import pytest

from actors.errors import (
    AuthenticationFailed,
    BadProviderResponse,
    CircuitOpen,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from actors.llm import CircuitBreaker, CircuitSettings, CircuitState, RetryPolicy
from actors.llm.resilience import counts_against_circuit
from tests.actors.llm.conftest import FakeClock

RNG = random.Random(7)


def test_backoff_doubles_up_to_the_ceiling_without_jitter() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.5, max_delay=3.0, jitter=0.0)
    error = ProviderUnavailable("boom")

    delays = [policy.delay(attempt, error, RNG) for attempt in range(1, 6)]

    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_only_ever_shortens_the_backoff_within_its_fraction() -> None:
    policy = RetryPolicy(attempts=2, base_delay=1.0, jitter=0.5)

    delays = {policy.delay(1, ProviderTimeout("slow"), random.Random(seed)) for seed in range(50)}

    assert all(0.5 <= delay <= 1.0 for delay in delays if delay is not None)
    assert len(delays) > 1


def test_retry_after_is_honoured_exactly_and_capped() -> None:
    policy = RetryPolicy(attempts=3, max_retry_after=10.0)

    assert policy.delay(1, RateLimited("429", retry_after=2.5), RNG) == 2.5
    assert policy.delay(1, RateLimited("429", retry_after=90.0), RNG) == 10.0


def test_a_rate_limit_without_a_hint_backs_off_like_any_retryable_error() -> None:
    policy = RetryPolicy(attempts=3, base_delay=0.25, jitter=0.0)

    assert policy.delay(1, RateLimited("429"), RNG) == 0.25


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationFailed("401"),
        RequestRejected("400"),
        BadProviderResponse("?"),
        CircuitOpen(""),
    ],
)
def test_errors_that_retrying_cannot_fix_are_not_retried(error: ProviderError) -> None:
    assert RetryPolicy(attempts=5).delay(1, error, RNG) is None


def test_no_delay_once_the_attempts_are_used_up() -> None:
    policy = RetryPolicy(attempts=2)

    assert policy.delay(1, ProviderUnavailable("x"), RNG) is not None
    assert policy.delay(2, ProviderUnavailable("x"), RNG) is None


def test_a_policy_with_no_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


def state(breaker: CircuitBreaker) -> CircuitState:
    """Read the state afresh (mypy would otherwise keep an earlier narrowing)."""
    return breaker.state


def make_breaker(threshold: int = 3, reset: float = 10.0) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    settings = CircuitSettings(failure_threshold=threshold, reset_timeout=reset)
    return CircuitBreaker(settings, provider="p", clock=clock), clock


def test_the_circuit_opens_after_the_threshold_of_consecutive_failures() -> None:
    breaker, _ = make_breaker(threshold=3)
    for _ in range(2):
        breaker.check()
        breaker.record_failure()
    assert state(breaker) is CircuitState.CLOSED

    breaker.check()
    breaker.record_failure()

    assert state(breaker) is CircuitState.OPEN
    with pytest.raises(CircuitOpen, match="next try in 10s") as caught:
        breaker.check()
    assert caught.value.provider == "p"


def test_a_success_resets_the_failure_count() -> None:
    breaker, _ = make_breaker(threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()

    assert state(breaker) is CircuitState.CLOSED


def test_after_the_reset_timeout_exactly_one_trial_call_goes_through() -> None:
    breaker, clock = make_breaker(threshold=1, reset=10.0)
    breaker.record_failure()
    clock.advance(9.9)
    with pytest.raises(CircuitOpen):
        breaker.check()
    clock.advance(0.1)

    breaker.check()  # the trial call
    with pytest.raises(CircuitOpen):
        breaker.check()  # a second caller while the trial is in flight

    breaker.record_success()
    assert state(breaker) is CircuitState.CLOSED
    breaker.check()


def test_a_failed_trial_opens_the_circuit_for_another_reset_timeout() -> None:
    breaker, clock = make_breaker(threshold=5, reset=10.0)
    for _ in range(5):
        breaker.record_failure()
    clock.advance(10)
    breaker.check()

    breaker.record_failure()

    assert state(breaker) is CircuitState.OPEN
    clock.advance(9)
    assert state(breaker) is CircuitState.OPEN
    clock.advance(1)
    assert state(breaker) is CircuitState.HALF_OPEN


def test_a_trial_that_ends_without_a_verdict_frees_the_slot() -> None:
    breaker, clock = make_breaker(threshold=1)
    breaker.record_failure()
    clock.advance(10)
    breaker.check()

    breaker.record_neutral()

    breaker.check()  # the next caller may try


def test_tripping_opens_a_closed_circuit_at_once_until_the_reset_timeout() -> None:
    breaker, clock = make_breaker(threshold=5, reset=10.0)

    breaker.trip()

    assert state(breaker) is CircuitState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.check()
    clock.advance(10)
    breaker.check()  # the trial call
    breaker.record_success()
    assert state(breaker) is CircuitState.CLOSED


@pytest.mark.parametrize(
    ("error", "counts"),
    [
        (ProviderUnavailable("503"), True),
        (ProviderTimeout("slow"), True),
        (BadProviderResponse("garbage"), True),
        (RateLimited("429"), False),
        (AuthenticationFailed("401"), False),
        (RequestRejected("400"), False),
    ],
)
def test_only_signs_of_an_unhealthy_provider_count_against_the_circuit(
    error: ProviderError, counts: bool
) -> None:
    assert counts_against_circuit(error) is counts
