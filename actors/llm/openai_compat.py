"""The OpenAI chat-completions wire format, as DeepSeek, OpenRouter, vLLM and Ollama speak it.

Reasoning arrives as ``delta.reasoning_content`` (DeepSeek), ``delta.reasoning`` (OpenRouter,
newer vLLM) or inline ``<think>`` tags in the content (many open models); all three become
:class:`ReasoningDelta`. Usage is asked for with ``stream_options.include_usage`` and reported
once, at the end, from the last chunk that carried it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import msgspec

from actors.errors import ProviderError, ProviderUnavailable, StreamInterrupted
from actors.llm.failures import (
    bad_response,
    body_excerpt,
    error_body,
    retry_after_from_headers,
    status_error,
)
from actors.llm.think import ThinkSplitter
from actors.llm.wire import Attachment, ModelInfo, ReasoningDelta, StreamItem, Turn, Usage

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_DONE = "[DONE]"
_MIN_STATUS = 400
_MAX_STATUS = 599


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class _Choice(msgspec.Struct):
    index: int = 0
    delta: _Delta | None = None
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Error(msgspec.Struct):
    message: str = ""
    code: int | str | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _Usage | None = None
    error: _Error | None = None


class _Model(msgspec.Struct):
    id: str


class _ModelList(msgspec.Struct):
    data: list[_Model]


_chunk_decoder = msgspec.json.Decoder(_Chunk)
_models_decoder = msgspec.json.Decoder(_ModelList)


class OpenAIStreamDecoder:
    """Decodes one ``chat.completion.chunk`` stream; complete at ``[DONE]`` or a finish reason.

    Some compatible servers omit ``[DONE]``, so a finish reason alone also marks the answer
    complete; a stream with neither was cut.
    """

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._think = ThinkSplitter()
        self._complete = False
        self._usage: Usage | None = None

    def feed(self, data: str) -> list[StreamItem]:
        """Items in one ``data:`` payload (see :class:`actors.llm.dialect.StreamDecoder`)."""
        if data.strip() == _DONE:
            self._complete = True
            return []
        try:
            chunk = _chunk_decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise bad_response(self._provider, f"stream chunk: {exc}") from exc
        if chunk.error is not None:
            raise _stream_error(self._provider, chunk.error)
        if chunk.usage is not None:
            self._usage = Usage(
                tokens_in=chunk.usage.prompt_tokens, tokens_out=chunk.usage.completion_tokens
            )
        items: list[StreamItem] = []
        for choice in chunk.choices:
            if choice.index == 0:  # we never ask for n > 1; ignore stray alternatives
                items.extend(self._choice_items(choice))
        return items

    def _choice_items(self, choice: _Choice) -> list[StreamItem]:
        items: list[StreamItem] = []
        if choice.finish_reason is not None:
            self._complete = True
        delta = choice.delta
        if delta is None:
            return items
        reasoning = delta.reasoning_content or delta.reasoning
        if reasoning:
            items.append(ReasoningDelta(text=reasoning))
        if delta.content:
            items.extend(self._think.feed(delta.content))
        return items

    def finish(self) -> list[StreamItem]:
        """Held-back text and usage; raises :class:`StreamInterrupted` if the answer was cut."""
        if not self._complete:
            raise StreamInterrupted(
                f"{self._provider}: stream ended before the answer was complete",
                provider=self._provider,
            )
        items: list[StreamItem] = list(self._think.flush())
        if self._usage is not None:
            items.append(self._usage)
        return items


class OpenAIDialect:
    """Chat completions over ``{base_url}/chat/completions``, models at ``{base_url}/models``."""

    def __init__(self, *, provider: str, api_key: str) -> None:
        self._provider = provider
        self._api_key = api_key

    def headers(self) -> dict[str, str]:
        """Bearer authentication, as every OpenAI-compatible server expects."""
        return {"Authorization": f"Bearer {self._api_key}"}

    def models_request(self, page_token: str | None) -> tuple[str, dict[str, str]]:  # noqa: ARG002
        """The single, unpaginated model list."""
        return "models", {}

    def parse_models(self, body: bytes) -> tuple[tuple[ModelInfo, ...], str | None]:
        """Model ids; these APIs have no display names, so the id doubles as one."""
        try:
            listing = _models_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise bad_response(self._provider, f"model list: {exc}") from exc
        return tuple(ModelInfo(id=m.id, display_name=m.id) for m in listing.data), None

    def stream_request(self, model: str, turns: Sequence[Turn]) -> tuple[str, dict[str, Any]]:
        """A streaming chat completion asking for usage in the last chunk."""
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": turn.role, "content": _content(turn)} for turn in turns],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        return "chat/completions", body

    def stream_decoder(self) -> OpenAIStreamDecoder:
        """A fresh decoder for one attempt."""
        return OpenAIStreamDecoder(self._provider)

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> ProviderError:
        """From ``{"error": {"message", "type", "code"}}``, or the raw body if not that shape."""
        detail = error_body(body)
        message = str(detail.get("message") or "") if detail else body_excerpt(body)
        return status_error(
            self._provider, status, message, retry_after=retry_after_from_headers(headers)
        )


def _content(turn: Turn) -> str | list[dict[str, Any]]:
    """A plain string, or, when the turn carries attachments, a list of content parts.

    Images become ``image_url`` parts holding a ``data:`` URL (what vision models read);
    anything else becomes a ``file`` part, OpenAI's form for PDFs. Which attachments reach
    this point is decided beforehand (``actors.files``), by what the model is known to read.
    """
    if not turn.attachments:
        return turn.text
    parts: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
    for attachment in turn.attachments:
        url = _data_url(attachment)
        if attachment.mime_type.startswith("image/"):
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            name = attachment.name or "file"
            parts.append({"type": "file", "file": {"filename": name, "file_data": url}})
    return parts


def _data_url(attachment: Attachment) -> str:
    encoded = base64.b64encode(attachment.data).decode("ascii")
    return f"data:{attachment.mime_type};base64,{encoded}"


def _stream_error(provider: str, error: _Error) -> ProviderError:
    """An error the server reported inside a 200 stream (OpenRouter, vLLM do this)."""
    if isinstance(error.code, int) and _MIN_STATUS <= error.code <= _MAX_STATUS:
        return status_error(provider, error.code, error.message)
    return ProviderUnavailable(f"{provider}: error in stream: {error.message}", provider=provider)
