"""The OpenAI wire format as plain data: stream chunks in, neutral items out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.errors import (
    AuthenticationFailed,
    BadProviderResponse,
    ProviderUnavailable,
    RateLimited,
    StreamInterrupted,
)
from actors.llm import ReasoningDelta, TextDelta, Usage
from actors.llm.openai_compat import OpenAIDialect, OpenAIStreamDecoder


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    choices = (
        []
        if delta is None and finish is None
        else [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    )
    return json.dumps({"object": "chat.completion.chunk", "choices": choices, **extra})


def test_content_and_reasoning_fields_become_text_and_reasoning() -> None:
    decoder = OpenAIStreamDecoder("p")

    assert decoder.feed(chunk({"role": "assistant", "content": ""})) == []
    assert decoder.feed(chunk({"reasoning_content": "hm", "content": None})) == [
        ReasoningDelta(text="hm")
    ]
    assert decoder.feed(chunk({"reasoning": "also"})) == [ReasoningDelta(text="also")]
    assert decoder.feed(chunk({"content": "Hi"})) == [TextDelta(text="Hi")]


def test_usage_is_reported_once_at_the_end_from_the_last_chunk_carrying_it() -> None:
    decoder = OpenAIStreamDecoder("p")
    decoder.feed(chunk({"content": "Hi"}, usage={"prompt_tokens": 1, "completion_tokens": 1}))
    decoder.feed(chunk(finish="stop"))
    decoder.feed(chunk(usage={"prompt_tokens": 9, "completion_tokens": 4}))
    decoder.feed("[DONE]")

    assert decoder.finish() == [Usage(tokens_in=9, tokens_out=4)]


def test_no_usage_item_when_the_provider_reported_none() -> None:
    decoder = OpenAIStreamDecoder("p")
    decoder.feed(chunk({"content": "Hi"}, finish="stop"))

    assert decoder.finish() == []


def test_a_stream_without_done_or_finish_reason_was_interrupted() -> None:
    decoder = OpenAIStreamDecoder("p")
    decoder.feed(chunk({"content": "Hi"}))

    with pytest.raises(StreamInterrupted):
        decoder.finish()


def test_a_chunk_that_is_not_json_or_not_a_chunk_is_a_bad_response() -> None:
    with pytest.raises(BadProviderResponse, match="stream chunk"):
        OpenAIStreamDecoder("p").feed('{"choices": [')
    with pytest.raises(BadProviderResponse):
        OpenAIStreamDecoder("p").feed('{"choices": [{"delta": {"content": 5}}]}')


def test_an_error_inside_the_stream_maps_by_its_code() -> None:
    with pytest.raises(RateLimited):
        OpenAIStreamDecoder("p").feed(json.dumps({"error": {"message": "slow", "code": 429}}))
    with pytest.raises(ProviderUnavailable, match="overloaded"):
        OpenAIStreamDecoder("p").feed(json.dumps({"error": {"message": "overloaded"}}))


def test_error_bodies_give_the_providers_message_and_retry_hint() -> None:
    dialect = OpenAIDialect(provider="p", api_key="k")
    body = json.dumps({"error": {"message": "Incorrect API key", "type": "x", "code": "y"}})

    auth = dialect.error(401, {}, body.encode())
    limited = dialect.error(429, {"retry-after": "3"}, b"<html>Too many</html>")

    assert isinstance(auth, AuthenticationFailed)
    assert str(auth) == "p: HTTP 401: Incorrect API key"
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 3.0
    assert "<html>Too many</html>" in str(limited)
