"""iter_events: the parts of server-sent events that LLM APIs use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from actors.llm.sse import ServerSentEvent, iter_events

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio


async def events_of(*lines: str) -> list[ServerSentEvent]:
    async def source() -> AsyncIterator[str]:
        for line in lines:
            yield line

    return [event async for event in iter_events(source())]


async def test_each_blank_line_dispatches_the_data_before_it() -> None:
    assert await events_of("data: one", "", "data: two", "") == [
        ServerSentEvent(data="one"),
        ServerSentEvent(data="two"),
    ]


async def test_several_data_lines_join_with_newlines_and_one_leading_space_is_dropped() -> None:
    assert await events_of("data:a", "data:  b", "") == [ServerSentEvent(data="a\n b")]


async def test_comments_ids_and_unknown_fields_are_ignored_and_event_names_kept() -> None:
    lines = (": keep-alive", "id: 7", "retry: 10", "event: error", "data: x", "junk", "")

    assert await events_of(*lines) == [ServerSentEvent(data="x", event="error")]


async def test_an_event_left_open_when_the_stream_ends_is_dropped() -> None:
    assert await events_of("data: complete", "", 'data: {"trunc') == [
        ServerSentEvent(data="complete")
    ]


async def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert await events_of("", "", "event: ping", "") == []
