"""ProviderClient against the real emulators over 127.0.0.1: no mocks of httpx."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import pytest
from loguru import logger

from actors.errors import (
    AuthenticationFailed,
    BadProviderResponse,
    CircuitOpen,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
    StreamInterrupted,
)
from actors.llm import (
    CircuitState,
    ModelInfo,
    ProviderClient,
    ReasoningDelta,
    RetryPolicy,
    StreamItem,
    TextDelta,
    Turn,
    Usage,
)
from tests.emulators.gemini import GeminiEmulator

if TYPE_CHECKING:
    from tests.actors.llm.conftest import Harness

pytestmark = pytest.mark.anyio

HELLO = (Turn(role="system", text="Be brief."), Turn(role="user", text="hello world"))


async def collect(
    client: ProviderClient, turns: tuple[Turn, ...] = HELLO, model: str | None = None
) -> list[StreamItem]:
    async with contextlib.aclosing(client.stream(model, turns)) as stream:
        return [item async for item in stream]


async def collect_into(items: list[StreamItem], client: ProviderClient) -> None:
    """Like :func:`collect`, but keeps what arrived before an error."""
    async with contextlib.aclosing(client.stream(None, HELLO)) as stream:
        async for item in stream:
            items.append(item)  # noqa: PERF401 - the list outlives the error


def text_of(items: list[StreamItem]) -> str:
    return "".join(item.text for item in items if isinstance(item, TextDelta))


def reasoning_of(items: list[StreamItem]) -> str:
    return "".join(item.text for item in items if isinstance(item, ReasoningDelta))


# --- streaming ------------------------------------------------------------------------------


async def test_stream_yields_the_answer_in_several_text_deltas_then_usage(harness: Harness) -> None:
    items = await collect(harness.client())

    assert text_of(items) == "Echo: hello world"
    assert sum(isinstance(item, TextDelta) for item in items) >= 2
    assert isinstance(items[-1], Usage)
    assert items[-1].tokens_in > 0
    assert items[-1].tokens_out > 0


async def test_stream_uses_the_default_model_when_given_none(harness: Harness) -> None:
    await collect(harness.client())

    (request,) = harness.api.generate_requests
    assert request.model == harness.model
    assert request.streamed


async def test_openai_request_carries_the_turns_as_messages(openai: Harness) -> None:
    turns = (*HELLO, Turn(role="assistant", text="Hi."), Turn(role="user", text="again"))

    await collect(openai.client(), turns, model="deepseek-reasoner")

    (request,) = openai.api.generate_requests
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == "deepseek-reasoner"
    assert request.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello world"},
        {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "again"},
    ]
    assert request.body["stream_options"] == {"include_usage": True}
    assert request.headers["authorization"] == "Bearer sk-test"


async def test_gemini_request_moves_the_system_prompt_out_and_renames_the_assistant(
    gemini: Harness,
) -> None:
    turns = (*HELLO, Turn(role="assistant", text="Hi."), Turn(role="user", text="again"))

    await collect(gemini.client(), turns)

    (request,) = gemini.api.generate_requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.query == {"alt": "sse"}
    assert request.body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert request.body["contents"] == [
        {"role": "user", "parts": [{"text": "hello world"}]},
        {"role": "model", "parts": [{"text": "Hi."}]},
        {"role": "user", "parts": [{"text": "again"}]},
    ]
    assert request.headers["x-goog-api-key"] == "gemini-test-key"
    assert "key" not in request.query


async def test_deepseek_reasoning_content_becomes_reasoning_deltas(openai: Harness) -> None:
    items = await collect(openai.client(), model="deepseek-reasoner")

    assert reasoning_of(items) == "Thinking about: hello world"
    assert text_of(items) == "Echo: hello world"
    first_text = next(i for i, item in enumerate(items) if isinstance(item, TextDelta))
    assert all(isinstance(item, ReasoningDelta) for item in items[:first_text])


async def test_gemini_thought_parts_become_reasoning_deltas(gemini: Harness) -> None:
    gemini.api.reply("The answer.", reasoning="Let me think.")

    items = await collect(gemini.client())

    assert reasoning_of(items) == "Let me think."
    assert text_of(items) == "The answer."
    (request,) = gemini.api.generate_requests
    assert request.body["generationConfig"] == {"thinkingConfig": {"includeThoughts": True}}


async def test_think_tags_split_across_chunks_become_reasoning(openai: Harness) -> None:
    chunks = ["<th", "ink>pl", "an it</thi", "nk>\n\n", "Ans", "wer <b>"]
    openai.api.reply("".join(chunks), chunks=chunks)

    items = await collect(openai.client())

    assert reasoning_of(items) == "plan it"
    assert text_of(items) == "Answer <b>"


# --- models ---------------------------------------------------------------------------------


async def test_list_models_returns_the_offered_models(openai: Harness) -> None:
    models = await openai.client().list_models()

    assert models == (
        ModelInfo(id="deepseek-chat", display_name="deepseek-chat"),
        ModelInfo(id="deepseek-reasoner", display_name="deepseek-reasoner"),
    )


async def test_list_models_follows_changes_made_at_run_time(harness: Harness) -> None:
    client = harness.client()
    harness.api.set_models(["model-a"])

    models = await client.list_models()

    assert [model.id for model in models] == ["model-a"]


async def test_gemini_list_models_follows_pages_and_skips_embedding_models(gemini: Harness) -> None:
    assert isinstance(gemini.api, GeminiEmulator)
    gemini.api.max_page_size = 1

    models = await gemini.client().list_models()

    assert models == (
        ModelInfo(id="gemini-2.5-flash", display_name="Gemini 2.5 Flash"),
        ModelInfo(id="gemini-2.5-pro", display_name="Gemini 2.5 Pro"),
    )
    assert len(gemini.api.requests) == 3


async def test_list_models_is_retried_after_a_server_error(harness: Harness) -> None:
    harness.api.error(503, on="models")

    models = await harness.client().list_models()

    assert len(models) == 2
    assert len(harness.sleeps) == 1


async def test_an_unreadable_model_list_raises_bad_provider_response(harness: Harness) -> None:
    harness.api.malformed(on="models")

    with pytest.raises(BadProviderResponse):
        await harness.client().list_models()


# --- retries --------------------------------------------------------------------------------


async def test_rate_limit_is_retried_after_the_providers_retry_after(harness: Harness) -> None:
    harness.api.error(429, retry_after=0.25)

    items = await collect(harness.client())

    assert text_of(items) == "Echo: hello world"
    assert harness.sleeps == [pytest.approx(0.25)]
    assert len(harness.api.generate_requests) == 2


async def test_retry_after_is_capped(harness: Harness) -> None:
    harness.api.error(429, retry_after=120)

    await collect(harness.client(retry=RetryPolicy(attempts=2, max_retry_after=1.5)))

    assert harness.sleeps == [1.5]


async def test_rate_limit_that_persists_raises_rate_limited_with_the_hint(harness: Harness) -> None:
    for _ in range(3):
        harness.api.error(429, retry_after=0.5)

    with pytest.raises(RateLimited) as caught:
        await collect(harness.client())

    assert caught.value.retry_after == pytest.approx(0.5)
    assert caught.value.provider == harness.kind
    assert len(harness.api.generate_requests) == 3


async def test_server_errors_are_retried_with_growing_backoff(harness: Harness) -> None:
    harness.api.error(500)
    harness.api.error(503)

    items = await collect(harness.client(retry=RetryPolicy(attempts=3, base_delay=0.1, jitter=0)))

    assert text_of(items) == "Echo: hello world"
    assert harness.sleeps == [0.1, 0.2]
    assert len(harness.api.generate_requests) == 3


async def test_a_refused_connection_is_retried_then_reported_as_unavailable(
    harness: Harness,
) -> None:
    client = harness.client(base_url="http://127.0.0.1:9/v1")

    with pytest.raises(ProviderUnavailable) as caught:
        await collect(client)

    assert len(harness.sleeps) == 2
    assert caught.value.provider == harness.kind


async def test_wrong_api_key_raises_authentication_failed_without_retrying(
    harness: Harness,
) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        await collect(harness.client(api_key="sk-wrong-key-0000"))

    assert len(harness.api.generate_requests) == 1
    assert harness.sleeps == []
    assert "sk-wrong-key-0000" not in str(caught.value)


async def test_other_client_errors_raise_request_rejected_without_retrying(
    harness: Harness,
) -> None:
    with pytest.raises(RequestRejected) as caught:
        await collect(harness.client(), model="no-such-model")

    assert "no-such-model" in str(caught.value)
    assert len(harness.api.generate_requests) == 1


async def test_malformed_chunk_raises_bad_provider_response(harness: Harness) -> None:
    harness.api.malformed()

    with pytest.raises(BadProviderResponse):
        await collect(harness.client())

    assert len(harness.api.generate_requests) == 1


async def test_stream_cut_after_tokens_raises_stream_interrupted_without_retrying(
    harness: Harness,
) -> None:
    harness.api.cut_stream(after_chunks=2)
    items: list[StreamItem] = []

    with pytest.raises(StreamInterrupted):
        await collect_into(items, harness.client())

    assert len(items) == 2  # two chunks of text (or of reasoning, for Gemini) got through
    assert all(isinstance(item, TextDelta | ReasoningDelta) for item in items)
    assert len(harness.api.generate_requests) == 1
    assert harness.sleeps == []


async def test_stream_cut_before_any_token_is_retried(harness: Harness) -> None:
    harness.api.cut_stream(after_chunks=0)

    items = await collect(harness.client())

    assert text_of(items) == "Echo: hello world"
    assert len(harness.api.generate_requests) == 2


async def test_no_answer_within_the_timeout_raises_provider_timeout(harness: Harness) -> None:
    harness.api.hang(5.0)
    started = time.monotonic()

    with pytest.raises(ProviderTimeout):
        await collect(harness.client(timeout=0.2, retry=RetryPolicy(attempts=1)))

    assert time.monotonic() - started < 2.0


async def test_a_timeout_is_retried_like_any_transient_failure(harness: Harness) -> None:
    harness.api.hang(5.0)

    items = await collect(harness.client(timeout=0.2))

    assert text_of(items) == "Echo: hello world"
    assert len(harness.api.generate_requests) == 2


async def test_a_stream_stalling_after_tokens_raises_stream_interrupted(harness: Harness) -> None:
    harness.api.reply("one two three", chunk_delay=2.0)

    with pytest.raises(StreamInterrupted):
        await collect(harness.client(timeout=0.2))

    assert len(harness.api.generate_requests) == 1


# --- circuit breaker ------------------------------------------------------------------------


async def test_circuit_opens_after_repeated_failures_and_then_does_not_call(
    harness: Harness,
) -> None:
    client = harness.client(
        retry=RetryPolicy(attempts=1), circuit_failure_threshold=2, circuit_reset_seconds=30
    )
    for _ in range(2):
        harness.api.error(500)
        with pytest.raises(ProviderUnavailable):
            await collect(client)

    with pytest.raises(CircuitOpen) as caught:
        await collect(client)

    assert client.circuit_state is CircuitState.OPEN
    assert caught.value.provider == harness.kind
    assert len(harness.api.generate_requests) == 2


async def test_circuit_half_opens_after_the_reset_timeout_and_closes_on_success(
    harness: Harness,
) -> None:
    client = harness.client(
        retry=RetryPolicy(attempts=1), circuit_failure_threshold=1, circuit_reset_seconds=30
    )
    harness.api.error(503)
    with pytest.raises(ProviderUnavailable):
        await collect(client)
    harness.clock.advance(30)

    half_open = client.circuit_state
    answer = text_of(await collect(client))

    assert half_open is CircuitState.HALF_OPEN
    assert answer == "Echo: hello world"
    assert client.circuit_state is CircuitState.CLOSED


async def test_a_failed_trial_call_opens_the_circuit_again(harness: Harness) -> None:
    client = harness.client(
        retry=RetryPolicy(attempts=1), circuit_failure_threshold=1, circuit_reset_seconds=30
    )
    harness.api.error(500)
    harness.api.error(500)
    with pytest.raises(ProviderUnavailable):
        await collect(client)
    harness.clock.advance(30)
    with pytest.raises(ProviderUnavailable):
        await collect(client)

    with pytest.raises(CircuitOpen):
        await collect(client)
    assert len(harness.api.generate_requests) == 2


async def test_client_errors_do_not_open_the_circuit(harness: Harness) -> None:
    client = harness.client(circuit_failure_threshold=1)

    with pytest.raises(RequestRejected):
        await collect(client, model="no-such-model")

    assert client.circuit_state is CircuitState.CLOSED


# --- concurrency ----------------------------------------------------------------------------


async def test_requests_beyond_the_concurrency_limit_wait_for_a_slot(harness: Harness) -> None:
    harness.api.set_latency(0.2)
    client = harness.client(max_concurrency=3)
    started = time.monotonic()

    results = await asyncio.gather(*(collect(client) for _ in range(6)))

    elapsed = time.monotonic() - started
    assert all(text_of(items) == "Echo: hello world" for items in results)
    assert harness.api.max_in_flight == 3
    assert 0.4 <= elapsed < 1.0  # two waves of three, not six in a row


async def test_a_slow_request_does_not_delay_the_others(harness: Harness) -> None:
    harness.api.slow_when(contains="slow", delay=1.0)
    client = harness.client(max_concurrency=4)
    slow = asyncio.ensure_future(collect(client, (Turn(role="user", text="slow please"),)))
    await asyncio.sleep(0.05)
    started = time.monotonic()

    fast = await asyncio.gather(*(collect(client) for _ in range(3)))

    assert time.monotonic() - started < 0.75
    assert not slow.done()
    assert all(text_of(items) == "Echo: hello world" for items in fast)
    assert text_of(await slow) == "Echo: slow please"


async def test_closing_a_stream_early_frees_its_slot(harness: Harness) -> None:
    harness.api.reply("one two three four", chunk_delay=0.5)
    client = harness.client(max_concurrency=1)
    async with contextlib.aclosing(client.stream(None, HELLO)) as stream:
        first = await anext(stream)
    assert first == TextDelta(text="one ")

    items = await asyncio.wait_for(collect(client), timeout=1.0)

    assert text_of(items) == "Echo: hello world"


# --- lifecycle and secrets -------------------------------------------------------------------


async def test_one_http_client_is_created_lazily_and_shared_by_all_requests(
    harness: Harness,
) -> None:
    client = harness.client()
    assert client._http is None

    await client.list_models()
    http = client._http
    await asyncio.gather(collect(client), collect(client))

    assert http is not None
    assert client._http is http


async def test_aclose_closes_the_http_client_and_refuses_further_use(harness: Harness) -> None:
    client = harness.client()
    await collect(client)
    http = client._http
    assert http is not None

    await client.aclose()

    assert http.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.list_models()
    with pytest.raises(RuntimeError, match="closed"):
        await collect(client)


async def test_the_api_key_never_appears_in_errors_or_logs(harness: Harness) -> None:
    key = "sk-very-secret-key-123456"
    harness.api.api_key = key
    for _ in range(3):
        harness.api.error(500, message=f"upstream rejected key {key}")
    lines: list[str] = []
    sink = logger.add(lines.append, level="DEBUG")
    try:
        with pytest.raises(ProviderUnavailable) as caught:
            await collect(harness.client())
    finally:
        logger.remove(sink)

    assert len(lines) == 2  # one warning per retry
    assert all(key not in line for line in lines)
    assert key not in str(caught.value)
    assert "***" in str(caught.value)
