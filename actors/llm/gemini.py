"""The Google AI Studio (Generative Language API) wire format for Gemini models.

Differences from OpenAI's that matter here: the system prompt travels apart from the turns
(``systemInstruction``), the assistant's role is ``model``, thoughts are parts flagged
``"thought": true`` and only sent when asked for (``includeThoughts``), the stream simply ends
after the chunk carrying ``finishReason``, and a wrong API key is a 400 whose details say
``API_KEY_INVALID``. The key travels in the ``x-goog-api-key`` header, never in the URL, so it
cannot leak through a logged URL.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

import msgspec

from actors.errors import AuthenticationFailed, ProviderError, RequestRejected, StreamInterrupted
from actors.llm.failures import (
    bad_response,
    body_excerpt,
    error_body,
    retry_after_from_headers,
    status_error,
)
from actors.llm.wire import ModelInfo, ReasoningDelta, StreamItem, TextDelta, Turn, Usage

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_MODEL_PREFIX = "models/"
_PAGE_SIZE = "1000"
_GENERATE = "generateContent"
_INVALID_KEY_REASON = "API_KEY_INVALID"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_ROLES = {"user": "user", "assistant": "model"}


class _Part(msgspec.Struct, rename="camel"):
    text: str | None = None
    thought: bool = False


class _Content(msgspec.Struct, rename="camel"):
    parts: list[_Part] = []


class _Candidate(msgspec.Struct, rename="camel"):
    index: int = 0
    content: _Content | None = None
    finish_reason: str | None = None


class _UsageMetadata(msgspec.Struct, rename="camel"):
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    thoughts_token_count: int = 0


class _PromptFeedback(msgspec.Struct, rename="camel"):
    block_reason: str | None = None


class _Error(msgspec.Struct, rename="camel"):
    code: int = 0
    message: str = ""
    status: str = ""


class _Response(msgspec.Struct, rename="camel"):
    candidates: list[_Candidate] = []
    usage_metadata: _UsageMetadata | None = None
    prompt_feedback: _PromptFeedback | None = None
    error: _Error | None = None


class _Model(msgspec.Struct, rename="camel"):
    name: str
    display_name: str = ""
    supported_generation_methods: list[str] = []


class _ModelList(msgspec.Struct, rename="camel"):
    models: list[_Model] = []
    next_page_token: str | None = None


_response_decoder = msgspec.json.Decoder(_Response)
_models_decoder = msgspec.json.Decoder(_ModelList)


class GeminiStreamDecoder:
    """Decodes one ``streamGenerateContent?alt=sse`` stream; complete once a finish reason came."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._complete = False
        self._usage: Usage | None = None

    def feed(self, data: str) -> list[StreamItem]:
        """Items in one ``GenerateContentResponse`` (see ``actors.llm.dialect.StreamDecoder``)."""
        try:
            response = _response_decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise bad_response(self._provider, f"stream chunk: {exc}") from exc
        if response.error is not None:
            raise _stream_error(self._provider, response.error)
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            raise RequestRejected(
                f"{self._provider}: prompt blocked ({feedback.block_reason})",
                provider=self._provider,
            )
        if response.usage_metadata is not None:
            meta = response.usage_metadata
            self._usage = Usage(
                tokens_in=meta.prompt_token_count,
                tokens_out=meta.candidates_token_count + meta.thoughts_token_count,
            )
        items: list[StreamItem] = []
        for candidate in response.candidates:
            if candidate.index == 0:
                items.extend(self._candidate_items(candidate))
        return items

    def _candidate_items(self, candidate: _Candidate) -> list[StreamItem]:
        if candidate.finish_reason is not None:
            self._complete = True
        if candidate.content is None:
            return []
        return [
            ReasoningDelta(text=part.text) if part.thought else TextDelta(text=part.text)
            for part in candidate.content.parts
            if part.text
        ]

    def finish(self) -> list[StreamItem]:
        """Usage; raises :class:`StreamInterrupted` if no chunk carried a finish reason."""
        if not self._complete:
            raise StreamInterrupted(
                f"{self._provider}: stream ended before the answer was complete",
                provider=self._provider,
            )
        return [self._usage] if self._usage is not None else []


