"""The Gemini API as Google AI Studio serves it (``generativelanguage.googleapis.com/v1beta``).

Serves, under :attr:`GeminiEmulator.base_url` (``.../v1beta``):

* ``GET models`` (paginated with ``pageSize``/``pageToken``) and ``GET models/{model}``;
* ``POST models/{model}:generateContent``;
* ``POST models/{model}:streamGenerateContent?alt=sse``: one ``data: {GenerateContentResponse}``
  event per chunk, ``\\r\\n``-terminated as Google sends them; the last chunk carries
  ``finishReason`` and the full ``usageMetadata``, then the stream simply ends. Without
  ``alt=sse`` the same chunks come as one JSON array, as the real API does.

Requests carry ``contents[{role: user|model, parts: [{text} | {inline_data}]}]`` and optionally
``systemInstruction``; thought parts (``"thought": true``) are only sent when the request asks
with ``generationConfig.thinkingConfig.includeThoughts``. Inline data (``inlineData`` or
``inline_data``, with ``mimeType``/``mime_type`` and base64 ``data``) must be of a type the
multimodal models take (PDF, images, audio; Google answers 400 otherwise, and for data that is
not base64); what arrives is decoded into :attr:`RecordedRequest.attachments`.

The key is accepted from the ``x-goog-api-key`` header or ``?key=``. Errors have Google's
shape, ``{"error": {"code", "message", "status", "details"}}``: a wrong key is a 400 whose
details say ``API_KEY_INVALID``, a missing one a 403, and a 429 carries
``RetryInfo.retryDelay`` rather than a Retry-After header.

Behaviour is scripted exactly as for the OpenAI emulator (see ``llm_script``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import itertools
import json
from typing import TYPE_CHECKING, Any

from tests.emulators._http import DROP, EventStream, Response, json_response, sse_response
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

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_GENERATION_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
_DEFAULT_PAGE_SIZE = 50
_ROLES = frozenset({"user", "model"})


class GeminiEmulator(LLMEmulator):
    """Google AI Studio Gemini emulator; use as a context manager.

    Args:
        api_key: The only key accepted.
        models: Generative model ids (without ``models/``) listed and accepted.
        embedding_models: Listed only (they cannot ``generateContent``), as the real list
            mixes them in; clients must filter them out.
        max_page_size: Cap on ``pageSize``, lowered by tests to exercise pagination.
        host: Address to bind.
        port: Port to bind; 0 picks a free one.
    """

    def __init__(
        self,
        *,
        api_key: str = "gemini-test-key",
        models: Sequence[str] = ("gemini-2.5-flash", "gemini-2.5-pro"),
        embedding_models: Sequence[str] = ("text-embedding-004",),
        max_page_size: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            api_key=api_key,
            models=models,
            name="gemini-emu",
            prefix="/v1beta",
            host=host,
            port=port,
        )
        self.embedding_models = tuple(embedding_models)
        self.max_page_size = max_page_size
        self._ids = itertools.count(1)
        self.server.route("GET", "/v1beta/models", self._list_models)
        self.server.route("GET,POST", "/v1beta/models/{target}", self._model)
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
                    body=b'{"models": [{"name": "models/', content_type="application/json"
                )
        entries = [_model_entry(m, generative=True) for m in self.models]
        entries += [_model_entry(m, generative=False) for m in self.embedding_models]
        try:
            size = int(request.query.get("pageSize") or _DEFAULT_PAGE_SIZE)
            start = int(request.query.get("pageToken") or 0)
        except ValueError:
            return _error(400, "Invalid page token or size.")
        size = max(1, min(size, self.max_page_size))
        payload: dict[str, Any] = {"models": entries[start : start + size]}
        if start + size < len(entries):
            payload["nextPageToken"] = str(start + size)
        return json_response(payload)

    def _model(self, request: Request) -> HttpReply:
        name, _, method = request.path_params["target"].partition(":")
        if request.method == "GET" and not method:
            self.begin(request, kind="models", model=name)
            if (denied := self._check_key(request)) is not None:
                return denied
            if name in self.models:
                return json_response(_model_entry(name, generative=True))
            return _error(404, f"models/{name} is not found for API version v1beta.")
        if request.method == "POST" and method in {"generateContent", "streamGenerateContent"}:
            generate = self.counted(
                functools.partial(
                    self._generate, model=name, streamed=method == "streamGenerateContent"
                )
            )
            return generate(request)
        return self._not_found(request)

    def _generate(self, request: Request, *, model: str, streamed: bool) -> HttpReply:
        body = _json_object(request)
        recorded = self.begin(
            request,
            kind="generate",
            model=model,
            last_user_text=_last_user_text(body),
            streamed=streamed,
            attachments=_attachments(body),
        )
        if (denied := self._check_key(request)) is not None:
            return denied
        invalid = _validate(body, model, self.models) or _validate_inline_data(body)
        if invalid is not None:
            return invalid
        assert body is not None
        thoughts = _wants_thoughts(body)
        match self.play(recorded, default_reasoning=thoughts):
            case None:
                return DROP
            case Fail() as fail:
                return _error(fail.status, fail.message, retry_after=fail.retry_after)
            case Malformed():
                return self._malformed(recorded)
            case answer:
                if not thoughts:  # Google sends thoughts only to those who ask
                    answer = dataclasses.replace(answer, reasoning_chunks=())
                return self._respond(recorded, body, answer)

    def _not_found(self, request: Request) -> HttpReply:
        self.begin(request, kind="other")
        return _error(404, f"Method not found: {request.method} {request.path}")

    # --- pieces -----------------------------------------------------------------------------

    def _check_key(self, request: Request) -> HttpReply | None:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if not key:
            return _error(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != self.api_key:
            return _error(
                400,
                "API key not valid. Please pass a valid API key.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        return None

    def _malformed(self, recorded: RecordedRequest) -> HttpReply:
        broken = b'{"candidates": [{"content": {"parts": [{"text": "Echo'
        if recorded.streamed and recorded.query.get("alt") == "sse":
            return sse_response([b"data: " + broken + b"\r\n\r\n"])
        return Response(body=broken, content_type="application/json")

    def _respond(
        self, recorded: RecordedRequest, body: dict[str, Any], answer: Answer
    ) -> HttpReply:
        model = recorded.model or ""
        usage = _usage(body, answer)
        response_id = f"emu-{next(self._ids)}"
        if not recorded.streamed:
            parts = [{"text": answer.reasoning, "thought": True}] if answer.reasoning_chunks else []
            parts.append({"text": answer.text})
            payload = _response(parts, model, response_id, usage, finish=True)
            reply = json_response(payload)
            if answer.cut_after is not None:
                return Response(
                    body=reply.body,
                    content_type=reply.content_type,
                    truncate_after=len(reply.body) // 2,
                )
            return reply
        chunks = self._chunks(model, response_id, usage, answer)
        if recorded.query.get("alt") == "sse":
            return sse_response(_as_sse(chunks))
        return EventStream(events=_as_json_array(chunks), content_type="application/json")

    def _chunks(
        self, model: str, response_id: str, usage: dict[str, int], answer: Answer
    ) -> Iterator[dict[str, Any] | Drop]:
        prompt_only = {
            "promptTokenCount": usage["promptTokenCount"],
            "totalTokenCount": usage["promptTokenCount"],
        }
        for piece in self.paced(answer):
            if piece is None:
                yield DROP
                return
            kind, text = piece
            part: dict[str, Any] = (
                {"text": text, "thought": True} if kind == "reasoning" else {"text": text}
            )
            yield _response([part], model, response_id, prompt_only, finish=False)
        yield _response([{"text": ""}], model, response_id, usage, finish=True)


def _as_sse(chunks: Iterator[dict[str, Any] | Drop]) -> Iterator[bytes | Drop]:
    for chunk in chunks:
        if isinstance(chunk, dict):
            yield b"data: " + _dumps(chunk) + b"\r\n\r\n"
        else:
            yield chunk


def _as_json_array(chunks: Iterator[dict[str, Any] | Drop]) -> Iterator[bytes | Drop]:
    separator = b"["
    for chunk in chunks:
        if not isinstance(chunk, dict):
            yield chunk
            return
        yield separator + _dumps(chunk)
        separator = b",\r\n"
    yield b"]" if separator != b"[" else b"[]"


def _response(
    parts: list[dict[str, Any]],
    model: str,
    response_id: str,
    usage: dict[str, int],
    *,
    finish: bool,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": response_id,
    }


def _model_entry(model: str, *, generative: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"models/{model}",
        "version": "001",
        "displayName": " ".join(word.capitalize() for word in model.split("-")),
        "description": f"Emulated {model}",
        "inputTokenLimit": 1_048_576 if generative else 2048,
        "outputTokenLimit": 65_536 if generative else 1,
        "supportedGenerationMethods": _GENERATION_METHODS if generative else ["embedContent"],
    }
    if generative:
        entry |= {"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": True}
    return entry


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _validate(body: dict[str, Any] | None, model: str, models: tuple[str, ...]) -> HttpReply | None:
    """The 400/404 Google gives a request it cannot serve, or None if it is fine."""
    if body is None:
        return _error(400, "Invalid JSON payload received. Unexpected token.")
    if model not in models:
        return _error(
            404,
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models and their "
            "supported methods.",
        )
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return _error(400, "* GenerateContentRequest.contents: contents is not specified\n")
    for content in contents:
        if not isinstance(content, dict) or content.get("role", "user") not in _ROLES:
            return _error(400, "Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            return _error(
                400, "* GenerateContentRequest.contents.parts: contents.parts must not be empty.\n"
            )
    return None


_INLINE_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/heic",
        "image/heif",
        "audio/wav",
        "audio/mp3",
        "audio/mpeg",
        "audio/aiff",
        "audio/aac",
        "audio/ogg",
        "audio/flac",
        "text/plain",
    }
)


def _inline_parts(body: dict[str, Any] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(role, inline data)`` for every inline-data part, in either spelling."""
    contents = body.get("contents") if body else None
    for content in contents if isinstance(contents, list) else ():
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            inline = (
                (part.get("inlineData") or part.get("inline_data"))
                if isinstance(part, dict)
                else None
            )
            if inline is not None:
                yield str(content.get("role", "user")), inline if isinstance(inline, dict) else {}


