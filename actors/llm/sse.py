"""Server-sent events, as both provider APIs stream their answers.

Only the parts of the WHATWG algorithm that LLM APIs use: ``data:`` lines (several joined with
a newline), ``event:``, comments and blank-line dispatch. An event still open when the stream
ends is dropped, as the standard says: a connection cut in the middle of an event must read as
an interrupted stream, not as a malformed chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, AsyncIterator


class ServerSentEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One dispatched event; ``event`` is "message" unless the server named it."""

    data: str
    event: str = "message"


async def iter_events(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    """Turn decoded lines (line breaks removed) into events, in order."""
    data: list[str] = []
    event = ""
    async for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(data="\n".join(data), event=event or "message")
            data, event = [], ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
        # "id", "retry" and unknown fields carry nothing an LLM API needs.
