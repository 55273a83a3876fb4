"""An OpenAI-compatible chat API on 127.0.0.1 (as DeepSeek serves it), scripted per test.

Serves ``GET {base}/models`` and ``POST {base}/chat/completions`` with and without
``"stream": true``, where ``base`` is :attr:`OpenAIEmulator.base_url` (``.../v1``; the same
routes also answer without the ``/v1``, as api.deepseek.com does). Streams are what OpenAI
sends: a first chunk with the role, one ``chat.completion.chunk`` per piece of text (reasoning
models send ``delta.reasoning_content`` first, as ``deepseek-reasoner`` does), a chunk with
``finish_reason: "stop"``, a usage chunk with empty ``choices`` when
``stream_options.include_usage`` is set, then ``data: [DONE]``. Errors use OpenAI's shape
``{"error": {"message", "type", "param", "code"}}``, with ``retry-after`` and
``retry-after-ms`` headers on 429 and 503.

A user message's content may be a list of parts: ``text``, ``image_url`` (a ``data:`` URL)
and ``file`` (``file_data`` as a ``data:`` URL). Only ``vision_models`` take image and file
parts; any other model answers 400 the way DeepSeek does (``unknown variant `image_url```),
so a test notices an image sent to a text-only model. Files that reach the emulator are
decoded into :attr:`RecordedRequest.attachments`.

What to answer is scripted through :class:`~tests.emulators.llm_script.LLMScript` (``reply``,
``error``, ``malformed``, ``cut_stream``, ``hang``, ``slow_when``, ``set_latency``), and every
request is recorded. Example::

    with OpenAIEmulator() as api:
        api.reply("Hello", reasoning="The user greets me.")
        ...  # point the client at api.base_url with key "sk-test"
        assert api.wait_for_requests(1)[0].body["model"] == "deepseek-reasoner"
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import time
from typing import TYPE_CHECKING, Any

from tests.emulators._http import (
    DROP,
    Response,
    ServerSentEvent,
    json_response,
    sse_response,
)
from tests.emulators._llm_server import LLMEmulator
from tests.emulators.llm_script import (
    Answer,
    Fail,
    Malformed,
    RecordedRequest,
    SeenAttachment,
    estimate_tokens,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tests.emulators._http import Drop, Request
    from tests.emulators._http import Reply as HttpReply

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    402: ("invalid_request_error", "insufficient_balance"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}
_DEFAULT_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    402: "Insufficient Balance",
    403: "Country, region, or territory not supported",
    404: "The requested resource does not exist.",
    422: "Invalid parameters.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
}


class OpenAIEmulator(LLMEmulator):
    """OpenAI-compatible emulator; use as a context manager.

    Args:
        api_key: The only key accepted (``Authorization: Bearer KEY``).
        models: Model ids listed and accepted; :meth:`set_models` changes them at run time.
        reasoning_models: Models whose default (echo) answers carry ``reasoning_content``.
        vision_models: Models that take ``image_url`` and ``file`` content parts.
        host: Address to bind.
        port: Port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        api_key: str = "sk-test",
        models: Sequence[str] = ("deepseek-chat", "deepseek-reasoner"),
        reasoning_models: Sequence[str] = ("deepseek-reasoner",),
        vision_models: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            api_key=api_key, models=models, name="openai-emu", prefix="/v1", host=host, port=port
        )
        self.reasoning_models = frozenset(reasoning_models)
        self.vision_models = frozenset(vision_models)
        self._ids = itertools.count(1)
        for root in ("/v1", ""):
            self.server.route("GET", f"{root}/models", self._list_models)
            self.server.route("POST", f"{root}/chat/completions", self.counted(self._chat))
        self.server.set_fallback(self._not_found)

    # --- handlers ---------------------------------------------------------------------------

    def _list_models(self, request: Request) -> HttpReply:
        recorded = self.begin(request, kind="models")
        if (denied := self._check_key(request)) is not None:
            return denied
        match self.play_listing(recorded):
            case Fail() as fail:
                return _error(fail.status, fail.message, retry_after=fail.retry_after)
            case Malformed():
                return Response(
                    body=b'{"object": "list", "data": [{"id"', content_type="application/json"
                )
        owner = {"deepseek": "deepseek"}
        data = [
            {
                "id": model,
                "object": "model",
                "created": 1_700_000_000,
                "owned_by": owner.get(model.split("-")[0], "system"),
            }
            for model in self.models
        ]
        return json_response({"object": "list", "data": data})

    def _chat(self, request: Request) -> HttpReply:
        body = _json_object(request)
        model = str(body.get("model")) if body and body.get("model") is not None else None
        recorded = self.begin(
            request,
            kind="generate",
            model=model,
            last_user_text=_last_user_text(body),
            streamed=bool(body and body.get("stream")),
            attachments=_attachments(body),
        )
        if (denied := self._check_key(request)) is not None:
            return denied
        invalid = _validate(body, self.models) or _validate_parts(body, model, self.vision_models)
        if invalid is not None:
            return invalid
        assert body is not None
        match self.play(recorded, default_reasoning=recorded.model in self.reasoning_models):
            case None:
                return DROP
            case Fail() as fail:
                return _error(fail.status, fail.message, retry_after=fail.retry_after)
            case Malformed():
                return self._malformed(recorded)
            case answer:
                return self._respond(recorded, body, answer)

    def _not_found(self, request: Request) -> HttpReply:
        self.begin(request, kind="other")
        return _error(404, f"Invalid URL ({request.method} {request.path})")

    # --- pieces -----------------------------------------------------------------------------

    def _check_key(self, request: Request) -> HttpReply | None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if not header:
            return _error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            return _error(
                401,
                f"Incorrect API key provided: {_mask(key.strip())}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
            )
        return None

    def _malformed(self, recorded: RecordedRequest) -> HttpReply:
        if recorded.streamed:
            broken = ServerSentEvent(data='{"id": "chatcmpl-broken", "choices": [{"delta": {"cont')
            return sse_response([broken, ServerSentEvent(data="[DONE]")])
        return Response(
            body=b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{',
            content_type="application/json",
        )

    def _respond(
        self,
        recorded: RecordedRequest,
        body: dict[str, Any],
        answer: Answer,
    ) -> HttpReply:
        ident = f"chatcmpl-emu{next(self._ids)}"
        usage = _usage(body, answer)
        if recorded.streamed:
            options = body.get("stream_options")
            include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            events = self._events(
                ident, recorded.model or "", answer, usage if include_usage else None
            )
            return sse_response(events)
        message: dict[str, Any] = {"role": "assistant", "content": answer.text}
        if answer.reasoning_chunks:
            message["reasoning_content"] = answer.reasoning
        payload = {
            "id": ident,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": recorded.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            ],
            "usage": usage,
            "system_fingerprint": "fp_emulator",
        }
        reply = json_response(payload)
        if answer.cut_after is not None:
            return Response(
                body=reply.body,
                content_type=reply.content_type,
                truncate_after=len(reply.body) // 2,
            )
        return reply

    def _events(
        self,
        ident: str,
        model: str,
        answer: Answer,
        usage: dict[str, Any] | None,
    ) -> Iterator[ServerSentEvent | Drop]:
        created = int(time.time())

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> ServerSentEvent:
            payload = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_emulator",
                "choices": choices,
                **extra,
            }
            return ServerSentEvent(
                data=json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            )

        def delta(content: str | None, reasoning: str | None = None) -> dict[str, Any]:
            values: dict[str, Any] = {"content": content}
            if reasoning is not None or answer.reasoning_chunks:
                values["reasoning_content"] = reasoning
            return {"index": 0, "delta": values, "logprobs": None, "finish_reason": None}

        first = delta(
            "" if not answer.reasoning_chunks else None, "" if answer.reasoning_chunks else None
        )
        first["delta"]["role"] = "assistant"
        yield chunk([first])
        for piece in self.paced(answer):
            if piece is None:
                yield DROP
                return
            kind, text = piece
            yield chunk([delta(None, text) if kind == "reasoning" else delta(text)])
        yield chunk(
            [{"index": 0, "delta": {"content": ""}, "logprobs": None, "finish_reason": "stop"}]
        )
        if usage is not None:
            yield chunk([], usage=usage)
        yield ServerSentEvent(data="[DONE]")


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _validate(body: dict[str, Any] | None, models: tuple[str, ...]) -> HttpReply | None:
    """The 400/404 OpenAI gives a request it cannot serve, or None if it is fine."""
    if body is None:
        return _error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly.)",
        )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter")
    if model not in models:
        return _error(404, f"The model `{model}` does not exist or you do not have access to it.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _error(400, "[] is too short - 'messages'")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return _error(400, f"Invalid value for 'messages[{index}].role'.")
    return None


_DATA_URL = re.compile(r"data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)", re.DOTALL)
_MEDIA_PARTS = frozenset({"image_url", "file"})


def _content_parts(body: dict[str, Any] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(role, part)`` for every part of every message whose content is a list."""
    messages = body.get("messages") if body else None
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                yield str(message.get("role")), part if isinstance(part, dict) else {}


def _media(part: dict[str, Any]) -> tuple[str, str | None] | None:
    """The data URL and file name of an ``image_url`` or ``file`` part, if it has one."""
    holder = part.get(part.get("type", ""))
    if not isinstance(holder, dict):
        return None
    url = holder.get("url") if part.get("type") == "image_url" else holder.get("file_data")
    name = holder.get("filename")
    return (url, name if isinstance(name, str) else None) if isinstance(url, str) else None


def _decode_data_url(url: str) -> tuple[str, bytes] | None:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        return None
    try:
        return match["mime"], base64.b64decode(match["data"], validate=True)
    except binascii.Error:
        return None


def _attachments(body: dict[str, Any] | None) -> tuple[SeenAttachment, ...]:
    """Every file carried by ``image_url`` and ``file`` parts, decoded; broken ones skipped."""
    seen: list[SeenAttachment] = []
    for role, part in _content_parts(body):
        media = _media(part) if part.get("type") in _MEDIA_PARTS else None
        decoded = _decode_data_url(media[0]) if media else None
        if media and decoded:
            seen.append(
                SeenAttachment(role=role, mime_type=decoded[0], data=decoded[1], name=media[1])
            )
    return tuple(seen)


def _validate_parts(
    body: dict[str, Any] | None, model: str | None, vision_models: frozenset[str]
) -> HttpReply | None:
    """The 400 for a content part the model cannot take, or a malformed one."""
    for _, part in _content_parts(body):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            continue
        if kind not in _MEDIA_PARTS or model not in vision_models:
            return _error(
                400,
                "Failed to deserialize the JSON body into the target type: messages: unknown "
                f"variant `{kind}`, expected `text`",
            )
        media = _media(part)
        if media is None or _decode_data_url(media[0]) is None:
            return _error(400, f"Invalid {kind}: expected a base64 data: URL.")
    return None


def _last_user_text(body: dict[str, Any] | None) -> str:
    """Text of the last user message; content may be a string or a list of parts."""
    messages = body.get("messages") if body else None
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                )
    return ""


def _usage(body: dict[str, Any], answer: Answer) -> dict[str, Any]:
    if answer.usage is not None:
        prompt, completion = answer.usage
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    prompt = sum(
        estimate_tokens(m["content"]) if isinstance(m.get("content"), str) else 1
        for m in body.get("messages", [])
        if isinstance(m, dict)
    )
    reasoning = estimate_tokens(answer.reasoning)
    completion = estimate_tokens(answer.text) + reasoning
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if reasoning:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def _mask(key: str) -> str:
    """How OpenAI echoes a wrong key: its start and end, stars between."""
    if len(key) <= 8:  # OpenAI shows short keys as stars only
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


def _error(status: int, message: str | None, *, retry_after: float | None = None) -> Response:
    kind, code = _ERROR_TYPES.get(status, ("server_error", None))
    text = message or _DEFAULT_MESSAGES.get(status, f"Error {status}")
    headers: tuple[tuple[str, str], ...] = ()
    if retry_after is not None:
        headers = (
            ("retry-after", f"{retry_after:g}"),
            ("retry-after-ms", str(round(retry_after * 1000))),
        )
    payload = {"error": {"message": text, "type": kind, "param": None, "code": code}}
    return json_response(payload, status, headers=headers)