def _decoded(inline: dict[str, Any]) -> tuple[str, bytes] | None:
    mime = inline.get("mimeType") or inline.get("mime_type")
    data = inline.get("data")
    if not isinstance(mime, str) or not isinstance(data, str):
        return None
    try:
        return mime, base64.b64decode(data, validate=True)
    except binascii.Error:
        return None


def _attachments(body: dict[str, Any] | None) -> tuple[SeenAttachment, ...]:
    """Every inline file the request carried, decoded; broken ones skipped."""
    seen: list[SeenAttachment] = []
    for role, inline in _inline_parts(body):
        decoded = _decoded(inline)
        if decoded is not None:
            seen.append(SeenAttachment(role=role, mime_type=decoded[0], data=decoded[1]))
    return tuple(seen)


def _validate_inline_data(body: dict[str, Any] | None) -> HttpReply | None:
    """Google's 400 for inline data that is not base64 or of a type the model cannot take."""
    for _, inline in _inline_parts(body):
        decoded = _decoded(inline)
        if decoded is None:
            return _error(
                400,
                "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES), "
                "Base64 decoding failed",
            )
        if decoded[0] not in _INLINE_TYPES:
            return _error(400, f"Unsupported MIME type: {decoded[0]}")
    return None


def _last_user_text(body: dict[str, Any] | None) -> str:
    contents = body.get("contents") if body else None
    if not isinstance(contents, list):
        return ""
    for content in reversed(contents):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            parts = content.get("parts")
            if isinstance(parts, list):
                return "".join(str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p)
    return ""