class GeminiDialect:
    """``{base_url}/models/{model}:streamGenerateContent?alt=sse``, models at ``{base_url}/models``.

    Args:
        provider: Name used in errors.
        api_key: Sent as ``x-goog-api-key``.
        include_thoughts: Ask thinking models to stream their thought summaries.
    """

    def __init__(self, *, provider: str, api_key: str, include_thoughts: bool = True) -> None:
        self._provider = provider
        self._api_key = api_key
        self._include_thoughts = include_thoughts

    def headers(self) -> dict[str, str]:
        """Header authentication, which keeps the key out of URLs."""
        return {"x-goog-api-key": self._api_key}

    def models_request(self, page_token: str | None) -> tuple[str, dict[str, str]]:
        """One page of the paginated model list."""
        params = {"pageSize": _PAGE_SIZE}
        if page_token:
            params["pageToken"] = page_token
        return "models", params

    def parse_models(self, body: bytes) -> tuple[tuple[ModelInfo, ...], str | None]:
        """Models that can generate content (embedding models are left out)."""
        try:
            listing = _models_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise bad_response(self._provider, f"model list: {exc}") from exc
        models = tuple(
            ModelInfo(
                id=m.name.removeprefix(_MODEL_PREFIX),
                display_name=m.display_name or m.name.removeprefix(_MODEL_PREFIX),
            )
            for m in listing.models
            if _GENERATE in m.supported_generation_methods
        )
        return models, listing.next_page_token or None

    def stream_request(self, model: str, turns: Sequence[Turn]) -> tuple[str, dict[str, Any]]:
        """System turns become ``systemInstruction``; consecutive same-role turns are merged."""
        system = [turn.text for turn in turns if turn.role == "system"]
        contents: list[dict[str, Any]] = []
        for turn in turns:
            if turn.role == "system":
                continue
            role = _ROLES[turn.role]
            if contents and contents[-1]["role"] == role:
                contents[-1]["parts"].extend(_parts(turn))
            else:
                contents.append({"role": role, "parts": _parts(turn)})
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": text} for text in system]}
        if self._include_thoughts:
            body["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
        name = model.removeprefix(_MODEL_PREFIX)
        return f"models/{name}:streamGenerateContent?alt=sse", body

    def stream_decoder(self) -> GeminiStreamDecoder:
        """A fresh decoder for one attempt."""
        return GeminiStreamDecoder(self._provider)

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """From ``{"error": {"code", "message", "status", "details"}}``, or the raw body."""
        detail = error_body(body)
        message = str(detail.get("message") or "") if detail else body_excerpt(body)
        if detail.get("status"):
            message = f"{detail['status']}: {message}"
        if _INVALID_KEY_REASON in _detail_reasons(detail):
            return AuthenticationFailed(
                f"{self._provider}: HTTP {status}: {message}", provider=self._provider
            )
        retry_after = retry_after_from_headers(headers)
        if retry_after is None:
            retry_after = _retry_delay(detail)
        return status_error(self._provider, status, message, retry_after=retry_after)


def _parts(turn: Turn) -> list[dict[str, Any]]:
    """A turn's attachments as ``inlineData`` parts (first, as Google advises), then its text.

    An empty text is left out when there are attachments: a part must carry something.
    """
    parts: list[dict[str, Any]] = [
        {
            "inlineData": {
                "mimeType": attachment.mime_type,
                "data": base64.b64encode(attachment.data).decode("ascii"),
            }
        }
        for attachment in turn.attachments
    ]
    if turn.text or not parts:
        parts.append({"text": turn.text})
    return parts


def _detail_reasons(detail: Mapping[str, Any]) -> set[str]:
    details = detail.get("details")
    if not isinstance(details, list):
        return set()
    return {str(d["reason"]) for d in details if isinstance(d, dict) and "reason" in d}


def _retry_delay(detail: Mapping[str, Any]) -> float | None:
    """Google's ``RetryInfo.retryDelay`` ("24s"), sent on 429 instead of a Retry-After header."""
    details = detail.get("details")
    if not isinstance(details, list):
        return None
    for item in details:
        if isinstance(item, dict) and item.get("@type") == _RETRY_INFO:
            match = _DURATION.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _stream_error(provider: str, error: _Error) -> ProviderError:
    """An error Google reported inside a 200 stream (quota hit mid-answer, overload)."""
    message = f"{error.status}: {error.message}" if error.status else error.message
    return status_error(provider, error.code or 500, f"in stream: {message}")
