"""Move ``<think>...</think>`` blocks out of streamed answer text into reasoning.

Models served through OpenAI-compatible servers (DeepSeek-R1 distills, QwQ, Qwen3 on vLLM or
Ollama) often put their reasoning inline in the content, wrapped in ``<think>`` tags. The tags
arrive split at arbitrary points across stream chunks (``"<thi"`` + ``"nk>"``), so the splitter
holds back only the few characters that might still become a tag and releases everything else
at once: the user sees text as soon as it cannot be part of a tag.
"""

from __future__ import annotations

from actors.llm.wire import ReasoningDelta, TextDelta

_OPEN = "<think>"
_CLOSE = "</think>"


class ThinkSplitter:
    """Stateful splitter for one stream; feed it every content chunk, then call :meth:`flush`.

    Whitespace right after a closing tag is dropped: models put a blank line there that would
    otherwise start the visible answer. An unclosed block at the end of the stream counts as
    reasoning, which is what the model meant.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._inside = False
        self._strip_leading = False

    def feed(self, text: str) -> list[TextDelta | ReasoningDelta]:
        """Split one content chunk; returns the pieces that are certain, in order."""
        out: list[TextDelta | ReasoningDelta] = []
        buffer = self._pending + text
        while True:
            tag = _CLOSE if self._inside else _OPEN
            index = buffer.find(tag)
            if index < 0:
                keep = _partial_tag_length(buffer, tag)
                self._emit(out, buffer[: len(buffer) - keep])
                self._pending = buffer[len(buffer) - keep :]
                return out
            self._emit(out, buffer[:index])
            buffer = buffer[index + len(tag) :]
            self._strip_leading = self._inside
            self._inside = not self._inside

    def flush(self) -> list[TextDelta | ReasoningDelta]:
        """Release what was held back as a possible tag: the stream ended, so it was not one."""
        out: list[TextDelta | ReasoningDelta] = []
        self._emit(out, self._pending)
        self._pending = ""
        return out

    def _emit(self, out: list[TextDelta | ReasoningDelta], text: str) -> None:
        if self._strip_leading and not self._inside:
            text = text.lstrip()
            if text:
                self._strip_leading = False
        if not text:
            return
        if self._inside:
            if out and isinstance(out[-1], ReasoningDelta):
                out[-1] = ReasoningDelta(text=out[-1].text + text)
            else:
                out.append(ReasoningDelta(text=text))
        elif out and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(text=out[-1].text + text)
        else:
            out.append(TextDelta(text=text))


def _partial_tag_length(buffer: str, tag: str) -> int:
    """Length of the longest suffix of ``buffer`` that is a proper prefix of ``tag``."""
    for length in range(min(len(tag) - 1, len(buffer)), 0, -1):
        if tag.startswith(buffer[-length:]):
            return length
    return 0
