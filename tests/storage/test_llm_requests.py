from __future__ import annotations

import pytest

from storage import ConstraintViolation, LlmRequest, LlmRequestStats, ProviderStats, Store
from storage.llm_requests import RequestStatus, percentile
from tests.storage.fakes import START, FakeClock


def _record(
    store: Store,
    *,
    provider: str = "openai",
    status: RequestStatus = "ok",
    latency_ms: float = 100.0,
    tokens_in: int = 10,
    tokens_out: int = 20,
) -> LlmRequest:
    return store.record_llm_request(
        chat_id=100,
        user_id=42,
        provider=provider,
        model="m",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=latency_ms,
        status=status,
        error=None if status == "ok" else "timeout",
        correlation_id="c-1",
    )


def test_a_recorded_request_comes_back_stamped_with_the_time(store: Store) -> None:
    request = _record(store, status="failed")

    assert request == LlmRequest(
        id=request.id,
        chat_id=100,
        user_id=42,
        provider="openai",
        model="m",
        tokens_in=10,
        tokens_out=20,
        latency_ms=100.0,
        status="failed",
        error="timeout",
        correlation_id="c-1",
        created_at=START,
    )


def test_stats_count_outcomes_and_sum_tokens_of_requests_since_a_time(
    store: Store, clock: FakeClock
) -> None:
    _record(store, tokens_in=1000)  # before the window
    clock.advance(60)
    _record(store, tokens_in=1, tokens_out=2)
    _record(store, status="failed", tokens_in=3, tokens_out=0)
    _record(store, provider="anthropic", tokens_in=5, tokens_out=7)

    stats = store.llm_request_stats(since=START + 60)

    assert (stats.ok, stats.failed, stats.tokens_in, stats.tokens_out) == (2, 1, 9, 9)
    assert [(p.provider, p.ok, p.failed) for p in stats.providers] == [
        ("anthropic", 1, 0),
        ("openai", 1, 1),
    ]


def test_latency_percentiles_are_per_provider_over_successful_requests(store: Store) -> None:
    for latency in range(100, 0, -1):
        _record(store, latency_ms=float(latency))
    _record(store, status="failed", latency_ms=30_000.0)

    (openai,) = store.llm_request_stats(since=0).providers

    assert (openai.latency_p50_ms, openai.latency_p95_ms) == (50.0, 95.0)


def test_a_provider_with_only_failures_has_no_latency(store: Store) -> None:
    _record(store, status="failed")

    assert store.llm_request_stats(since=0).providers == (
        ProviderStats(provider="openai", ok=0, failed=1, latency_p50_ms=None, latency_p95_ms=None),
    )


def test_stats_of_an_empty_window_are_zero(store: Store) -> None:
    assert store.llm_request_stats(since=START) == LlmRequestStats(
        since=START, ok=0, failed=0, tokens_in=0, tokens_out=0, providers=()
    )


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([], 0.5, None), ([7.0], 0.95, 7.0), ([1.0, 2.0], 0.5, 1.0), ([1.0, 2.0, 3.0], 0.95, 3.0)],
)
def test_percentiles_use_the_nearest_rank(
    values: list[float], fraction: float, expected: float | None
) -> None:
    assert percentile(values, fraction) == expected


def test_an_unknown_status_is_a_constraint_violation_and_records_nothing(store: Store) -> None:
    with pytest.raises(ConstraintViolation, match="record LLM request to openai/m failed"):
        _record(store, status="meh")  # type: ignore[arg-type]

    assert store.llm_request_stats(since=0).providers == ()


def test_old_requests_can_be_deleted_before_a_cutoff(store: Store, clock: FakeClock) -> None:
    _record(store)
    clock.advance(10)
    _record(store)

    assert store.delete_llm_requests_before(START + 10) == 1
    assert store.llm_request_stats(since=0).ok == 1


def _record_for(store: Store, chat_id: int | None, status: RequestStatus = "ok") -> None:
    store.record_llm_request(
        chat_id=chat_id,
        user_id=None,
        provider="openai",
        model="m",
        tokens_in=0,
        tokens_out=0,
        latency_ms=1.0,
        status=status,
    )


def test_active_chats_are_the_distinct_chats_with_a_request_since_a_time(
    store: Store, clock: FakeClock
) -> None:
    _record_for(store, 1)  # before the window
    clock.advance(60)
    _record_for(store, 2)
    _record_for(store, 2)
    _record_for(store, 3, "failed")
    _record_for(store, None)  # a call not made for a chat

    assert store.count_active_chats(since=START + 60) == 2
    assert store.count_active_chats(since=0) == 3
    assert store.count_active_chats(since=START + 61) == 0