def _wants_thoughts(body: dict[str, Any]) -> bool:
    config = body.get("generationConfig")
    thinking = config.get("thinkingConfig") if isinstance(config, dict) else None
    return isinstance(thinking, dict) and thinking.get("includeThoughts") is True


def _texts(value: Any) -> list[str]:
    """Every ``text`` inside a content or list of contents."""
    if isinstance(value, dict):
        return [
            str(p["text"]) for p in value.get("parts", []) if isinstance(p, dict) and "text" in p
        ]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _usage(body: dict[str, Any], answer: Answer) -> dict[str, int]:
    if answer.usage is not None:
        prompt, candidates = answer.usage
        return {
            "promptTokenCount": prompt,
            "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates,
        }
    prompt = sum(estimate_tokens(text) for text in _texts(body.get("contents")))
    prompt += sum(estimate_tokens(text) for text in _texts(body.get("systemInstruction")))
    candidates = estimate_tokens(answer.text)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates,
    }
    if answer.reasoning_chunks:
        thoughts = estimate_tokens(answer.reasoning)
        usage["thoughtsTokenCount"] = thoughts
        usage["totalTokenCount"] += thoughts
    return usage


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(
    status: int,
    message: str | None,
    *,
    retry_after: float | None = None,
    details: list[dict[str, Any]] | None = None,
) -> Response:
    error: dict[str, Any] = {
        "code": status,
        "message": message or _DEFAULT_MESSAGES.get(status, f"Error {status}"),
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
    }
    details = list(details or [])
    if retry_after is not None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{retry_after:.3f}s",
            }
        )
    if details:
        error["details"] = details
    return json_response({"error": error}, status)
