"""The Gemini wire format as plain data: requests out, stream chunks and errors in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.errors import (
    AuthenticationFailed,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
    StreamInterrupted,
)
from actors.llm import ReasoningDelta, TextDelta, Turn, Usage
from actors.llm.gemini import GeminiDialect, GeminiStreamDecoder


def response(*parts: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return json.dumps({"candidates": [candidate], **extra})


def test_consecutive_turns_of_one_role_are_merged_and_thoughts_can_be_left_unasked() -> None:
    dialect = GeminiDialect(provider="g", api_key="k", include_thoughts=False)
    turns = [Turn(role="user", text="a"), Turn(role="user", text="b")]

    path, body = dialect.stream_request("models/gemini-2.5-pro", turns)

    assert path == "models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    assert body == {"contents": [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]}


def test_thought_parts_become_reasoning_and_usage_counts_thoughts_as_output() -> None:
    decoder = GeminiStreamDecoder("g")

    items = decoder.feed(response({"text": "hm", "thought": True}, {"text": "Hi"}))
    decoder.feed(
        response(
            {"text": ""},
            finish="STOP",
            usageMetadata={
                "promptTokenCount": 5,
                "candidatesTokenCount": 2,
                "thoughtsTokenCount": 3,
            },
        )
    )

    assert items == [ReasoningDelta(text="hm"), TextDelta(text="Hi")]
    assert decoder.finish() == [Usage(tokens_in=5, tokens_out=5)]


def test_a_stream_that_ends_without_a_finish_reason_was_interrupted() -> None:
    decoder = GeminiStreamDecoder("g")
    decoder.feed(response({"text": "Hi"}))

    with pytest.raises(StreamInterrupted):
        decoder.finish()


def test_a_blocked_prompt_is_rejected() -> None:
    blocked = json.dumps({"promptFeedback": {"blockReason": "SAFETY"}})

    with pytest.raises(RequestRejected, match="SAFETY"):
        GeminiStreamDecoder("g").feed(blocked)


def test_an_error_inside_the_stream_maps_by_its_code() -> None:
    error = json.dumps({"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})

    with pytest.raises(ProviderUnavailable, match="UNAVAILABLE: overloaded"):
        GeminiStreamDecoder("g").feed(error)


def test_an_invalid_key_is_an_authentication_failure_although_google_says_400() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ],
        }
    }

    error = GeminiDialect(provider="g", api_key="k").error(400, {}, json.dumps(body).encode())

    assert isinstance(error, AuthenticationFailed)


def test_retry_info_in_the_body_stands_in_for_a_retry_after_header() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}],
        }
    }

    error = GeminiDialect(provider="g", api_key="k").error(429, {}, json.dumps(body).encode())

    assert isinstance(error, RateLimited)
    assert error.retry_after == 17.0
    assert str(error) == "g: HTTP 429: RESOURCE_EXHAUSTED: quota"
