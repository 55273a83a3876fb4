"""The OpenAI-compatible and Gemini emulators, driven with a plain httpx client."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.emulators.gemini import GeminiEmulator
from tests.emulators.llm_script import Fail, Hang, split_chunks
from tests.emulators.openai_compat import OpenAIEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator

Emulator = OpenAIEmulator | GeminiEmulator
KEY = "sk-test"
GKEY = "gemini-test-key"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: building one per request costs more than the request."""
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def openai() -> Iterator[OpenAIEmulator]:
    with OpenAIEmulator() as api:
        yield api


@pytest.fixture
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator() as api:
        yield api


@pytest.fixture(params=["openai", "gemini"])
def api(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with OpenAIEmulator() if request.param == "openai" else GeminiEmulator() as emulator:
        yield emulator


def headers(api: Emulator) -> dict[str, str]:
    if isinstance(api, OpenAIEmulator):
        return {"Authorization": f"Bearer {api.api_key}"}
    return {"x-goog-api-key": api.api_key}


def request_of(
    api: Emulator,
    text: str = "hello world",
    *,
    stream: bool = True,
    model: str | None = None,
    thoughts: bool = False,
) -> tuple[str, dict[str, Any]]:
    """URL and body of one generation request in the emulator's own wire format."""
    if isinstance(api, OpenAIEmulator):
        body: dict[str, Any] = {
            "model": model or "deepseek-chat",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": text},
            ],
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return f"{api.base_url}/chat/completions", body
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if thoughts:
        body["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{api.base_url}/models/{model or 'gemini-2.5-flash'}:{method}", body


def generate(
    http: httpx.Client,
    api: Emulator,
    text: str = "hello world",
    *,
    stream: bool = True,
    model: str | None = None,
    timeout: float = 5.0,
    thoughts: bool = False,
) -> httpx.Response:
    """Send one generation request and read the whole answer."""
    url, body = request_of(api, text, stream=stream, model=model, thoughts=thoughts)
    return http.post(url, json=body, headers=headers(api), timeout=timeout)


def events(response: httpx.Response) -> list[str]:
    """The data of every SSE event in a complete response."""
    blocks = response.text.replace("\r\n", "\n").split("\n\n")
    return [block.strip().removeprefix("data: ") for block in blocks if block.strip()]


def answer_text(api: Emulator, response: httpx.Response) -> tuple[str, str]:
    """(reasoning, text) of a complete streamed response."""
    reasoning, text = "", ""
    for data in events(response):
        if data == "[DONE]":
            continue
        payload = json.loads(data)
        if isinstance(api, OpenAIEmulator):
            for choice in payload["choices"]:
                reasoning += choice["delta"].get("reasoning_content") or ""
                text += choice["delta"].get("content") or ""
        else:
            for part in payload["candidates"][0]["content"]["parts"]:
                if part.get("thought"):
                    reasoning += part["text"]
                else:
                    text += part["text"]
    return reasoning, text


# --- model listing --------------------------------------------------------------------------


def test_openai_lists_models_in_openais_shape(openai: OpenAIEmulator, http: httpx.Client) -> None:
    body = http.get(f"{openai.base_url}/models", headers=headers(openai)).json()

    assert body["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in body["data"]] == [
        ("deepseek-chat", "model", "deepseek"),
        ("deepseek-reasoner", "model", "deepseek"),
    ]


def test_gemini_lists_models_with_their_methods_and_pages(
    gemini: GeminiEmulator, http: httpx.Client
) -> None:
    url = f"{gemini.base_url}/models"

    first = http.get(url, headers=headers(gemini), params={"pageSize": 2}).json()
    second = http.get(
        url, headers=headers(gemini), params={"pageToken": first["nextPageToken"]}
    ).json()

    flash = first["models"][0]
    assert flash["name"] == "models/gemini-2.5-flash"
    assert flash["displayName"] == "Gemini 2.5 Flash"
    assert "streamGenerateContent" in flash["supportedGenerationMethods"]
    assert flash["inputTokenLimit"] > 0
    assert [m["name"] for m in second["models"]] == ["models/text-embedding-004"]
    assert "nextPageToken" not in second


def test_gemini_describes_one_model(gemini: GeminiEmulator, http: httpx.Client) -> None:
    response = http.get(f"{gemini.base_url}/models/gemini-2.5-pro", params={"key": GKEY})

    assert response.json()["displayName"] == "Gemini 2.5 Pro"


def test_models_changed_at_run_time_are_listed_and_the_old_ones_refused(
    api: Emulator, http: httpx.Client
) -> None:
    api.set_models(["fresh-model"])

    listing = http.get(f"{api.base_url}/models", headers=headers(api)).json()
    refused = generate(http, api)
    accepted = generate(http, api, model="fresh-model")

    ids = (
        [m["id"] for m in listing["data"]]
        if "data" in listing
        else [m["name"] for m in listing["models"]]
    )
    assert ids[0] in {"fresh-model", "models/fresh-model"}
    assert refused.status_code == 404
    assert accepted.status_code == 200


# --- authentication -------------------------------------------------------------------------


def test_openai_refuses_a_wrong_or_missing_key_with_401(
    openai: OpenAIEmulator, http: httpx.Client
) -> None:
    url = f"{openai.base_url}/models"

    wrong = http.get(url, headers={"Authorization": "Bearer sk-wrong-key-9999"})
    missing = http.get(url)

    assert wrong.status_code == missing.status_code == 401
    error = wrong.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"
    assert "sk-" in error["message"]
    assert "sk-wrong-key-9999" not in error["message"]
    assert "didn't provide an API key" in missing.json()["error"]["message"]


def test_gemini_refuses_a_wrong_key_with_400_and_a_missing_one_with_403(
    gemini: GeminiEmulator,
    http: httpx.Client,
) -> None:
    url = f"{gemini.base_url}/models"

    wrong = http.get(url, params={"key": "nope"})
    missing = http.get(url)
    by_query = http.get(url, params={"key": GKEY})

    assert wrong.status_code == 400
    assert wrong.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    assert by_query.status_code == 200


# --- answers --------------------------------------------------------------------------------


def test_the_default_answer_echoes_the_last_user_message_in_several_chunks(
    api: Emulator, http: httpx.Client
) -> None:
    response = generate(http, api, "hello big world")

    assert response.headers["content-type"] == "text/event-stream"
    assert answer_text(api, response) == ("", "Echo: hello big world")
    assert len(events(response)) >= 4


def test_openai_stream_has_role_chunk_finish_chunk_usage_chunk_and_done(
    openai: OpenAIEmulator,
    http: httpx.Client,
) -> None:
    chunks = events(generate(http, openai, "hi"))

    first, *_, finish, usage, done = chunks
    assert json.loads(first)["choices"][0]["delta"]["role"] == "assistant"
    assert json.loads(first)["object"] == "chat.completion.chunk"
    assert json.loads(finish)["choices"][0]["finish_reason"] == "stop"
    assert json.loads(usage)["choices"] == []
    assert set(json.loads(usage)["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert done == "[DONE]"


def test_openai_sends_usage_only_when_asked(openai: OpenAIEmulator, http: httpx.Client) -> None:
    body = {
        "model": "deepseek-chat",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
    }

    response = http.post(f"{openai.base_url}/chat/completions", json=body, headers=headers(openai))

    assert all("usage" not in json.loads(data) for data in events(response)[:-1])


def test_openai_reasoning_model_streams_reasoning_content_first(
    openai: OpenAIEmulator, http: httpx.Client
) -> None:
    response = generate(http, openai, "why", model="deepseek-reasoner")

    assert answer_text(openai, response) == ("Thinking about: why", "Echo: why")


def test_openai_non_streamed_answer_has_message_and_usage(
    openai: OpenAIEmulator, http: httpx.Client
) -> None:
    openai.reply("Fine.", reasoning="Easy.")

    body = generate(http, openai, stream=False, model="deepseek-reasoner").json()

    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Fine.",
        "reasoning_content": "Easy.",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_gemini_stream_uses_crlf_and_ends_with_finish_reason_and_usage(
    gemini: GeminiEmulator,
    http: httpx.Client,
) -> None:
    response = generate(http, gemini, thoughts=True)

    assert "\r\n\r\n" in response.text
    last = json.loads(events(response)[-1])
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert set(last["usageMetadata"]) >= {
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
    }
    assert answer_text(gemini, response) == ("Thinking about: hello world", "Echo: hello world")


def test_gemini_sends_thoughts_only_when_the_request_asks(
    gemini: GeminiEmulator, http: httpx.Client
) -> None:
    gemini.reply("Answer.", reasoning="Secret thoughts.")

    assert answer_text(gemini, generate(http, gemini)) == ("", "Answer.")


def test_gemini_without_alt_sse_streams_a_json_array(
    gemini: GeminiEmulator, http: httpx.Client
) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    url = f"{gemini.base_url}/models/gemini-2.5-flash:streamGenerateContent"

    response = http.post(url, json=body, headers=headers(gemini))

    assert response.headers["content-type"] == "application/json"
    chunks = response.json()
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_gemini_generate_content_answers_in_one_response(
    gemini: GeminiEmulator, http: httpx.Client
) -> None:
    body = generate(http, gemini, stream=False, thoughts=True).json()

    parts = body["candidates"][0]["content"]["parts"]
    assert parts == [
        {"text": "Thinking about: hello world", "thought": True},
        {"text": "Echo: hello world"},
    ]
    assert body["usageMetadata"]["thoughtsTokenCount"] > 0


def test_scripted_replies_are_consumed_in_order_with_their_chunks(
    api: Emulator, http: httpx.Client
) -> None:
    api.reply("<think>x</think>y", chunks=["<thi", "nk>x</th", "ink>y"])
    api.reply("abcdef", chunks=3)

    first = generate(http, api)
    second = generate(http, api)
    third = generate(http, api)

    assert answer_text(api, first)[1] == "<think>x</think>y"
    assert answer_text(api, second)[1] == "abcdef"
    assert answer_text(api, third)[1] == "Echo: hello world"
    assert api.pending_outcomes == 0


def test_reply_chunks_must_join_to_the_text(api: Emulator) -> None:
    with pytest.raises(ValueError, match="join"):
        api.reply("abc", chunks=["a", "b"])


def test_split_chunks_by_word_by_count_or_as_given() -> None:
    assert split_chunks("a bc  d", None) == ("a ", "bc  ", "d")
    assert split_chunks("abcdefg", 3) == ("abc", "de", "fg")
    assert split_chunks("ab", ("a", "b")) == ("a", "b")


# --- failures -------------------------------------------------------------------------------


def test_openai_errors_carry_retry_after_headers_and_openais_shape(
    openai: OpenAIEmulator, http: httpx.Client
) -> None:
    openai.error(429, retry_after=2.5)
    openai.error(503, message="busy")

    limited = generate(http, openai)
    busy = generate(http, openai)

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2.5"
    assert limited.headers["retry-after-ms"] == "2500"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert busy.status_code == 503
    assert busy.json()["error"] == {
        "message": "busy",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_gemini_errors_carry_status_names_and_retry_info(
    gemini: GeminiEmulator, http: httpx.Client
) -> None:
    gemini.error(429, retry_after=3)

    response = generate(http, gemini)

    error = response.json()["error"]
    assert (response.status_code, error["code"], error["status"]) == (
        429,
        429,
        "RESOURCE_EXHAUSTED",
    )
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3.000s"}
    ]


def test_malformed_streams_and_bodies_are_not_json(api: Emulator, http: httpx.Client) -> None:
    api.malformed()
    api.malformed()

    streamed = generate(http, api)
    whole = generate(http, api, stream=False)

    assert streamed.status_code == whole.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(events(streamed)[0])
    with pytest.raises(json.JSONDecodeError):
        whole.json()


def test_errors_can_target_the_model_listing(api: Emulator, http: httpx.Client) -> None:
    api.error(500, on="models")

    failed = http.get(f"{api.base_url}/models", headers=headers(api))
    answered = generate(http, api)

    assert failed.status_code == 500
    assert answered.status_code == 200


def test_a_cut_stream_drops_the_connection_after_the_given_chunks(
    api: Emulator, http: httpx.Client
) -> None:
    api.cut_stream(after_chunks=2)
    url, body = request_of(api, "a b c d")
    received: list[str] = []

    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", url, json=body, headers=headers(api)) as response,
    ):
        received.extend(response.iter_lines())

    partial = httpx.Response(200, text="\n".join(received))
    assert answer_text(api, partial) == ("", "Echo: a ")
    assert api.in_flight == 0


def test_a_disconnect_closes_the_connection_without_an_answer_and_the_next_is_served(
    api: Emulator, http: httpx.Client
) -> None:
    api.disconnect()

    with pytest.raises(httpx.RemoteProtocolError):
        generate(http, api)

    assert generate(http, api).status_code == 200
    assert len(api.wait_for_requests(2)) == 2
    assert api.in_flight == 0


def test_a_hanging_request_is_recorded_and_times_the_client_out(
    api: Emulator, http: httpx.Client
) -> None:
    api.hang(10.0)

    with pytest.raises(httpx.ReadTimeout):
        generate(http, api, timeout=0.2)

    (request,) = api.wait_for_requests(1)
    assert request.kind == "generate"


def test_closing_the_emulator_interrupts_a_hang_at_once(http: httpx.Client) -> None:
    api = OpenAIEmulator().start()
    api.hang(30.0)
    with pytest.raises(httpx.ReadTimeout):
        generate(http, api, timeout=0.1)
    started = time.monotonic()

    api.close()

    assert time.monotonic() - started < 2.0


# --- rules, latency, records ----------------------------------------------------------------


def test_slow_when_delays_only_matching_requests(api: Emulator, http: httpx.Client) -> None:
    api.slow_when(contains="slow", delay=0.3)

    started = time.monotonic()
    generate(http, api, "fast one")
    fast = time.monotonic() - started
    generate(http, api, "a slow one")
    slow = time.monotonic() - started - fast

    assert fast < 0.2
    assert slow >= 0.3


def test_a_rule_can_answer_with_any_outcome(api: Emulator, http: httpx.Client) -> None:
    api.when("fail", Fail(status=500))
    api.when("pause", Hang(seconds=0.2))

    failed = generate(http, api, "fail now")
    started = time.monotonic()
    paused = generate(http, api, "pause, then answer")

    assert failed.status_code == 500
    assert paused.status_code == 200
    assert time.monotonic() - started >= 0.2


def test_global_latency_delays_every_answer(api: Emulator, http: httpx.Client) -> None:
    api.set_latency(0.2)

    started = time.monotonic()
    generate(http, api)

    assert time.monotonic() - started >= 0.2


def test_every_request_is_recorded_with_what_a_test_needs(
    api: Emulator, http: httpx.Client
) -> None:
    generate(http, api, "first")
    generate(
        http,
        api,
        "second",
        model="gemini-2.5-pro" if isinstance(api, GeminiEmulator) else "deepseek-reasoner",
    )

    first, second = api.wait_for_requests(2)
    assert first.last_user_text == "first"
    assert second.model in {"gemini-2.5-pro", "deepseek-reasoner"}
    assert first.streamed
    assert first.at <= second.at
    assert first.method == "POST"
    assert isinstance(first.body, dict)
    assert (first.headers.get("authorization") or first.headers.get("x-goog-api-key")) is not None


def test_waiting_for_requests_that_never_come_times_out(api: Emulator) -> None:
    with pytest.raises(TimeoutError, match="expected 1 requests"):
        api.wait_for_requests(1, timeout=0.05)


def test_reset_forgets_script_and_records(api: Emulator, http: httpx.Client) -> None:
    api.error(500)
    generate(http, api)
    api.error(500)

    api.reset()

    assert api.requests == ()
    assert api.pending_outcomes == 0
    assert generate(http, api).status_code == 200


# --- load -----------------------------------------------------------------------------------


async def _raw_stream(api: Emulator, index: int) -> bytes:
    """One streamed answer over a bare socket, read to the end.

    A bare client, because at this scale httpx's own pool bookkeeping, not the emulator,
    would dominate the time.
    """
    url, body = request_of(api, f"n{index}")
    split = urlsplit(url)
    payload = json.dumps(body).encode()
    head = "".join(
        [
            f"POST {split.path}?{split.query} HTTP/1.1\r\n",
            f"Host: {split.netloc}\r\nConnection: close\r\n",
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n",
            *(f"{name}: {value}\r\n" for name, value in headers(api).items()),
            "\r\n",
        ]
    )
    reader, writer = await asyncio.open_connection(split.hostname, split.port)
    try:
        writer.write(head.encode() + payload)
        await writer.drain()
        return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


async def _stream_many(api: Emulator, count: int) -> list[bytes]:
    return await asyncio.gather(*(_raw_stream(api, i) for i in range(count)))


def test_hundreds_of_concurrent_streams_are_served_at_once(api: Emulator) -> None:
    api.set_latency(1.0, chunk_delay=0.01)  # every request arrives within the first second
    started = time.monotonic()

    answers = asyncio.run(_stream_many(api, 200))

    # One at a time would take over 200 s; the bound leaves room for a loaded machine.
    assert time.monotonic() - started < 20.0
    field = "content" if isinstance(api, OpenAIEmulator) else "text"
    for index, answer in enumerate(answers):
        assert answer.startswith(b"HTTP/1.1 200")
        assert f'"{field}":"n{index}"'.encode() in answer
        assert answer.endswith(b"0\r\n\r\n")  # the stream ended properly
    assert api.max_in_flight == 200
    assert api.in_flight == 0
